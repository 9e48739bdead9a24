"""Sinks as plug-ins: ``studio.sink = "package.module:factory"`` with ``studio.sink_options``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError
from tests.integration.cycles.conftest import StudioFactory
from tests.integration.cycles.plugin_sinks import PublishOnly, RecordingSink

from maestro.cycles.settings import StudioSettings
from maestro.cycles.simclock import SimulatedClock
from maestro.cycles.sinks import PushedMetrics
from maestro.errors import ConfigurationError
from maestro.memory.posts import PostMetricsRepo

PLUGINS = "tests.integration.cycles.plugin_sinks"


async def test_a_plugin_sink_publishes_the_burst_and_reports_its_metrics(
    make_studio: StudioFactory,
) -> None:
    settings = StudioSettings(
        brands=("alpha",),
        sink=f"{PLUGINS}:RecordingSink",
        sink_options={"engagement": 0.07},
    )
    studio, _driver, engine = await make_studio(studio=settings)
    sink = studio.ctx.sink
    assert isinstance(sink, RecordingSink) and studio.ctx.source is sink
    assert sink.engine is engine
    report = await studio.burst(engine.clock.now())
    assert report.published == 6 and len(sink.items) == 6
    assert isinstance(engine.clock, SimulatedClock)
    engine.clock.advance(3 * 3600)  # past metrics maturity
    assert await studio.metrics(engine.clock.now()) == 6
    harvested = await studio.ctx.items.list_items(studio.ctx.workspace_id, status="published")
    posts = PostMetricsRepo(engine.db, engine.clock)
    for item in harvested:
        assert item.post_id is not None
        post = await posts.get(studio.ctx.workspace_id, item.post_id)
        assert post.engagement == pytest.approx(0.07)
    assert {i.external_id for i in harvested} == {f"rec-{n}" for n in range(1, 7)}


async def test_a_publish_only_plugin_gets_its_metrics_through_the_api(
    make_studio: StudioFactory,
) -> None:
    studio, _driver, engine = await make_studio(
        studio=StudioSettings(brands=("alpha",), sink=f"{PLUGINS}:PublishOnly")
    )
    assert isinstance(studio.ctx.sink, PublishOnly)
    assert isinstance(studio.ctx.source, PushedMetrics)
    await studio.burst(engine.clock.now())
    assert studio.ctx.sink.published == 6


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        (f"{PLUGINS}:Missing", "cannot be loaded"),
        ("no_such_package.sinks:Sink", "cannot be loaded"),
        (f"{PLUGINS}:not_a_sink", "returned object"),
        (f"{PLUGINS}:broken", "failed to start: RuntimeError: no credentials"),
    ],
)
async def test_a_plugin_that_cannot_serve_is_refused_naming_the_setting(
    make_studio: StudioFactory, sink: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await make_studio(studio=StudioSettings(brands=("alpha",), sink=sink))
    assert caught.value.field == "studio.sink" and message in caught.value.message


@pytest.mark.parametrize("sink", ["slack", "pkg.module", "pkg:", ":factory", "a b:c"])
def test_a_sink_that_is_neither_builtin_nor_a_plugin_path_is_a_settings_error(sink: str) -> None:
    with pytest.raises(PydanticValidationError) as caught:
        StudioSettings(brands=("alpha",), sink=sink)
    assert caught.value.errors()[0]["loc"] == ("sink",)
