"""``POST /api/recommend``, ``GET /api/tips/{id}`` and ``POST /api/tips/{id}/feedback``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.recommend.rewards import Reaction
from maestro.recommend.service import Recommender, Tip
from maestro.recommend.state import Key

router = APIRouter(prefix="/api", tags=["recommend"])


async def get_recommender(request: Request, engine: EngineDep) -> Recommender:
    """The app's recommender (``app.state.recommender`` if set, else built on the engine)."""
    rec: Recommender | None = getattr(request.app.state, "recommender", None)
    if rec is None:
        rec = Recommender(
            engine.db, engine.clock, engine.gateway, settings=engine.settings.recommend
        )
        request.app.state.recommender = rec
    return rec


RecommenderDep = Annotated[Recommender, Depends(get_recommender)]
TipPath = Annotated[str, Path(min_length=1, max_length=36)]


class RecommendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Key


class TipOut(BaseModel):
    id: str
    user_id: str
    text: str
    agents: list[str]
    """Agents whose snippets went into the prompt; empty on the fallback path."""
    template_version: str
    fallback: bool
    """True when no unexpired agent output existed and raw signals were used."""
    model: str
    created_at: datetime


class TipDetail(TipOut):
    inputs: list[dict[str, Any]]
    """Each snippet used (agent, version, text, signals, computed and expiry times)."""
    prompt: str


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reaction: Reaction
    key: Key | None = None
    """Idempotency key; defaults to the reaction (one of each reaction per tip)."""


class FeedbackOut(BaseModel):
    id: str
    tip_id: str
    reaction: str
    reward_milli: int
    key: str
    created: bool
    created_at: datetime


def _tip(t: Tip) -> dict[str, Any]:
    return {
        "id": t.id,
        "user_id": t.user_id,
        "text": t.text,
        "agents": t.agents,
        "template_version": t.template_version,
        "fallback": t.fallback,
        "model": t.model,
        "created_at": t.created_at,
    }


@router.post("/recommend")
async def recommend(
    body: RecommendBody, workspace: CurrentWorkspace, rec: RecommenderDep
) -> TipOut:
    """One tip for the user from their fresh agent snippets (one LLM call, P1)."""
    return TipOut(**_tip(await rec.recommend(workspace.id, body.user_id)))


@router.get("/tips/{tip_id}")
async def get_tip(tip_id: TipPath, workspace: CurrentWorkspace, rec: RecommenderDep) -> TipDetail:
    """A tip and everything that went into it: snippets, versions, prompt."""
    t = await rec.tip(workspace.id, tip_id)
    return TipDetail(**_tip(t), inputs=t.inputs, prompt=t.prompt)


@router.post("/tips/{tip_id}/feedback")
async def feedback(
    tip_id: TipPath,
    body: FeedbackBody,
    workspace: CurrentWorkspace,
    rec: RecommenderDep,
    response: Response,
) -> FeedbackOut:
    """Record the user's reaction (201 when new, 200 when this key was already recorded)."""
    f = await rec.feedback(workspace.id, tip_id, body.reaction, key=body.key)
    response.status_code = 201 if f.created else 200
    return FeedbackOut(
        id=f.id,
        tip_id=f.tip_id,
        reaction=f.reaction,
        reward_milli=f.reward_milli,
        key=f.key,
        created=f.created,
        created_at=f.created_at,
    )
