"""A generated, labelled workload for calibrating and benchmarking the cache.

Base prompts come from templates with slots (seeded, so a seed is a fixed data
set). Each base is stored once; queries against the stored bases are labelled:

* ``exact``: the same text (should hit, at L1);
* ``reformatted``: case, whitespace, punctuation and filler words changed (L2);
* ``paraphrase``: function words swapped, clauses reordered, an inflection or a
  synonym changed (should hit, at L3);
* ``opposite``: a negation added or a word swapped for its antonym (must miss);
* ``near_miss``: the same template with another slot value (another product
  or city), or with a qualifier inserted ("... on android"): a different
  question that must miss; the insertions pass the guard, so only the
  threshold stops them;
* ``unrelated``: a prompt from templates that were never stored (must miss).

Caveat: the synonym and antonym swaps draw on short lists; the antonym list
overlaps the guard's lexicon, so ``opposite`` measures the guard on the
vocabulary it knows. Paraphrases that change content words are the hard case
for a surface embedder and are reported separately.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

__all__ = ["KINDS", "POSITIVE_KINDS", "Query", "Workload", "filler_prompts", "generate"]

Kind = Literal["exact", "reformatted", "paraphrase", "opposite", "near_miss", "unrelated"]
KINDS: tuple[Kind, ...] = (
    "exact",
    "reformatted",
    "paraphrase",
    "opposite",
    "near_miss",
    "unrelated",
)
POSITIVE_KINDS = frozenset({"exact", "reformatted", "paraphrase"})


def _csv(text: str) -> list[str]:
    return text.split(",")


_SLOTS: dict[str, list[str]] = {
    "product": _csv(
        "billing portal,mobile app,admin console,analytics dashboard,checkout page,"
        "help center,partner api,email client,crm,data warehouse,video editor,photo library"
    ),
    "feature": _csv(
        "dark mode,two factor authentication,auto save,push notifications,"
        "single sign on,read receipts,spell check,offline sync,audit logging,beta features"
    ),
    "thing": _csv(
        "password,invoice,profile picture,api key,shipping address,display name,"
        "backup schedule,team members,billing plan,notification sound"
    ),
    "city": _csv("paris,tokyo,madrid,berlin,lisbon,toronto,nairobi,sydney,oslo,lima"),
    "topic": _csv(
        "coffee,gardening,chess,marathons,jazz,volcanoes,sourdough,tide pools,"
        "electric cars,honeybees,origami,black holes"
    ),
    "audience": _csv("children,beginners,engineers,managers,students,retirees"),
    "genre": _csv("poem,story,haiku,limerick,essay,fable"),
    "substance": _csv(
        "bleach and vinegar,ibuprofen with coffee,raw cookie dough,"
        "tap water in mexico,expired yogurt,two antihistamines"
    ),
}
# (template, antonym-able verb or None). {verb} slots take the first form.
_TEMPLATES: list[tuple[str, tuple[str, str] | None]] = [
    ("How do I change my {thing} in the {product}?", None),
    ("How do I enable {feature} in the {product}?", ("enable", "disable")),
    ("How do I add {thing} to the {product}?", ("add", "remove")),
    ("What is the best time of year to visit {city}?", ("best", "worst")),
    ("Write a short {genre} about {topic} for {audience}.", None),
    ("Is it safe to mix {substance}?", None),
    ("Explain {topic} to {audience} in simple words.", None),
    ("Should I increase the {thing} limit in the {product}?", ("increase", "decrease")),
    ("Can I export my {thing} from the {product}?", ("export", "import")),
    ("What should I pack before a trip to {city}?", ("before", "after")),
]
_UNRELATED: list[str] = [
    "What is the boiling point of {topic} at altitude?",
    "Translate the phrase good morning into the language of {city}.",
    "List three facts about the history of {city} for {audience}.",
    "Recommend a {genre} collection that {audience} enjoy.",
    "Compare the cost of living in {city} with nearby towns.",
]
_FUNCTION_SWAPS = [
    ("How do I", "How can I"),
    ("How do I", "How should I"),
    ("What is", "Tell me"),
    ("Write a short", "Please write a short"),
    ("Explain", "Can you explain"),
    ("Should I", "Is it a good idea to"),
    ("Can I", "Is it possible to"),
    ("Is it safe to", "Can I safely"),
    (" my ", " the "),
    ("What should I", "What do I need to"),
]
_SYNONYMS = [
    ("change", "update"),
    ("short", "brief"),
    ("simple", "plain"),
    ("trip", "journey"),
    ("time of year", "season"),
    ("mix", "combine"),
    ("limit", "cap"),
]
_QUALIFIERS = [
    " on android",
    " for my whole team",
    " as a pdf",
    " in winter",
    " for a large company",
    " using the command line",
    " on a tight budget",
]
_FILLERS_BEFORE = ["Hey, ", "Hi! ", "Please, ", "Um, ", "Could you please tell me: ", "So, "]
_FILLERS_AFTER = [" Thanks!", " Please.", " thank you", "!!", " ??", " ok?"]


@dataclass(frozen=True)
class Query:
    text: str
    kind: Kind
    base: int
    """Index of the stored base this query was made from (-1 for unrelated)."""

    @property
    def positive(self) -> bool:
        return self.kind in POSITIVE_KINDS


@dataclass(frozen=True)
class Workload:
    bases: list[str]
    queries: list[Query]


def _fill(rng: random.Random, template: str) -> tuple[str, dict[str, str]]:
    values = {
        slot: rng.choice(opts) for slot, opts in _SLOTS.items() if "{" + slot + "}" in template
    }
    return template.format(**values), values


def _reformat(rng: random.Random, text: str) -> str:
    words = text.split()
    out = [
        w.upper() if rng.random() < 0.2 else (w.lower() if rng.random() < 0.5 else w) for w in words
    ]
    joined = ("  " if rng.random() < 0.5 else " ").join(out)
    joined = joined.rstrip("?.!") + rng.choice(["?", "??", ".", "", " ?!"])
    return rng.choice(_FILLERS_BEFORE) + joined + rng.choice(_FILLERS_AFTER)


def _paraphrase(rng: random.Random, text: str) -> str | None:
    options: list[str] = []
    for a, b in _FUNCTION_SWAPS + _SYNONYMS:
        if a in text:
            options.append(text.replace(a, b, 1))
    if " in the " in text:
        head, _, tail = text.rstrip("?.").partition(" in the ")
        options.append(f"In the {tail}, {head[0].lower()}{head[1:]}{text[-1]}")
    if not options:
        return None
    para = rng.choice(options)
    if rng.random() < 0.4:
        for a, b in _FUNCTION_SWAPS:
            if a in para and b not in para:
                para = para.replace(a, b, 1)
                break
    return para if para != text else None


def _opposite(rng: random.Random, text: str, pair: tuple[str, str] | None) -> str:
    if pair is not None and pair[0] in text and rng.random() < 0.6:
        return text.replace(pair[0], pair[1], 1)
    for neg_from, neg_to in (
        ("Is it safe", "Is it not safe"),
        ("How do I", "Why can I not"),
        ("Should I", "Should I not"),
        ("Can I", "Can I not"),
        ("What is the", "What is not the"),
        ("What should I", "What should I not"),
        ("Write a", "Do not write a"),
        ("Explain", "Do not explain"),
    ):
        if neg_from in text:
            return text.replace(neg_from, neg_to, 1)
    return "Do not " + text[0].lower() + text[1:]


def _near_miss(rng: random.Random, template: str, values: dict[str, str]) -> str | None:
    if rng.random() < 0.5:
        # an insertion only: no content word replaced, so the guard lets it through
        text = template.format(**values)
        return text[:-1] + rng.choice(_QUALIFIERS) + text[-1]
    slot = rng.choice(sorted(values))
    others = [v for v in _SLOTS[slot] if v != values[slot]]
    changed = dict(values, **{slot: rng.choice(others)})
    return template.format(**changed)


def generate(n_bases: int = 400, *, seed: int = 0) -> Workload:
    """``n_bases`` distinct stored prompts and six labelled queries per base."""
    rng = random.Random(seed)
    bases: list[str] = []
    meta: list[tuple[str, dict[str, str], tuple[str, str] | None]] = []
    seen: set[str] = set()
    while len(bases) < n_bases:
        template, pair = rng.choice(_TEMPLATES)
        text, values = _fill(rng, template)
        if text in seen:
            continue
        seen.add(text)
        bases.append(text)
        meta.append((template, values, pair))
    queries: list[Query] = []
    for i, (text, (template, values, pair)) in enumerate(zip(bases, meta, strict=True)):
        queries.append(Query(text, "exact", i))
        queries.append(Query(_reformat(rng, text), "reformatted", i))
        para = _paraphrase(rng, text)
        if para is not None:
            queries.append(Query(para, "paraphrase", i))
        queries.append(Query(_opposite(rng, text, pair), "opposite", i))
        near = _near_miss(rng, template, values)
        if near is not None and near not in seen:
            queries.append(Query(near, "near_miss", i))
        unrelated, _ = _fill(rng, rng.choice(_UNRELATED))
        queries.append(Query(unrelated, "unrelated", -1))
    return Workload(bases=bases, queries=queries)


def filler_prompts(n: int, *, seed: int = 1) -> list[str]:
    """``n`` distinct prompts unlike the workload's, to fill a cache to size."""
    rng = random.Random(seed)
    words = sorted({w for opts in _SLOTS.values() for o in opts for w in o.split()})
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        k = rng.randint(5, 12)
        text = "Note " + " ".join(rng.choice(words) for _ in range(k)) + f" {rng.randint(0, 10**6)}"
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out
