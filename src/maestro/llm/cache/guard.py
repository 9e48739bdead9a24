"""The meaning guard: refuse an L3 candidate whose meaning differs from the query.

Embedders score surface and topic, not truth value: "enable dark mode" and
"disable dark mode" are 0.94 apart under MiniLM and closer still under the
hashing embedder. Above the similarity threshold, a candidate is refused when
the two texts (already normalised) differ by:

* negation: an odd number of negation words on one side only ("is not safe");
* antonymy: a word on one side whose antonym is on the other, from a short
  lexicon or by prefix (un-/in-/im-/dis-/non-/de-, en- against dis-);
* numbers: different numeric tokens ("top 5" against "top 10");
* content words (strict mode): a content word (not a stop word, after light
  stemming) on one side only: a substitution ("visit Paris" against "visit
  Madrid") or an insertion ("... on android"). So L3 answers rewordings that
  keep every content word (function words, order, inflection, fillers); it
  refuses synonym swaps, which costs recall on such paraphrases (measured in
  bench/results/cache.md). Question words count too when both sides have
  one ("how do I" against "why do I"). An insertion-tolerant rule let through 40% of the
  workload's qualifier near-misses at every threshold above 0.4.

Pure functions over strings: tested with plain values.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["GuardReason", "refusal"]

GuardReason = Literal["negation", "antonym", "numbers", "content"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATIONS = _words("not no never none nobody nothing nowhere neither nor cannot without non")
_ANTONYM_PAIRS = (
    ("enable", "disable"),
    ("on", "off"),
    ("increase", "decrease"),
    ("add", "remove"),
    ("allow", "deny"),
    ("allow", "block"),
    ("accept", "reject"),
    ("true", "false"),
    ("before", "after"),
    ("max", "min"),
    ("maximum", "minimum"),
    ("more", "less"),
    ("most", "least"),
    ("up", "down"),
    ("open", "close"),
    ("start", "stop"),
    ("include", "exclude"),
    ("buy", "sell"),
    ("yes", "no"),
    ("positive", "negative"),
    ("good", "bad"),
    ("best", "worst"),
    ("better", "worse"),
    ("high", "low"),
    ("higher", "lower"),
    ("love", "hate"),
    ("win", "lose"),
    ("pass", "fail"),
    ("safe", "dangerous"),
    ("legal", "illegal"),
    ("hot", "cold"),
    ("fast", "slow"),
    ("cheap", "expensive"),
    ("easy", "hard"),
    ("import", "export"),
    ("encrypt", "decrypt"),
    ("upload", "download"),
    ("login", "logout"),
    ("show", "hide"),
    ("lock", "unlock"),
    ("always", "never"),
    ("all", "none"),
    ("with", "without"),
    ("first", "last"),
    ("input", "output"),
    ("internal", "external"),
    ("public", "private"),
    ("join", "leave"),
    ("gain", "loss"),
    ("profit", "loss"),
    ("success", "failure"),
    ("agree", "disagree"),
    ("like", "dislike"),
    ("asc", "desc"),
    ("ascending", "descending"),
)
_ANTONYMS: dict[str, frozenset[str]] = {}
for _a, _b in _ANTONYM_PAIRS:
    _ANTONYMS[_a] = _ANTONYMS.get(_a, frozenset()) | {_b}
    _ANTONYMS[_b] = _ANTONYMS.get(_b, frozenset()) | {_a}
_NEG_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "de", "anti", "mis")

STOPWORDS = (
    _words(
        """a an the this that these those is are was were be been being am do does did done
    doing have has had having i me my mine we us our you your he him his she her it its
    they them their what which who whom whose when where why how can could would should
    will shall may might must to of in on at by for from with about into onto over under
    as and or but if then than so such there here some any each every also too very
    really quite tell explain describe show give list let know want need like get
    help write provide find please way ways best good one thing things"""
    )
    - NEGATIONS
    - {"on", "with", "best", "good", "like"}
)
WH_WORDS = _words("what which who whom whose when where why how")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*$")


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _prefix_antonyms(a: str, b: str) -> bool:
    for x, y in ((a, b), (b, a)):
        for p in _NEG_PREFIXES:
            if len(y) > len(p) + 2 and y == p + x:
                return True
    return a.startswith("en") and b.startswith("dis") and a[2:] == b[3:] and len(a) > 4


def _antonyms(a: str, b: str) -> bool:
    return b in _ANTONYMS.get(a, frozenset()) or _prefix_antonyms(a, b)


def refusal(query: str, candidate: str, *, strict: bool = True) -> GuardReason | None:
    """Why ``candidate`` must not answer ``query`` (both normalised), or ``None``."""
    q_words, c_words = query.split(), candidate.split()
    q_neg = sum(w in NEGATIONS for w in q_words)
    c_neg = sum(w in NEGATIONS for w in c_words)
    if q_neg % 2 != c_neg % 2:
        return "negation"
    q_set, c_set = set(q_words), set(c_words)
    q_only, c_only = q_set - c_set, c_set - q_set
    if any(_antonyms(a, b) for a in q_only for b in c_only):
        return "antonym"
    if {w for w in q_set if _NUMBER.match(w)} != {w for w in c_set if _NUMBER.match(w)}:
        return "numbers"
    if strict:
        q_wh, c_wh = q_set & WH_WORDS, c_set & WH_WORDS
        if q_wh and c_wh and q_wh != c_wh:
            return "content"
        q_content = {_stem(w) for w in q_only if w not in STOPWORDS}
        c_content = {_stem(w) for w in c_only if w not in STOPWORDS}
        if q_content ^ c_content:
            return "content"
    return None
