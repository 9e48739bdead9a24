"""Prompt compression: fewer tokens, the same facts.

A prompt is a list of :class:`Section`, each with a priority. Compression runs
in three passes, each cheaper in meaning than the next:

1. **Tidy**: collapse runs of blank lines and spaces, strip filler phrases
   ("please note that", "it is worth noting that") that carry no fact.
2. **Deduplicate across sections**: split sections into sentences (and bullet
   lines); a sentence whose content words are all in a sentence already kept
   (from a required section, or one of equal or higher priority: required
   sections keep their own words, since only they survive the budget), or that
   nearly repeats one
   (word-set Jaccard at or above ``near_duplicate``), is removed. A sentence
   with a number the kept one lacks is always kept. Agent snippets and raw
   context repeat each other a lot; this is where most of the saving comes from.
3. **Budget**: while the prompt is over ``budget_tokens``, drop whole sections,
   lowest priority first; ``required`` sections are never dropped.

Token counts use :func:`count_tokens`, a fast estimate within about 10% of the
``cl100k_base`` tokenizer on English prose (measured on SPEC.md and the seeds;
see docs/llm.md). It needs no tokenizer file and no network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from maestro.errors import ValidationError

__all__ = [
    "DEFAULT_NEAR_DUPLICATE",
    "CompressedPrompt",
    "CompressionReport",
    "Section",
    "compress",
    "count_tokens",
]

DEFAULT_NEAR_DUPLICATE = 0.8
"""Word-set Jaccard similarity at which two sentences count as the same fact."""

_PIECE = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_FILLER = (
    r"(?:please note that|note that|it is important to note that|it is worth noting that|"
    r"as (?:mentioned|noted) (?:above|before|earlier),?|basically,?|essentially,?|actually,?|"
    r"at this point in time,?|for what it'?s worth,?)"
)
_LEADING_FILLER = re.compile(r"(?m)(^|[.!?] |^[-*] )" + _FILLER + r" *([a-z])", re.IGNORECASE)
_FILLERS = re.compile(r"\b" + _FILLER + r" *", re.IGNORECASE)
_STOP_WORDS = (
    "a an the of to in on at for and or is are was were be been it its this that "
    "with as by from your you their they has have had"
)
_STOP = frozenset(_STOP_WORDS.split())


def count_tokens(text: str) -> int:
    """Estimated tokens: one per short word, more for long words and long numbers."""
    n = 0
    for m in _PIECE.finditer(text):
        s = m.group()
        if s[0].isalpha():
            n += 1 + max(0, len(s) - 7) // 5
        elif s[0].isdigit():
            n += math.ceil(len(s) / 3)
        else:
            n += 1
    return n


@dataclass(frozen=True, kw_only=True)
class Section:
    """One part of a prompt."""

    name: str
    """A label for reports (``"snippet:overdue-task"``, ``"instructions"``)."""
    text: str
    """The section's text, rendered."""
    priority: int = 50
    """Higher is more important: kept first, dropped last, wins duplicate ties."""
    required: bool = False
    """Never dropped for the budget, and wins duplicate ties over droppable sections."""


@dataclass(frozen=True, kw_only=True)
class CompressionReport:
    """What compression did, in numbers."""

    tokens_before: int
    tokens_after: int
    sentences_removed: int
    sections_dropped: tuple[str, ...] = ()

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    @property
    def saved_ratio(self) -> float:
        """Fraction of tokens removed (0.3 means 30% fewer)."""
        return self.tokens_saved / self.tokens_before if self.tokens_before else 0.0


@dataclass(frozen=True, kw_only=True)
class CompressedPrompt:
    sections: tuple[Section, ...]
    """The surviving sections, in their original order, with their compressed text."""
    report: CompressionReport
    separator: str = field(default="\n\n", repr=False)

    @property
    def text(self) -> str:
        return self.separator.join(s.text for s in self.sections if s.text)


def compress(
    sections: Sequence[Section],
    *,
    budget_tokens: int | None = None,
    near_duplicate: float = DEFAULT_NEAR_DUPLICATE,
    separator: str = "\n\n",
) -> CompressedPrompt:
    """Compress ``sections`` (see the module docstring for the passes).

    Raises:
        ValidationError: ``budget_tokens`` is not positive or ``near_duplicate``
            is outside (0, 1].
    """
    if budget_tokens is not None and budget_tokens < 1:
        raise ValidationError(
            f"budget_tokens must be positive, got {budget_tokens}", field="budget_tokens"
        )
    if not 0.0 < near_duplicate <= 1.0:
        raise ValidationError(
            f"near_duplicate must be in (0, 1], got {near_duplicate}", field="near_duplicate"
        )
    before = count_tokens(separator.join(s.text for s in sections if s.text))
    texts, removed = _deduplicate(sections, near_duplicate)
    kept = [
        Section(name=s.name, text=t, priority=s.priority, required=s.required)
        for s, t in zip(sections, texts, strict=True)
    ]
    kept, dropped = _fit_budget(kept, budget_tokens, separator)
    result = tuple(s for s in kept if s.text)
    after = count_tokens(separator.join(s.text for s in result))
    report = CompressionReport(
        tokens_before=before,
        tokens_after=after,
        sentences_removed=removed,
        sections_dropped=tuple(dropped),
    )
    return CompressedPrompt(sections=result, report=report, separator=separator)


def _tidy(text: str) -> str:
    text = _LEADING_FILLER.sub(lambda m: m.group(1) + m.group(2).upper(), text)
    text = _FILLERS.sub("", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _sentences(line: str) -> list[str]:
    return [p for p in _SENTENCE_END.split(line) if p]


def _words(unit: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(unit.lower()) if w not in _STOP)


def _said(new: frozenset[str], old: frozenset[str], threshold: float) -> bool:
    """Whether ``new`` adds nothing to ``old``: contained in it, or a near duplicate.

    A sentence with a number the other lacks is never a duplicate: "5 tasks" and
    "2 tasks" differ by one word and are different facts.
    """
    if not {w for w in new if w[0].isdigit()} <= old:
        return False
    return new <= old or len(new & old) / len(new | old) >= threshold


def _deduplicate(sections: Sequence[Section], threshold: float) -> tuple[list[str], int]:
    """Each section's text with sentences already said by a stronger section removed.

    Required sections are read first: a fact they share with a droppable section
    must stay in the one the budget cannot drop.
    """
    order = sorted(
        range(len(sections)), key=lambda i: (not sections[i].required, -sections[i].priority, i)
    )
    seen: list[frozenset[str]] = []
    texts = [""] * len(sections)
    removed = 0
    for i in order:
        lines: list[str] = []
        for line in _tidy(sections[i].text).split("\n"):
            if not line.strip():
                lines.append("")
                continue
            kept: list[str] = []
            removed_here = 0
            for unit in _sentences(line):
                words = _words(unit)
                # Headings and short bullets ("Signals:", "- none") are structure, not facts.
                if len(words) < 2:
                    kept.append(unit)
                elif any(_said(words, s, threshold) for s in seen):
                    removed_here += 1
                else:
                    seen.append(words)
                    kept.append(unit)
            removed += removed_here
            if kept and (removed_here == 0 or any(_words(u) for u in kept)):
                lines.append(" ".join(kept))
        texts[i] = _join_lines(lines)
    return texts, removed


def _join_lines(lines: Iterable[str]) -> str:
    text = "\n".join(lines)
    # A heading whose every line went is left dangling ("Signals:" with nothing under it).
    text = re.sub(r"(?m)^[^\n]*:\s*\n(?=\n|\Z)", "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _fit_budget(
    sections: list[Section], budget: int | None, separator: str
) -> tuple[list[Section], list[str]]:
    if budget is None:
        return sections, []
    kept = list(sections)
    dropped: list[str] = []
    droppable = sorted(
        (i for i, s in enumerate(kept) if not s.required and s.text),
        key=lambda i: (kept[i].priority, -i),
    )
    for i in droppable:
        if count_tokens(separator.join(s.text for s in kept if s.text)) <= budget:
            break
        dropped.append(kept[i].name)
        kept[i] = Section(name=kept[i].name, text="", priority=kept[i].priority)
    return kept, dropped
