"""Pure logic of orchestration: experts, teams, plans, checkpoint rules, specs, context."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.errors import ConfigurationError, ValidationError
from maestro.logs import correlation_id
from maestro.orchestration.checkpoints import Evidence, auto_approval, due_after_stage
from maestro.orchestration.context import AgentContext, bound
from maestro.orchestration.plan import extract_agent_list, validate_plan
from maestro.orchestration.profiles import (
    DEFAULT_EXPERTS,
    ExpertiseLevel,
    SkillTag,
    load_profiles,
)
from maestro.orchestration.spec import (
    AutoApproveRules,
    CheckpointSpec,
    StageSpec,
    StepSpec,
    WorkflowSpec,
    chain,
)
from maestro.orchestration.teams import TaskRequirements, assemble_team, find_by_skill

KNOWN = {p.agent_id for p in DEFAULT_EXPERTS}
ALL_SKILLS = sorted({s.skill for p in DEFAULT_EXPERTS for s in p.skills})


def test_the_seven_default_experts_of_seed_002() -> None:
    assert [p.agent_id for p in DEFAULT_EXPERTS] == [
        "seo_expert",
        "copywriting_ninja",
        "data_storyteller",
        "psychology_specialist",
        "viral_engineer",
        "brand_guardian",
        "technical_writer",
    ]
    ninja = next(p for p in DEFAULT_EXPERTS if p.agent_id == "copywriting_ninja")
    assert ninja.skill_names() == {
        "persuasive_writing",
        "storytelling",
        "cta_optimization",
        "headline_writing",
    }


def test_find_by_skill_any_all_and_min_level() -> None:
    skills = [SkillTag.PERSUASIVE_WRITING, SkillTag.STORYTELLING]
    anyone = find_by_skill(DEFAULT_EXPERTS, skills, require_all=False)
    assert [p.agent_id for p in anyone] == ["copywriting_ninja"]
    both = find_by_skill(DEFAULT_EXPERTS, [SkillTag.BRAND_VOICE, SkillTag.SEMANTIC_SEO])
    assert {p.agent_id for p in both} == {"brand_guardian", "seo_expert"}
    assert (
        find_by_skill(
            DEFAULT_EXPERTS, [SkillTag.BRAND_VOICE, SkillTag.SEMANTIC_SEO], require_all=True
        )
        == []
    )
    masters = find_by_skill(
        DEFAULT_EXPERTS, [SkillTag.MEME_CULTURE], min_level=ExpertiseLevel.EXPERT
    )
    assert masters == [], "the viral engineer is only advanced at memes"


def test_team_prefers_the_agent_with_better_performance() -> None:
    req = TaskRequirements(task_type="blog", required_skills=("brand_voice",), max_team_size=1)
    assert assemble_team(DEFAULT_EXPERTS, req).agent_ids == ["brand_guardian"]
    twin = DEFAULT_EXPERTS[5].model_copy(update={"agent_id": "brand_twin", "name": "Twin"})
    pool = [*DEFAULT_EXPERTS, twin]
    assert assemble_team(pool, req, {"brand_twin": 0.9, "brand_guardian": 0.4}).agent_ids == [
        "brand_twin"
    ]


def test_team_errors_name_the_problem() -> None:
    with pytest.raises(ValidationError, match="quantum_physics"):
        assemble_team(
            DEFAULT_EXPERTS, TaskRequirements(task_type="x", required_skills=("quantum_physics",))
        )
    with pytest.raises(ValidationError, match="max_team_size"):
        assemble_team(
            DEFAULT_EXPERTS,
            TaskRequirements(
                task_type="x",
                required_skills=("brand_voice", "keyword_research", "data_analysis"),
                max_team_size=2,
            ),
        )


@settings(max_examples=60, deadline=None)
@given(
    required=st.lists(st.sampled_from(ALL_SKILLS), max_size=4, unique=True),
    preferred=st.lists(st.sampled_from(ALL_SKILLS), max_size=4, unique=True),
    lo=st.integers(1, 4),
    extra=st.integers(0, 3),
)
def test_team_covers_required_skills_within_bounds(
    required: list[str], preferred: list[str], lo: int, extra: int
) -> None:
    req = TaskRequirements(
        task_type="t",
        required_skills=tuple(required),
        preferred_skills=tuple(preferred),
        min_team_size=lo,
        max_team_size=lo + extra,
    )
    try:
        team = assemble_team(DEFAULT_EXPERTS, req)
    except ValidationError:
        # Only legitimate when the required skills need more agents than allowed.
        assert len(required) > req.max_team_size
        return
    ids = team.agent_ids
    assert len(ids) == len(set(ids))
    assert req.min_team_size <= len(ids) <= req.max_team_size
    for skill in required:
        assert team.coverage[skill] in ids
    for skill in set(preferred) - set(team.missing_preferred):
        assert team.coverage[skill] in ids


def test_planner_answers_are_parsed_from_json_in_any_wrapping() -> None:
    assert extract_agent_list('{"agents": ["seo_expert"], "rationale": "x"}') == ["seo_expert"]
    assert extract_agent_list('Plan:\n```json\n["a", "b"]\n```') == ["a", "b"]
    assert extract_agent_list('{"plan": [{"agent": "x"}, {"agent": "y"}]}') == ["x", "y"]
    with pytest.raises(ValidationError, match="no JSON list"):
        extract_agent_list("I would use the SEO expert.")


def test_plan_validation_repairs_or_rejects() -> None:
    ok = validate_plan(["SEO Expert", "brand_guardian", "seo_expert"], KNOWN, max_agents=5)
    assert ok.agents == ("seo_expert", "brand_guardian")
    assert len(ok.repairs) == 2
    assert validate_plan(["brand_guardain"], KNOWN, max_agents=5).agents == ("brand_guardian",)
    with pytest.raises(ValidationError, match="ghost_writer") as err:
        validate_plan(["seo_expert", "ghost_writer"], KNOWN, max_agents=5)
    assert err.value.field == "agent_sequence"
    long = validate_plan(sorted(KNOWN), KNOWN, max_agents=3)
    assert len(long.agents) == 3 and "truncated" in long.repairs[-1]


@given(st.lists(st.text(min_size=1, max_size=20), max_size=8))
def test_a_validated_plan_only_ever_holds_known_unique_agents(names: list[str]) -> None:
    try:
        plan = validate_plan(names, KNOWN, max_agents=4)
    except ValidationError:
        return
    assert set(plan.agents) <= KNOWN
    assert len(plan.agents) == len(set(plan.agents)) <= 4


def test_auto_approval_rules() -> None:
    cp = CheckpointSpec(
        name="c",
        condition="before_execution",
        auto_approve_if=AutoApproveRules(quality_above=0.85, success_rate_above=0.8),
    )
    assert auto_approval(cp, Evidence(0.9, 0.9, None), ()) is not None
    assert auto_approval(cp, Evidence(0.9, 0.7, None), ()) is None, "every numeric rule must hold"
    assert auto_approval(cp, Evidence(None, 0.9, None), ()) is None
    assert auto_approval(cp, Evidence(0.1, 0.1, "boss"), ("boss",)) == "trusted_user:boss"
    notify = CheckpointSpec(name="n", condition="before_execution", action="auto_approve")
    assert auto_approval(notify, Evidence(None, None, None), ()) == "action:auto_approve"


def test_checkpoints_due_after_a_stage() -> None:
    cps = (
        CheckpointSpec(name="after", condition="after_stage", stage="s1"),
        CheckpointSpec(name="low", condition="quality_below", quality_below=0.5),
    )
    assert [c.name for c in due_after_stage(cps, "s1", [0.9])] == ["after"]
    assert [c.name for c in due_after_stage(cps, "s2", [0.4])] == ["low"]
    assert due_after_stage(cps, "s2", []) == []


def test_workflow_specs_reject_cycles_and_unknown_stages() -> None:
    step = (StepSpec(name="x", action="a"),)
    with pytest.raises(ValueError, match="cycle"):
        WorkflowSpec(
            goal="g",
            stages=(
                StageSpec(name="a", steps=step, after=("b",)),
                StageSpec(name="b", steps=(StepSpec(name="y", action="a"),), after=("a",)),
            ),
        )
    with pytest.raises(ValueError, match="unknown stage"):
        WorkflowSpec(goal="g", stages=(StageSpec(name="a", steps=step, after=("zzz",)),))
    with pytest.raises(ValueError, match="exactly one"):
        StepSpec(name="x")
    c = chain("g", ["seo_expert", "brand_guardian"])
    assert [s.after for s in c.stages] == [(), ("1-seo_expert",)]


def test_custom_agents_load_from_toml_and_yaml(tmp_path: Path) -> None:
    toml = tmp_path / "agents.toml"
    toml.write_text(
        '[[agents]]\nagent_id = "content_strategist"\nrole = "content_strategist"\n'
        'name = "Content Strategy Expert"\nsystem_prompt = "You plan content."\n'
        'skills = [{skill = "storytelling", level = "expert", confidence = 0.9}]\n'
    )
    [p] = load_profiles(toml)
    assert p.level_of("storytelling") == ExpertiseLevel.EXPERT
    yaml_file = tmp_path / "agents.yaml"
    yaml_file.write_text(
        "agents:\n  - agent_id: analyst\n    role: analyst\n    name: Analyst\n"
        "    system_prompt: You analyse.\n    skills:\n      - skill: data_analysis\n"
        "        level: 4\n"
    )
    assert load_profiles(yaml_file)[0].agent_id == "analyst"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[agents]]\nagent_id = "Bad Id"\n')
    with pytest.raises(ConfigurationError, match="agent #1"):
        load_profiles(bad)


def test_bound_context_sets_and_restores_the_correlation_id() -> None:
    ctx = AgentContext(workspace_id="w")
    assert correlation_id.get() is None
    with bound(ctx):
        assert correlation_id.get() == ctx.correlation_id
    assert correlation_id.get() is None
