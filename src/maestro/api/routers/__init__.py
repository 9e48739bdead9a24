"""One router module per area; registered in :data:`maestro.api.app.ROUTER_MODULES`."""
