"""One behaviour for every cache backend: memory and the real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from maestro.clock import ManualClock
from maestro.coord import Coordinator, connect
from maestro.embeddings import HashingEmbedder
from maestro.llm.cache import CacheSettings, SemanticCache, normalize, request_keys
from maestro.llm.types import CompletionRequest, Message, ProviderReply, Usage

WS = "ws-acme"
OTHER = "ws-globex"
PROMPT = "How do I reset my password for the billing portal?"


def reply(text: str = "Open Settings, then Security.") -> ProviderReply:
    return ProviderReply(
        text=text, model="gpt-test", usage=Usage(prompt_tokens=9, completion_tokens=5)
    )


def make_cache(coord: Coordinator, clock: ManualClock, **overrides: object) -> SemanticCache:
    return SemanticCache.from_settings(CacheSettings(**overrides), coord=coord, clock=clock)  # type: ignore[arg-type]


@pytest.fixture
async def cache(coord: Coordinator, clock: ManualClock) -> AsyncIterator[SemanticCache]:
    c = make_cache(coord, clock)
    yield c
    await c.clear(WS)
    await c.clear(OTHER)
    await c.close()


def test_backend_follows_the_coordinator(cache: SemanticCache, coord: Coordinator) -> None:
    assert cache.backend.name == ("redis" if coord.url.startswith("redis") else "memory")


async def test_each_level_hits_for_its_kind_of_repeat(cache: SemanticCache) -> None:
    await cache.store(CompletionRequest.of(PROMPT), WS, reply())

    l1 = await cache.lookup(CompletionRequest.of(PROMPT), WS)
    l2 = await cache.lookup(
        CompletionRequest.of("hey,  HOW do i reset my password for the billing portal"), WS
    )
    l3 = await cache.lookup(
        CompletionRequest.of("For the billing portal, how can I reset my password?"), WS
    )

    assert l1 is not None and l1.level == "L1" and l1.text == "Open Settings, then Security."
    assert l1.usage.completion_tokens == 5 and l1.model == "gpt-test"
    assert l2 is not None and l2.level == "L2"
    assert l3 is not None and l3.level == "L3"
    assert cache.settings.threshold <= l3.similarity < 1.0
    stats = cache.stats()
    assert stats.hits == {"L1": 1, "L2": 1, "L3": 1}
    assert stats.misses == {"L1": 2, "L2": 1, "L3": 0}


async def test_a_different_question_misses_every_level(cache: SemanticCache) -> None:
    await cache.store(CompletionRequest.of(PROMPT), WS, reply())
    assert (
        await cache.lookup(CompletionRequest.of("What is the best time to visit Lisbon?"), WS)
        is None
    )
    assert cache.stats().misses == {"L1": 1, "L2": 1, "L3": 1}


async def test_the_same_prompt_never_hits_across_workspaces(cache: SemanticCache) -> None:
    await cache.store(CompletionRequest.of(PROMPT), WS, reply("acme answer"))
    for text in (PROMPT, PROMPT.lower(), "For the billing portal, how can I reset my password?"):
        assert await cache.lookup(CompletionRequest.of(text), OTHER) is None
    await cache.store(CompletionRequest.of(PROMPT), OTHER, reply("globex answer"))
    hit = await cache.lookup(CompletionRequest.of(PROMPT), WS)
    assert hit is not None and hit.text == "acme answer"


@pytest.mark.parametrize(
    ("stored", "opposite"),
    [
        (
            "How do I enable dark mode in the mobile app?",
            "How do I disable dark mode in the mobile app?",
        ),
        ("Is it safe to mix bleach and vinegar?", "Is it not safe to mix bleach and vinegar?"),
        ("Is the partner api safe to call twice?", "Is the partner api unsafe to call twice?"),
        ("Should I increase the backup limit?", "Should I decrease the backup limit?"),
    ],
)
async def test_opposite_meaning_near_duplicates_miss(
    cache: SemanticCache, stored: str, opposite: str
) -> None:
    emb = HashingEmbedder()
    vecs = emb.embed_sync([normalize(stored), normalize(opposite)])
    assert float(vecs[0] @ vecs[1]) >= cache.settings.threshold  # only the guard can refuse it
    await cache.store(CompletionRequest.of(stored), WS, reply())
    assert await cache.lookup(CompletionRequest.of(opposite), WS) is None
    assert sum(cache.stats().guard_refusals.values()) == 1


async def test_conversations_differing_in_an_earlier_turn_miss(cache: SemanticCache) -> None:
    def convo(first: str) -> CompletionRequest:
        return CompletionRequest(
            messages=(
                Message(role="user", content=first),
                Message(role="assistant", content="Sure."),
                Message(role="user", content="Now make it shorter."),
            )
        )

    await cache.store(convo("Write a poem about the sea."), WS, reply("sea poem"))
    assert await cache.lookup(convo("Write a poem about the desert."), WS) is None
    hit = await cache.lookup(convo("write a poem about the sea"), WS)
    assert hit is not None and hit.level == "L2" and hit.text == "sea poem"


async def test_bypass_neither_reads_nor_writes(cache: SemanticCache) -> None:
    assert not await cache.store(CompletionRequest.of(PROMPT, cache="bypass"), WS, reply())
    assert await cache.lookup(CompletionRequest.of(PROMPT), WS) is None
    await cache.store(CompletionRequest.of(PROMPT), WS, reply())
    assert await cache.lookup(CompletionRequest.of(PROMPT, cache="bypass"), WS) is None
    assert cache.stats().skipped == 1


async def test_sampled_requests_are_cached_only_when_opted_in(cache: SemanticCache) -> None:
    sampled = CompletionRequest.of(PROMPT, temperature=0.8)
    assert not await cache.store(sampled, WS, reply())
    assert await cache.lookup(sampled, WS) is None
    seeded = CompletionRequest.of(PROMPT, temperature=0.8, seed=7)
    assert await cache.store(seeded, WS, reply("seeded"))
    opted = CompletionRequest.of(PROMPT, temperature=0.8, cache="opt_in")
    assert await cache.store(opted, WS, reply("opted"))
    hit = await cache.lookup(opted, WS)
    assert hit is not None and hit.text == "opted"


async def test_parameters_and_template_version_are_part_of_every_level(
    cache: SemanticCache,
) -> None:
    await cache.store(CompletionRequest.of(PROMPT, template_version="v3-faq"), WS, reply())
    assert await cache.lookup(CompletionRequest.of(PROMPT, template_version="v4-faq"), WS) is None
    assert await cache.lookup(CompletionRequest.of(PROMPT, model="other-model"), WS) is None
    hit = await cache.lookup(CompletionRequest.of(PROMPT, template_version="v3-faq"), WS)
    assert hit is not None and hit.template_version == "v3-faq"


async def test_least_recently_used_entries_are_evicted(
    coord: Coordinator, clock: ManualClock
) -> None:
    cache = make_cache(coord, clock, max_entries=3)
    prompts = [f"Write a haiku about {w}." for w in ("tea", "snow", "trains", "owls")]
    try:
        for p in prompts[:3]:
            await cache.store(CompletionRequest.of(p), WS, reply(p))
            clock.advance(1)
        assert await cache.lookup(CompletionRequest.of(prompts[0]), WS) is not None  # now fresh
        clock.advance(1)
        await cache.store(CompletionRequest.of(prompts[3]), WS, reply(prompts[3]))
        assert await cache.backend.size(WS) == 3
        assert await cache.lookup(CompletionRequest.of(prompts[1]), WS) is None
        for p in (prompts[0], prompts[2], prompts[3]):
            assert await cache.lookup(CompletionRequest.of(p), WS) is not None
        assert cache.stats().evictions == 1
    finally:
        await cache.clear(WS)


async def test_entries_expire_after_the_ttl(coord: Coordinator, clock: ManualClock) -> None:
    if coord.url.startswith("redis"):
        pytest.skip(
            "Redis expires keys on its own clock; the TTL itself is set by PX (see redis.py)"
        )
    cache = make_cache(coord, clock, ttl_s=60)
    await cache.store(CompletionRequest.of(PROMPT), WS, reply())
    clock.advance(59)
    assert await cache.lookup(CompletionRequest.of(PROMPT), WS) is not None
    clock.advance(1)
    assert await cache.lookup(CompletionRequest.of(PROMPT), WS) is None
    assert (
        await cache.lookup(
            CompletionRequest.of("For the billing portal, how can I reset my password?"), WS
        )
        is None
    )


async def test_redis_entries_carry_the_ttl(coord: Coordinator, clock: ManualClock) -> None:
    if not coord.url.startswith("redis"):
        pytest.skip("memory TTLs are covered with the manual clock")
    cache = make_cache(coord, clock, ttl_s=120)
    await cache.store(CompletionRequest.of(PROMPT), WS, reply())
    hit = await cache.lookup(CompletionRequest.of(PROMPT), WS)
    assert hit is not None
    left = await coord.ttl(coord.key("cache", WS) + ":e:" + hit.entry_id)
    assert left is not None and 110 < left <= 120
    await cache.clear(WS)


async def test_warming_fills_every_level(cache: SemanticCache) -> None:
    stored = await cache.warm(
        WS,
        [
            (CompletionRequest.of(PROMPT), "warm answer"),
            (CompletionRequest.of("Is it safe to mix bleach and vinegar?"), "No."),
            (CompletionRequest.of("sampled", temperature=1.0), "skipped"),
        ],
    )
    assert stored == 2
    hit = await cache.lookup(
        CompletionRequest.of("For the billing portal, how can I reset my password?"), WS
    )
    assert hit is not None and hit.level == "L3" and hit.text == "warm answer"


async def test_clear_forgets_a_workspace_only(cache: SemanticCache) -> None:
    await cache.store(CompletionRequest.of(PROMPT), WS, reply())
    await cache.store(CompletionRequest.of(PROMPT), OTHER, reply())
    assert await cache.clear(WS) == 1
    assert await cache.lookup(CompletionRequest.of(PROMPT), WS) is None
    assert (
        await cache.lookup(
            CompletionRequest.of("For the billing portal, how can I reset my password?"), WS
        )
        is None
    )
    assert await cache.lookup(CompletionRequest.of(PROMPT), OTHER) is not None


async def test_lookups_are_prometheus_counters(cache: SemanticCache) -> None:
    def value(level: str, result: str) -> float:
        v = REGISTRY.get_sample_value(
            "maestro_cache_lookups_total", {"level": level, "result": result}
        )
        return v or 0.0

    before = (value("L1", "hit"), value("L1", "miss"), value("L3", "miss"))
    await cache.store(CompletionRequest.of(PROMPT), WS, reply())
    await cache.lookup(CompletionRequest.of(PROMPT), WS)
    await cache.lookup(CompletionRequest.of("Name three rivers in Peru."), WS)
    assert value("L1", "hit") == before[0] + 1
    assert value("L1", "miss") == before[1] + 1
    assert value("L3", "miss") == before[2] + 1


async def test_replicas_see_each_others_entries(
    coord: Coordinator, clock: ManualClock, key_prefix: str
) -> None:
    if not coord.url.startswith("redis"):
        pytest.skip("only the Redis backend is shared by replicas")
    other = connect(coord.url, prefix=key_prefix, clock=clock)
    a = make_cache(coord, clock, max_entries=2)
    b = make_cache(other, clock, max_entries=2)
    try:
        paraphrase = "For the billing portal, how can I reset my password?"
        assert (
            await b.lookup(CompletionRequest.of(paraphrase), WS) is None
        )  # b's mirror is now synced
        await a.store(CompletionRequest.of(PROMPT), WS, reply("from a"))
        for text, level in ((PROMPT, "L1"), (PROMPT.upper(), "L2"), (paraphrase, "L3")):
            hit = await b.lookup(CompletionRequest.of(text), WS)
            assert hit is not None and hit.level == level and hit.text == "from a"
        # a evicts the entry; b's L3 view must follow
        for topic in ("tea", "snow"):
            clock.advance(1)
            await a.store(CompletionRequest.of(f"Write a haiku about {topic}."), WS, reply())
        assert await b.lookup(CompletionRequest.of(paraphrase), WS) is None
        assert await b.lookup(CompletionRequest.of("write a haiku about snow"), WS) is not None
        await b.clear(WS)
        assert await a.lookup(CompletionRequest.of("Write a haiku about snow."), WS) is None
    finally:
        await a.clear(WS)
        await other.close()


async def test_l3_keeps_finding_entries_while_its_index_clusters(
    coord: Coordinator, clock: ManualClock
) -> None:
    # A tiny index clusters after 16 vectors, in the background; every list is probed,
    # so each paraphrase must find its own entry before, during and after the swap.
    c = make_cache(coord, clock, ivf_train_at=16, ivf_lists=2, ivf_list_rows=4, ivf_probes=1000)
    names = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
        "mike",
        "november",
        "oscar",
        "papa",
        "quebec",
        "romeo",
        "sierra",
        "tango",
        "uniform",
        "victor",
        "whiskey",
        "xray",
    ]

    def ask(name: str, paraphrase: bool = False) -> CompletionRequest:
        if paraphrase:
            return CompletionRequest.of(f"For the {name} portal, how can I reset my password?")
        return CompletionRequest.of(f"How do I reset my password for the {name} portal?")

    try:
        for name in names[:18]:
            await c.store(ask(name), WS, reply(name))
        for name in names[:18]:
            hit = await c.lookup(ask(name, paraphrase=True), WS)
            assert hit is not None and hit.level == "L3" and hit.text == name
        for name in names[18:]:
            await c.store(ask(name), WS, reply(name))
        await c.backend.settle(WS, {request_keys(ask(names[0])).namespace})
        for name in names:
            hit = await c.lookup(ask(name, paraphrase=True), WS)
            assert hit is not None and hit.level == "L3" and hit.text == name
    finally:
        await c.clear(WS)
        await c.close()


async def test_a_replica_pages_in_a_large_namespace(
    coord: Coordinator, clock: ManualClock, key_prefix: str
) -> None:
    if not coord.url.startswith("redis"):
        pytest.skip("only the Redis backend is shared by replicas")
    from maestro.llm.cache.redis import RedisCacheBackend

    names = [f"team {i} ledger" for i in range(30)]
    a = make_cache(coord, clock)
    other = connect(coord.url, prefix=key_prefix, clock=clock)
    emb = HashingEmbedder()
    settings = CacheSettings()
    # reload_page=4: the 30 vectors arrive in pages, as 100k would, instead of one reply.
    b = SemanticCache(
        RedisCacheBackend(other, settings, dim=emb.dim, clock=clock, reload_page=4),
        emb,
        settings,
        clock=clock,
    )
    try:
        for name in names:
            await a.store(
                CompletionRequest.of(f"How do I close the {name} for the month?"), WS, reply(name)
            )
        for name in names:
            hit = await b.lookup(
                CompletionRequest.of(f"For the month, how do i close the {name}"), WS
            )
            assert hit is not None and hit.level == "L3" and hit.text == name
    finally:
        await a.clear(WS)
        await a.close()
        await other.close()
