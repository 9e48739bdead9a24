"""The dashboard in a real headless Chromium, against a real uvicorn server.

A temporary SQLite database is seeded through the product's own code (the
population store, the pattern store, the gateway, the API), the server runs in a
thread on a free port, and Playwright drives Debian's Chromium
(``MAESTRO_TEST_CHROMIUM``, default ``/usr/bin/chromium``). Without Chromium the
tests skip locally and fail under CI. ``MAESTRO_DASHBOARD_SCREENSHOT=<path>``
saves a screenshot of the filled page (how docs/img/dashboard.png is made).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from tests.conftest import IN_CI, require_program

from maestro.agents.content import ContentAgent
from maestro.agents.evolution import found_population
from maestro.agents.population_store import PopulationStore
from maestro.agents.strategies import DEFAULT_STRATEGIES
from maestro.api.app import create_app
from maestro.config import Settings
from maestro.cycles.items import ItemRecord, ItemStore, NewItem
from maestro.cycles.lease import StudioLease
from maestro.cycles.runner import LEASE_SECONDS
from maestro.engine import Maestro
from maestro.learning.bandits.linear import LinearThompson
from maestro.learning.bandits.stationary import Thompson
from maestro.learning.policy_store import PolicyStore
from maestro.llm.types import CompletionRequest
from maestro.memory.patterns import PatternStore

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MAESTRO_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOT = os.environ.get("MAESTRO_DASHBOARD_SCREENSHOT")
PATTERN = "'story' beats the fitbrand average by 42% over 9 posts"
FADING = "'listicle' beats the _global_ average by 31% over 5 posts"
REVIEW = {"name": "review", "condition": "before_execution", "description": "Check the draft"}
STARTUP_SECONDS = 30.0
T = TypeVar("T")
SEQ = itertools.count(1)
STRATEGIES = [s.name for s in DEFAULT_STRATEGIES]
LEARNED = "fitbrand"
"""The brand whose linear learner the seed stores: 'story' clearly best, 'contrarian' worst."""
LEARNED_DAYS = 20
LEARNED_PUBLISHED = {"story": 2, "how-to": 1, "listicle": 1}
PLAIN = "runbrand"
"""The brand whose plain Thompson learner the seed stores (no lift estimate)."""
PLAIN_PUBLISHED = {"how-to": 3, "question": 1}


@dataclass(frozen=True)
class Site:
    """A running server on a seeded database."""

    url: str
    key: str
    workspace: str
    agents: list[ContentAgent]
    settings: Settings


async def _seed(settings: Settings) -> tuple[str, str, list[ContentAgent]]:
    """A workspace with a key, a founded population, patterns, learners and gateway calls."""
    async with Maestro.from_settings(settings) as engine:
        ws = await engine.tenancy.create_workspace("dashboard-e2e")
        _, key = await engine.tenancy.create_key(ws.id)
        population = PopulationStore(engine.db, engine.clock)
        agents = found_population(
            [s.name for s in DEFAULT_STRATEGIES],
            now=engine.clock.now(),
            rng=random.Random(7),
            size=6,
        )
        await population.save_agents(ws.id, agents)
        await population.record_diversity(ws.id, agents, "founding")
        await population.record_diversity(ws.id, agents[:5], "adaptation")
        await population.record_diversity(ws.id, agents, "evolution")
        patterns = PatternStore(engine.db, engine.clock, engine.settings.memory.patterns)
        await patterns.add(
            ws.id,
            pattern_type="strategy_performance",
            brand="fitbrand",
            strategy="story",
            description=PATTERN,
            discovered_by=agents[0].id,
            confidence=0.8,
            evidence_count=9,
        )
        await patterns.add(
            ws.id,
            pattern_type="strategy_performance",
            brand="_global_",
            strategy="listicle",
            description=FADING,
            discovered_by=agents[1].id,
            confidence=0.25,
            evidence_count=5,
        )
        await _store_learners(engine, ws.id)
        request = CompletionRequest.of("Strategy: story\nTopic: sleep\nWrite a post.")
        for _ in range(2):  # the second is answered by the cache
            await engine.gateway.complete(
                request, workspace=ws.id, agent="copywriter", purpose="generation"
            )
        return ws.id, key, agents


def _linear_learner() -> LinearThompson:
    """A learner fed as the studio feeds it (log engagement, topic and quality, days)."""
    policy = LinearThompson(len(STRATEGIES), seed=1)
    noise = random.Random(3)
    effect = {"story": 0.5, "how-to": 0.1, "contrarian": -0.3}
    for day in range(LEARNED_DAYS):
        for arm, name in enumerate(STRATEGIES):
            value = 3.0 + effect.get(name, 0.0) + noise.gauss(0.0, 0.1)
            policy.observe(arm, value, {"topic=sleep": 1.0, "quality": 0.3}, at=float(day))
    return policy


async def _store_learners(engine: Maestro, workspace: str) -> None:
    """Two brands' learners saved the way the studio saves them, and some published posts."""
    store = PolicyStore(engine.db, engine.clock, engine.settings.learning)
    await store.save(workspace, f"studio:hybrid:brand={LEARNED}", _linear_learner())
    plain = Thompson(len(STRATEGIES), seed=1)
    for arm in (4, 4, 4, 6):
        plain.update(arm, 0.6)
    await store.save(workspace, f"studio:homogeneous:brand={PLAIN}", plain)
    items = ItemStore(engine.db, engine.clock)
    for brand, published in ((LEARNED, LEARNED_PUBLISHED), (PLAIN, PLAIN_PUBLISHED)):
        for strategy, n in published.items():
            for _ in range(n):
                item = NewItem(
                    id=str(uuid.uuid4()),
                    seq=next(SEQ),
                    brand=brand,
                    agent_id="agent-e2e",
                    strategy=strategy,
                    topic="sleep",
                    text=f"A published {strategy} post.",
                    quality=0.6,
                    drafts=1,
                )
                await items.add(workspace, item, status="published")


def _signed(value: float) -> str:
    """A lift as the panel writes it: a whole signed percent, halves away from zero."""
    pct = math.floor(abs(value) * 100 + 0.5)
    return "0%" if pct == 0 else f"{'+' if value > 0 else '-'}{pct}%"


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(Maestro.from_settings(settings), manage_engine=True, run_jobs=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:  # uvicorn has no start callback; this is readiness, not timing
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on {url}")
        time.sleep(0.05)
    return server, thread, url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_program("Chromium", CHROMIUM, "apt-get install chromium, or set MAESTRO_TEST_CHROMIUM")
    db = tmp_path_factory.mktemp("dashboard") / "maestro.db"
    settings = Settings.load(
        database_url=f"sqlite+aiosqlite:///{db}",
        database_schema=None,
        coord_url="memory://",
        key_prefix=f"test:{uuid.uuid4().hex[:12]}:",
    )
    workspace, key, agents = asyncio.run(_seed(settings))
    server, thread, url = _serve(settings)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as api:
        r = api.post(
            "/api/experiments",
            json={"name": "hook length", "variants": [{"name": "short"}, {"name": "long"}]},
        )
        assert r.status_code == 201, r.text
        experiment = r.json()["id"]
        assert api.post(f"/api/experiments/{experiment}/start").status_code == 200
        for unit, value in (("u1", 1.0), ("u2", 0.0), ("u3", 1.0), ("u4", 1.0)):
            variant = api.post(f"/api/experiments/{experiment}/assign", json={"unit_id": unit})
            outcome = {"value": value, "variant_id": variant.json()["variant_id"], "unit_id": unit}
            assert api.post(f"/api/experiments/{experiment}/outcomes", json=outcome).is_success
    try:
        yield Site(url=url, key=key, workspace=workspace, agents=agents, settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # the dev extra installs it
        message = "the playwright package is not installed (pip install -e '.[dev]')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _pending(site: Site) -> tuple[str, str]:
    """A run paused at a ``review`` checkpoint, through the API: (run id, approval id)."""
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {site.key}"}) as api:
        r = api.post(
            "/api/orchestrate",
            json={"goal": "Blog post about sleep", "checkpoints": [REVIEW]},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        run = r.json()["run"]
        assert run["status"] == "waiting_approval"
        [approval] = [a for a in run["approvals"] if a["status"] == "pending"]
        return run["id"], approval["id"]


def _approval(site: Site, approval_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {site.key}"}) as api:
        r = api.get(f"/api/approvals/{approval_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def _finished(site: Site, run_id: str) -> str:
    """The run's final status once the server's background resume ends it."""
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {site.key}"}) as api:
        while time.monotonic() < deadline:
            status: str = api.get(f"/api/runs/{run_id}").json()["status"]
            if status in ("completed", "failed", "rejected"):
                return status
            time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish after its approval")


def _connect(page: Any, site: Site, key: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{site.url}/dashboard")
    expect(page.locator("#panel-health")).to_contain_text("database")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Connect").click()


def _on_engine(site: Site, work: Callable[[Maestro], Awaitable[T]]) -> T:
    """``await work(engine)`` on an engine of the site's database (the server keeps its own).

    In a thread of its own: Playwright's sync API keeps an event loop running on this one.
    """

    async def run() -> T:
        async with Maestro.from_settings(site.settings) as engine:
            return await work(engine)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=STARTUP_SECONDS)


@dataclass(frozen=True)
class Held:
    """A proposal the studio's checkpoint held for a human."""

    id: str
    brand: str
    strategy: str
    topic: str
    text: str
    quality: float
    expires_at: datetime

    @property
    def window(self) -> str:
        """``expires_at`` as the panel shows it."""
        return self.expires_at.strftime("%Y-%m-%d %H:%M UTC")


def _hold(
    site: Site,
    workspace: str,
    topic: str,
    *,
    brand: str = "fitbrand",
    strategy: str = "story",
    quality: float = 0.42,
    window: timedelta = timedelta(hours=1),
) -> Held:
    """A held item in ``workspace``, stored the way the studio's checkpoint stores it."""
    tag = uuid.uuid4().hex[:8]
    text = (
        f"Why {topic} matters ({tag}).\n"
        "Most people underestimate it; the research says otherwise.\n"
        f"Three habits that change your {topic} this week."
    )

    async def add(engine: Maestro) -> Held:
        expires = engine.clock.now() + window
        item = NewItem(
            id=str(uuid.uuid4()),
            seq=next(SEQ),
            brand=brand,
            agent_id="agent-e2e",
            strategy=strategy,
            topic=topic,
            text=text,
            quality=quality,
            drafts=2,
        )
        await ItemStore(engine.db, engine.clock).add(
            workspace, item, status="held", expires_at=expires
        )
        return Held(item.id, brand, strategy, topic, text, quality, expires)

    return _on_engine(site, add)


def _item(site: Site, workspace: str, item_id: str) -> ItemRecord:
    async def get(engine: Maestro) -> ItemRecord:
        return await ItemStore(engine.db, engine.clock).get(workspace, item_id)

    return _on_engine(site, get)


def _other_workspace(site: Site, name: str) -> tuple[str, str]:
    """Another workspace of the same server, with its own key: (id, key)."""

    async def create(engine: Maestro) -> tuple[str, str]:
        ws = await engine.tenancy.create_workspace(name)
        _, key = await engine.tenancy.create_key(ws.id)
        return ws.id, key

    return _on_engine(site, create)


def _held_row(page: Any, item: Held) -> Any:
    """The held panel's row of ``item`` (found by its text, which only it has)."""
    return page.locator("#panel-held tbody tr", has_text=item.text.splitlines()[0])


def test_a_workspace_key_fills_every_panel_and_approves_from_the_page(
    site: Site, page: Any
) -> None:
    from playwright.sync_api import expect

    run_id, approval_id = _pending(site)
    held = _hold(site, site.workspace, "sleep")
    _connect(page, site, site.key)
    expect(page.locator("#key-status")).to_contain_text("dashboard-e2e")

    health = page.locator("#panel-health")
    expect(health).to_contain_text("coordination")
    expect(page.locator("#panel-budget")).to_contain_text("Daily budget")
    costs = page.locator("#panel-costs")
    expect(costs).to_contain_text("copywriter")
    copywriter = costs.locator("tr", has_text="copywriter")
    expect(copywriter.locator("td").nth(1)).to_have_text("2")  # calls
    expect(copywriter.locator("td").nth(2)).to_have_text("1")  # cache hits
    expect(copywriter.locator("td").nth(3)).to_have_text("50.0%")
    expect(page.locator("#panel-ratelimit")).to_contain_text("workspace:")

    population = page.locator("#panel-population")
    for agent in site.agents:
        expect(population).to_contain_text(agent.name)
    expect(population).to_contain_text("meets target")
    chart = population.locator("svg.chart")
    expect(chart).to_have_attribute(
        "aria-label", "Diversity over time: 3 points, latest 0.83, target 0.6"
    )
    expect(chart.locator("circle")).to_have_count(3)
    expect(chart).to_contain_text("target 0.6")
    expect(population).to_contain_text("Gene pool")

    learned = page.locator("#panel-learned")
    posts = LEARNED_DAYS * len(STRATEGIES)
    expect(learned.locator("h3")).to_have_text(
        [f"{LEARNED} — {posts} posts learned, best: story", f"{PLAIN} — 4 posts learned"]
    )
    expect(learned.locator(".interval")).to_have_count(len(STRATEGIES))  # the linear learner's

    patterns = page.locator("#panel-patterns")
    expect(patterns).to_contain_text(PATTERN)
    expect(patterns.locator("tr", has_text=PATTERN)).to_contain_text("injected")
    expect(patterns.locator("tr", has_text=FADING)).to_contain_text("active")
    expect(page.locator("#panel-experiments")).to_contain_text("hook length")
    expect(page.locator("#panel-experiments")).to_contain_text("running")
    expect(page.locator("#panel-experiments")).to_contain_text("short (")

    approvals = page.locator("#panel-approvals")
    expect(approvals).to_contain_text("Check the draft")
    expect(_held_row(page, held)).to_contain_text(held.text.splitlines()[-1])
    expect(page.locator(".panel .error:visible")).to_have_count(0)
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)

    page.get_by_role("button", name=f"Approve review for run {run_id}").click()
    expect(approvals.locator(".notice")).to_contain_text(f"Approved “review” (run {run_id})")
    expect(page.get_by_role("button", name=f"Approve review for run {run_id}")).to_have_count(0)
    decided = _approval(site, approval_id)
    assert decided["status"] == "approved" and decided["decided_by"] == "dashboard"
    assert _finished(site, run_id) == "completed", "the approved run resumed and ran its steps"


def test_a_decision_taken_elsewhere_shows_as_already_decided(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    run_id, approval_id = _pending(site)
    _connect(page, site, site.key)
    page.get_by_label("every 5 s").uncheck()  # keep the stale row on screen
    reject = page.get_by_role("button", name=f"Reject review for run {run_id}")
    expect(reject).to_be_visible()
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {site.key}"}) as api:
        assert api.post(f"/api/approvals/{approval_id}/approve").status_code == 200
    reject.click()
    notice = page.locator("#panel-approvals .notice")
    expect(notice).to_contain_text("Already decided")
    expect(notice).to_contain_text("approved")
    assert _approval(site, approval_id)["status"] == "approved", "the late reject changed nothing"
    assert _finished(site, run_id) == "completed"


def test_a_wrong_key_shows_the_error_in_the_page(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    _connect(page, site, "mk_00000000_wrong")
    expect(page.locator("#key-status")).to_contain_text("401")
    panels = (
        "budget",
        "costs",
        "population",
        "learned",
        "patterns",
        "experiments",
        "approvals",
        "held",
    )
    for panel in panels:
        error = page.locator(f"#panel-{panel} .error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("401 unauthorized: a valid API key is required")
    expect(page.locator("#panel-population")).not_to_contain_text(site.agents[0].name)
    expect(page.locator("#panel-learned .body")).to_be_empty()
    expect(page.locator("#panel-health .error")).to_be_hidden()


def test_held_content_shows_each_item_and_approves_or_rejects_it_from_the_page(
    site: Site, page: Any
) -> None:
    from playwright.sync_api import expect

    first = _hold(site, site.workspace, "sleep", quality=0.42)
    second = _hold(
        site, site.workspace, "hydration", brand="runbrand", strategy="how-to", quality=0.5
    )
    _connect(page, site, site.key)
    page.get_by_label("every 5 s").uncheck()  # the page reloads the panel itself after a decision

    for item in (first, second):
        row = _held_row(page, item)
        expect(row).to_have_count(1)
        cells = row.locator("td")
        expect(cells.nth(0)).to_have_text(item.brand)
        expect(cells.nth(1)).to_have_text(item.strategy)
        expect(cells.nth(2)).to_have_text(item.topic)
        expect(cells.nth(3)).to_have_text(f"{item.quality:.2f}")
        expect(cells.nth(4)).to_have_text(item.window)
        text = cells.nth(5).locator(".post-text")
        expect(text).to_have_text(item.text)  # the whole text, its lines kept
        lines = text.evaluate(
            "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
        )
        assert lines >= 2.9, f"the text shows {lines:.1f} lines, not its three"

    # The buttons are disabled while the decision is on its way.
    pending: list[Any] = []
    page.route("**/api/studio/items/*/approve", lambda route: pending.append(route))
    row = _held_row(page, first)
    row.get_by_role("button", name="Approve").click()
    expect(row.get_by_role("button", name="Approve")).to_be_disabled()
    expect(row.get_by_role("button", name="Reject")).to_be_disabled()
    expect(_held_row(page, second).get_by_role("button", name="Approve")).to_be_enabled()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not pending:  # Playwright hands the held request over while it waits
        assert time.monotonic() < deadline, "the Approve button sent no request"
        page.wait_for_timeout(20)
    assert len(pending) == 1
    pending[0].continue_()
    page.unroute("**/api/studio/items/*/approve")

    panel = page.locator("#panel-held")
    notice = panel.locator(".notice")
    expect(notice).to_have_text(
        "Approved the fitbrand post on “sleep”: it is published when the workspace's studio "
        "runs (maestro studio run)."
    )
    expect(notice).to_have_class("notice")  # not a conflict
    expect(_held_row(page, first)).to_have_count(0)
    expect(panel).not_to_contain_text(first.text.splitlines()[0])
    approved = _item(site, site.workspace, first.id)
    assert (approved.status, approved.rule, approved.decided_by) == (
        "approved",
        "human:approve",
        "dashboard",
    )

    _held_row(page, second).get_by_role("button", name="Reject").click()
    expect(notice).to_have_text(
        "Rejected the runbrand post on “hydration”: it will not be published."
    )
    expect(_held_row(page, second)).to_have_count(0)
    rejected = _item(site, site.workspace, second.id)
    assert (rejected.status, rejected.rule, rejected.decided_by) == (
        "rejected",
        "human:reject",
        "dashboard",
    )
    assert _item(site, site.workspace, first.id).status == "approved", "the reject left it alone"


def test_the_held_panel_names_the_process_running_the_studio(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    workspace, key = _other_workspace(site, "running-studio")
    item = _hold(site, workspace, "sleep")

    async def run_studio_elsewhere(engine: Maestro) -> bool:
        # The lease 'maestro studio run' holds; it lapses after the test (the workspace is ours).
        return await StudioLease(engine.db, engine.clock, workspace).acquire(LEASE_SECONDS)

    assert _on_engine(site, run_studio_elsewhere)
    _connect(page, site, key)
    page.get_by_label("every 5 s").uncheck()
    panel = page.locator("#panel-held")
    expect(panel).to_contain_text(
        f"The studio is running (process {os.getpid()} on {socket.gethostname()} since "
    )
    _held_row(page, item).get_by_role("button", name="Approve").click()
    expect(panel.locator(".notice")).to_have_text(
        "Approved the fitbrand post on “sleep”: the running studio publishes it now."
    )


def test_a_held_item_decided_elsewhere_shows_the_servers_409_message(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    item = _hold(site, site.workspace, "focus")
    _connect(page, site, site.key)
    page.get_by_label("every 5 s").uncheck()  # keep the stale row on screen
    row = _held_row(page, item)
    expect(row.get_by_role("button", name="Reject")).to_be_visible()
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {site.key}"}) as api:
        r = api.post(f"/api/studio/items/{item.id}/approve", json={"by": "ana"})
        assert r.status_code == 200, r.text
    row.get_by_role("button", name="Reject").click()

    notice = page.locator("#panel-held .notice")
    expect(notice).to_have_text(
        f"Could not reject: studio item '{item.id}' was already decided by ana: approve (approved)"
    )
    expect(notice).to_have_class("notice conflict")
    expect(row).to_have_count(0)  # reloaded: it is no longer held
    decided = _item(site, site.workspace, item.id)
    assert (decided.status, decided.decided_by) == ("approved", "ana"), (
        "the late reject changed nothing"
    )


def test_a_held_item_whose_window_closed_shows_the_409_and_stays_held(
    site: Site, page: Any
) -> None:
    from playwright.sync_api import expect

    item = _hold(site, site.workspace, "posture", window=timedelta(minutes=-5))
    _connect(page, site, site.key)
    page.get_by_label("every 5 s").uncheck()
    row = _held_row(page, item)
    expect(row.locator("td").nth(4)).to_have_text(f"{item.window} closed")
    row.get_by_role("button", name="Approve").click()

    notice = page.locator("#panel-held .notice")
    expect(notice).to_contain_text(
        f"Could not approve: the approval window of studio item '{item.id}'"
    )
    expect(notice).to_contain_text("the timeout outcome applies")
    expect(notice).to_have_class("notice conflict")
    expect(row.get_by_role("button", name="Approve")).to_be_enabled()  # reloaded, still held
    assert _item(site, site.workspace, item.id).status == "held"


def test_held_content_shows_only_the_keys_workspace(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    other, other_key = _other_workspace(site, "held-other")
    _, empty_key = _other_workspace(site, "held-empty")
    ours = _hold(site, site.workspace, "stretching")
    theirs = _hold(site, other, "stretching")
    panel = page.locator("#panel-held")

    _connect(page, site, site.key)
    expect(_held_row(page, ours)).to_have_count(1)
    expect(panel).not_to_contain_text(theirs.text.splitlines()[0])

    _connect(page, site, other_key)
    expect(page.locator("#key-status")).to_contain_text("held-other")
    expect(_held_row(page, theirs)).to_have_count(1)
    expect(panel.locator("tbody tr")).to_have_count(1)  # nothing of the first workspace

    _connect(page, site, empty_key)
    expect(page.locator("#key-status")).to_contain_text("held-empty")
    expect(panel.locator(".body")).to_have_text("Nothing held.")
    assert _item(site, other, theirs.id).status == "held"


GEOMETRY = """e => {
  const track = e.getBoundingClientRect();
  const at = (part) => {
    const b = e.querySelector(part).getBoundingClientRect();
    return [b.left - track.left, b.right - track.left];
  };
  return { width: track.width, range: at(".range"), zero: at(".zero"), point: at(".point") };
}"""
"""An interval chart's parts, in pixels from the left of its track."""


def _learned(site: Site) -> list[dict[str, Any]]:
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {site.key}"}) as api:
        r = api.get("/api/studio/learned")
        assert r.status_code == 200, r.text
        body: list[dict[str, Any]] = r.json()
        return body


def _shares(published: dict[str, int]) -> dict[str, str]:
    """Each strategy's recent share as the panel writes it."""
    total = sum(published.values())
    return {s: f"{100 * published.get(s, 0) / total:.1f}%" for s in STRATEGIES}


def test_what_the_studio_learned_shows_each_brands_strategies_best_first(
    site: Site, page: Any
) -> None:
    from playwright.sync_api import expect

    linear, plain = _learned(site)
    # The seeded learners believe what they were shown: 'story' best, 'contrarian' worst.
    assert (linear["brand"], linear["best"]) == (LEARNED, "story")
    assert linear["strategies"][-1]["strategy"] == "contrarian"
    assert linear["strategies"][0]["low"] > 0 > linear["strategies"][-1]["high"]
    _connect(page, site, site.key)
    page.get_by_label("every 5 s").uncheck()
    panel = page.locator("#panel-learned")
    blocks = panel.locator(".brand-beliefs")
    expect(blocks).to_have_count(2)

    block = blocks.nth(0)
    posts = LEARNED_DAYS * len(STRATEGIES)
    expect(block.locator("h3")).to_have_text(f"{LEARNED} — {posts} posts learned, best: story")
    expect(block.locator("caption")).to_have_text("Learner: linear-thompson.")
    rows = block.locator("tbody tr")
    expect(rows.locator("td:first-child")).to_have_text(
        [s["strategy"] for s in linear["strategies"]]
    )
    shares = _shares(LEARNED_PUBLISHED)
    lo: float = min(0.0, *(s["low"] for s in linear["strategies"]))
    hi: float = max(0.0, *(s["high"] for s in linear["strategies"]))
    for i, s in enumerate(linear["strategies"]):
        cells = rows.nth(i).locator("td")
        span = f"{_signed(s['low'])} to {_signed(s['high'])}"
        expect(cells.nth(1)).to_have_text(_signed(s["lift"]))
        expect(cells.nth(3)).to_have_text(span)
        expect(cells.nth(4)).to_have_text(shares[s["strategy"]])
        chart = cells.nth(2).get_by_role("img")
        expect(chart).to_have_attribute(
            "aria-label", f"{s['strategy']}: lift {_signed(s['lift'])}, 90% interval {span}"
        )
        # Drawn to the brand's scale: the bar spans the interval, the mark sits at the lift.
        box = chart.evaluate(GEOMETRY)

        def x(v: float, width: float = box["width"]) -> float:
            return (v - lo) / (hi - lo) * width

        where = f"{s['strategy']}: {box}"
        assert box["width"] > 100, where
        assert abs(box["range"][0] - x(s["low"])) < 1.5, where
        assert abs(box["range"][1] - x(s["high"])) < 1.5, where
        assert abs(sum(box["point"]) / 2 - x(s["lift"])) < 1.5, where
        assert abs(box["zero"][0] - x(0.0)) < 1.5, where
    expect(rows.first.locator("td").nth(1)).to_have_text(re.compile(r"^\+\d+%$"))
    expect(rows.last.locator("td").nth(1)).to_have_text(re.compile(r"^-\d+%$"))

    # A learner without estimates: no lift, no bar, ordered by what it wrote lately.
    block = blocks.nth(1)
    expect(block.locator("h3")).to_have_text(f"{PLAIN} — 4 posts learned")
    expect(block.locator("caption")).to_contain_text("no estimate of lift")
    order = [s["strategy"] for s in plain["strategies"]]
    assert order[:2] == ["how-to", "question"] and order[2:] == sorted(order[2:])
    rows = block.locator("tbody tr")
    expect(rows.locator("td:first-child")).to_have_text(order)
    expect(rows.locator("td:nth-child(2)")).to_have_text(["—"] * len(order))
    expect(rows.locator("td:nth-child(4)")).to_have_text(["—"] * len(order))
    shares = _shares(PLAIN_PUBLISHED)
    expect(rows.locator("td:nth-child(5)")).to_have_text([shares[s] for s in order])
    expect(block.get_by_role("img")).to_have_count(0)


def test_what_the_studio_learned_shows_only_the_keys_workspace(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    _, other_key = _other_workspace(site, "learned-empty")
    _connect(page, site, other_key)
    expect(page.locator("#key-status")).to_contain_text("learned-empty")
    expect(page.locator("#panel-learned .body")).to_have_text(
        "Nothing learned yet: the studio learns once its first posts are measured."
    )
    expect(page.locator("#panel-learned")).not_to_contain_text(LEARNED)
    expect(page.locator("#panel-learned .error")).to_be_hidden()
