"""What a request is keyed by at each level.

* L1 (exact): the canonical request: model, every message with its role,
  sampling parameters and template version, serialised with sorted keys.
* L2 (normalised): the same parameters and every message, each content
  normalised (case, Unicode form, whitespace, punctuation, filler words).
* L3 (semantic): the *namespace* is the parameters plus the normalised earlier
  turns, so only the last user message is compared by embedding; a
  conversation that differs in an earlier turn lands in another namespace
  and can never hit.

Metadata is not part of any key: it describes the caller, not the question.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass

from maestro.llm.types import CompletionRequest

__all__ = ["RequestKeys", "cacheable", "normalize", "request_keys"]

_FILLER_PHRASES = (
    "i was wondering if",
    "i was wondering",
    "would you mind",
    "could you please",
    "can you please",
    "could you",
    "would you",
    "can you",
    "thank you",
    "if you can",
    "if possible",
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FILLER_WORDS = _words(
    "please kindly um uh uhm er hey hi hello just basically actually thanks pls plz so well ok okay"
)
_CONTRACTIONS = {
    "what's": "what is",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "how's": "how is",
    "where's": "where is",
    "who's": "who is",
    "i'm": "i am",
    "you're": "you are",
    "we're": "we are",
    "they're": "they are",
    "i've": "i have",
    "i'd": "i would",
    "i'll": "i will",
    "let's": "let us",
    "can't": "cannot",
    "won't": "will not",
    "isn't": "is not",
    "aren't": "are not",
    "don't": "do not",
    "doesn't": "does not",
    "didn't": "did not",
    "shouldn't": "should not",
    "wouldn't": "would not",
    "couldn't": "could not",
    "wasn't": "was not",
    "weren't": "were not",
    "haven't": "have not",
    "hasn't": "has not",
}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
# Words (an inner apostrophe kept) and numbers (inner "." or "," kept: "3.5", "1,000");
# every other character is a separator.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+(?:'[^\W_]+)?")


def normalize(text: str) -> str:
    """Case, Unicode, whitespace, punctuation, contractions and filler words, compressed.

    Negations are never fillers: "is not safe" keeps its "not".
    """
    t = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    t = " ".join(_CONTRACTIONS.get(w, w) for w in _TOKEN.findall(t))
    for phrase in _FILLER_PHRASES:
        t = re.sub(rf"\b{phrase}\b", " ", t)
    return " ".join(w for w in t.split() if w not in _FILLER_WORDS)


def _digest(payload: object) -> str:
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RequestKeys:
    """The keys of one request at every level."""

    l1: str
    """Digest of the canonical request."""
    l2: str
    """Digest of the parameters and every normalised message."""
    namespace: str
    """Digest of the parameters and the normalised earlier turns (the L3 search space)."""
    query: str
    """The normalised last user message: what L3 embeds and the guard compares."""


def _params(request: CompletionRequest) -> dict[str, object]:
    return {
        "model": request.model,
        "task_class": request.task_class,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "template_version": request.template_version,
    }


def request_keys(request: CompletionRequest) -> RequestKeys:
    """Every key of ``request``; pure and deterministic across processes."""
    params = _params(request)
    messages = [(m.role, m.content) for m in request.messages]
    normalised = [(role, normalize(content)) for role, content in messages]
    last_user = max(
        (i for i, m in enumerate(request.messages) if m.role == "user"),
        default=len(messages) - 1,
    )
    context = normalised[:last_user] + normalised[last_user + 1 :]
    return RequestKeys(
        l1=_digest({"p": params, "m": messages}),
        l2=_digest({"p": params, "m": normalised}),
        namespace=_digest({"p": params, "c": context, "at": last_user}),
        query=normalised[last_user][1],
    )


def cacheable(request: CompletionRequest) -> bool:
    """Deterministic requests are cached; ``opt_in`` caches sampled ones; ``bypass`` never."""
    if request.cache == "bypass":
        return False
    return request.cache == "opt_in" or request.deterministic
