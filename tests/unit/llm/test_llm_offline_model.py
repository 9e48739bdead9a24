"""The offline composer: deterministic, prompt-dependent, structured for examiners and planners."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.llm.offline import (
    DEFAULT_ASPECTS,
    ExaminerVerdict,
    OfflineModel,
    parse_prompt,
    score_text,
)
from maestro.llm.types import CompletionRequest, Message, Provider


def generation_prompt(
    *,
    strategy: str = "curiosity-hook",
    topic: str = "sleep and recovery",
    brand: str = "Longevity College",
    voice: str = "warm, supportive",
    snippets: tuple[str, ...] = (),
    patterns: tuple[str, ...] = (),
) -> str:
    lines = [
        "You are a content agent.",
        f"Brand: {brand}",
        f"Brand voice: {voice}",
        f"Strategy: {strategy}",
        f"Topic: {topic}",
        "",
    ]
    if snippets:
        lines += ["Context snippets:", *(f"- {s}" for s in snippets), ""]
    if patterns:
        lines += ["Learned patterns:", *(f"- {p}" for p in patterns), ""]
    lines.append("Write one Instagram caption.")
    return "\n".join(lines)


def examiner_prompt(content: str, aspects: tuple[str, ...] = (), topic: str = "sleep") -> str:
    head = [
        "You are the examiner. Score the content on each aspect from 0 to 1.",
        "Respond with JSON only.",
        f"Topic: {topic}",
        "",
    ]
    if aspects:
        head += ["Aspects:", *(f"- {a}" for a in aspects), ""]
    return "\n".join([*head, "<content>", content, "</content>"])


async def test_offline_model_is_a_provider() -> None:
    assert isinstance(OfflineModel(), Provider)


async def test_same_request_gives_the_same_reply() -> None:
    request = CompletionRequest.of(generation_prompt(), seed=3, temperature=0.7)
    a = await OfflineModel().complete(request, "offline")
    b = await OfflineModel().complete(request, "offline")
    assert a == b


@settings(max_examples=60, deadline=None)
@given(prompt=st.text(min_size=1, max_size=400), seed=st.integers(0, 2**31))
def test_any_prompt_is_answered_deterministically(prompt: str, seed: int) -> None:
    model = OfflineModel()
    assert model.respond(prompt, seed=seed) == model.respond(prompt, seed=seed)


def test_the_request_seed_changes_the_text() -> None:
    model = OfflineModel()
    texts = {model.respond(generation_prompt(), seed=s) for s in range(8)}
    assert len(texts) >= 4


def test_different_topics_strategies_and_brands_give_different_texts() -> None:
    model = OfflineModel()
    variants = [
        generation_prompt(),
        generation_prompt(topic="meal prep"),
        generation_prompt(strategy="stat-hook"),
        generation_prompt(voice="playful"),
        generation_prompt(snippets=("Posts on Tuesday get 2x saves.",)),
        generation_prompt(patterns=("Question hooks beat stat hooks by 40%.",)),
    ]
    texts = [model.respond(p) for p in variants]
    assert len(set(texts)) == len(texts)


def test_the_text_is_built_from_the_prompts_own_words() -> None:
    model = OfflineModel()
    text = model.respond(generation_prompt(topic="cold plunges"))
    assert "cold plunges" in text.lower()
    fact = "Members who walk after dinner sleep 23 minutes longer."
    assert fact in model.respond(generation_prompt(snippets=(fact,)))


def test_a_stat_strategy_opens_with_a_number_and_a_question_strategy_with_a_question() -> None:
    model = OfflineModel()
    stat = model.respond(generation_prompt(strategy="stat-hook"))
    question = model.respond(generation_prompt(strategy="question-hook"))
    assert any(ch.isdigit() for ch in stat.split(".")[0])
    assert "?" in question.split("\n")[0]


def test_snippets_become_a_tip_that_names_the_task_and_the_time() -> None:
    prompt = (
        "Write one short tip for the user from the agent snippets.\n\n"
        "Agent snippets:\n"
        "[overdue-task] The user has 3 overdue tasks: 'Write report' (due 2 days ago).\n"
        "[time-of-day] The user's peak focus hour is 10:00.\n"
    )
    tip = OfflineModel().respond(prompt)
    assert "'Write report'" in tip
    assert "10:00" in tip
    assert "The user" not in tip


def test_examiner_prompt_gets_json_scores_for_the_named_aspects() -> None:
    aspects = ("clarity", "engagement", "brand fit", "originality")
    reply = OfflineModel().respond(examiner_prompt("Why walk? Try it today.", aspects))
    verdict = ExaminerVerdict.model_validate_json(reply)
    assert list(verdict.scores) == ["clarity", "engagement", "brand_fit", "originality"]
    assert all(0.0 <= v <= 1.0 for v in verdict.scores.values())
    assert verdict.overall == verdict.quality
    assert abs(verdict.overall - sum(verdict.scores.values()) / 4) <= 0.01
    assert set(json.loads(reply)) == {"scores", "overall", "quality", "issues", "suggestions"}


def test_examiner_without_named_aspects_uses_the_defaults() -> None:
    verdict = ExaminerVerdict.model_validate_json(
        OfflineModel().respond(examiner_prompt("Sleep matters."))
    )
    assert tuple(verdict.scores) == DEFAULT_ASPECTS


def test_better_structured_text_scores_higher() -> None:
    flat = (
        "sleep is good for you and you should do more of it and also it is important because "
        "there are many reasons for the body and the mind overall and so on"
    )
    crafted = (
        "Why do 7 out of 10 people wake up tired?\n\n"
        "Sleep repairs muscle and memory. Short, dark, cool nights help. "
        "A fixed bedtime beats a long lie-in.\n\n"
        "Save this and try one change tonight."
    )
    model = OfflineModel()
    low = ExaminerVerdict.model_validate_json(model.respond(examiner_prompt(flat)))
    high = ExaminerVerdict.model_validate_json(model.respond(examiner_prompt(crafted)))
    assert high.overall > low.overall + 0.2
    assert "no call to action" in low.issues
    assert "no call to action" not in high.issues


def test_a_revision_that_lists_issues_improves_the_score() -> None:
    draft = "sleep is good for you and you should do more of it because it is important overall"
    before = score_text(draft, topic="sleep")
    prompt = (
        "Revise the draft to fix the issues.\nTopic: sleep\n\nIssues:\n"
        + "\n".join(f"- {i}" for i in before.issues)
        + f"\n\nDraft:\n{draft}\n"
    )
    revised = OfflineModel().respond(prompt)
    after = score_text(revised, topic="sleep")
    assert after.overall > before.overall
    assert after.overall >= 0.8


def test_planner_prompt_gets_a_sequence_of_listed_agents_only() -> None:
    prompt = (
        'You are the planner. Respond with JSON like {"sequence": ["agent-id"]}.\n'
        "Goal: write an instagram caption about sleep and check brand fit\n\n"
        "Available agents:\n"
        "- researcher: finds facts and sources\n"
        "- copywriter: writes captions and posts for instagram\n"
        "- brand-guardian: checks brand fit and voice\n"
        "- data-analyst: analyses metrics\n"
    )
    plan = json.loads(OfflineModel().respond(prompt))
    assert plan["sequence"] == ["copywriter", "brand-guardian"]


def test_planner_falls_back_to_the_first_listed_agents_when_nothing_matches() -> None:
    prompt = (
        "Plan the agent sequence for the goal as JSON.\nGoal: zzz\n\n"
        "Available agents:\n- alpha: one\n- beta: two\n- gamma: three\n"
    )
    assert json.loads(OfflineModel().respond(prompt))["agents"] == ["alpha", "beta"]


async def test_usage_counts_tokens_and_max_tokens_truncates() -> None:
    request = CompletionRequest.of(generation_prompt(), max_tokens=8)
    reply = await OfflineModel().complete(request, "offline")
    assert 0 < reply.usage.completion_tokens <= 8
    assert reply.usage.prompt_tokens > 20
    assert reply.model == "offline"


async def test_only_system_and_the_last_user_message_shape_the_answer() -> None:
    prompt = generation_prompt()
    one = CompletionRequest.of(prompt)
    history = CompletionRequest(
        messages=(
            Message(role="user", content="earlier question"),
            Message(role="assistant", content="earlier answer"),
            Message(role="user", content=prompt),
        )
    )
    model = OfflineModel()
    assert (await model.complete(one, "offline")).text == (
        await model.complete(history, "offline")
    ).text


def test_parse_prompt_finds_fields_sections_and_content() -> None:
    parts = parse_prompt(
        generation_prompt(snippets=("a fact here",), patterns=("a pattern here",))
        + "\n<content>\nthe draft\n</content>"
    )
    assert parts.fields["strategy"] == "curiosity-hook"
    assert parts.fields["brand_voice"] == "warm, supportive"
    assert parts.sections["snippets"] == ["a fact here"]
    assert parts.sections["patterns"] == ["a pattern here"]
    assert parts.content == "the draft"
    assert parts.kind == "compose"
