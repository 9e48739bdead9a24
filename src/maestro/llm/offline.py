"""The offline model: a deterministic, seeded text composer. **Not a language model.**

It exists so the demo, the tests and air-gapped runs work with no network and no
weights. It does not understand anything: it reads recognisable parts of the
prompt (``Key: value`` lines and headed lists, see docs/llm.md, "Prompt
conventions") and assembles text from them with a random generator seeded by a
hash of the prompt and the request's seed. So:

- the same request always gives the same answer;
- different prompts (another strategy, topic, brand voice, snippets, patterns)
  give different texts, built from the prompt's own words;
- an examiner or critique prompt (it asks for JSON and to score, rate, examine,
  critique or evaluate) gets JSON scores per named aspect plus ``overall``,
  computed from measurable features of the examined text (hook, call to action,
  length, sentence length, paragraphs, topic words), so better-structured text
  scores higher;
- a planner prompt (a list of agents and a request for a plan or sequence in
  JSON) gets a JSON agent sequence drawn only from the listed agents;
- a revision prompt that lists issues gets a text that fixes the named features.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from maestro.llm.compress import count_tokens
from maestro.llm.types import CompletionRequest, ProviderReply, Usage

__all__ = [
    "DEFAULT_ASPECTS",
    "OFFLINE_MODEL",
    "ExaminerVerdict",
    "OfflineModel",
    "PromptParts",
    "parse_prompt",
    "score_text",
]

OFFLINE_MODEL: Final = "offline"
DEFAULT_ASPECTS: Final = ("clarity", "engagement", "structure", "relevance")
IDEAL_WORDS: Final = (25, 120)
"""Word counts the examiner treats as the right length for a post or a tip."""

_KEY_LINE = re.compile(r"^\s*(?:[-*]\s+)?([A-Za-z][A-Za-z _/-]{0,30}?)\s*:\s*(\S.*)$")
_HEADING = re.compile(r"^\s*(?:#+\s*(.+?)\s*:?|([A-Za-z][^:\n]{0,48}):)\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+)$|^\s*(\[[\w .:/-]+\].+)$")
_BLOCK = re.compile(r"<content>(.*?)</content>|```[a-z]*\n(.*?)```|\"\"\"(.*?)\"\"\"", re.S)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)?%?")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_JSON_KEY_LIST = re.compile(r"\"(\w+)\"\s*:\s*\[")
_CTA = re.compile(
    r"\b(save|share|follow|comment|try|start|join|click|book|subscribe|tap|download|reply|"
    r"let us know|tell us|sign up|today|now)\b",
    re.IGNORECASE,
)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_STOP_WORDS = (
    "a an the of to in on at for and or is are was were be been it its this that "
    "with as by from your you their they has have had do does not no yes can will "
    "should would could about into over more most very just than then so if but all "
    "any each our we us i me my"
)
_STOP = frozenset(_STOP_WORDS.split())

# Headings are recognised by a word they contain.
_SECTION_KINDS: Final = {
    "snippets": ("snippet", "signal", "context", "insight", "agent output", "observation", "fact"),
    "patterns": ("pattern", "knowledge", "learned", "what works", "worked", "lesson"),
    "issues": ("issue", "critique", "feedback", "fix", "problem", "improve"),
    "aspects": ("aspect", "criteria", "criterion", "dimension", "rubric"),
    "agents": ("agent", "expert", "team", "available"),
    "content": ("content", "draft", "text", "post", "caption", "tip", "candidate", "proposal"),
}
_EXAMINE_WORDS = re.compile(
    r"\b(examine|examiner|critique|critic|evaluate|evaluation|score|scores|rate|assess|grade)\b",
    re.IGNORECASE,
)
_PLAN_WORDS = re.compile(r"\b(plan|planner|sequence|route|workflow|pipeline)\b", re.IGNORECASE)


class ExaminerVerdict(BaseModel):
    """The JSON the offline model answers an examiner or critique prompt with."""

    model_config = ConfigDict(frozen=True)

    scores: dict[str, float]
    """One score in [0, 1] per aspect named in the prompt (or the default aspects)."""
    overall: float = Field(ge=0.0, le=1.0)
    """The mean of ``scores``."""
    quality: float = Field(ge=0.0, le=1.0)
    """Same as ``overall`` (some prompts ask for ``quality``)."""
    issues: list[str]
    """What to fix, one short sentence each, weakest feature first."""
    suggestions: list[str]


@dataclass(frozen=True)
class PromptParts:
    """What the offline model recognised in a prompt."""

    text: str
    fields: dict[str, str] = field(default_factory=dict)
    """``Key: value`` lines, keys lower-cased with spaces as underscores."""
    sections: dict[str, list[str]] = field(default_factory=dict)
    """Items under recognised headings, by kind (snippets, patterns, issues, ...)."""
    content: str = ""
    """The text to examine or revise (a ``<content>`` block, fenced block or Content: section)."""

    def field_of(self, *names: str) -> str:
        for n in names:
            if self.fields.get(n):
                return self.fields[n]
        return ""

    @property
    def kind(self) -> str:
        """``plan``, ``examine`` or ``compose``."""
        wants_json = "json" in self.text.lower()
        if wants_json and self.sections.get("agents") and _PLAN_WORDS.search(self.text):
            return "plan"
        if wants_json and _EXAMINE_WORDS.search(self.text):
            return "examine"
        return "compose"


def parse_prompt(text: str) -> PromptParts:
    """Find fields, headed lists and the examined content in ``text``."""
    fields: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: str | None = None
    content_lines: list[str] = []
    blocks = [next(g for g in m.groups() if g is not None) for m in _BLOCK.finditer(text)]
    stripped = _BLOCK.sub("", text)
    for line in stripped.splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = _section_kind(heading.group(1) or heading.group(2))
            continue
        bullet = _BULLET.match(line)
        if bullet and current:
            sections.setdefault(current, []).append((bullet.group(1) or bullet.group(2)).strip())
            continue
        key = _KEY_LINE.match(line)
        if key and not bullet:
            name = re.sub(r"[\s/-]+", "_", key.group(1).strip().lower())
            fields.setdefault(name, key.group(2).strip())
            if _section_kind(name) == "content":
                content_lines.append(key.group(2).strip())
            continue
        if current == "content" and line.strip():
            content_lines.append(line.strip())
        elif current and line.strip() and not bullet:
            sections.setdefault(current, []).append(line.strip())
        elif not line.strip() and current != "content":
            current = None
    content = "\n\n".join(b.strip() for b in blocks) or "\n".join(content_lines)
    return PromptParts(text=text, fields=fields, sections=sections, content=content.strip())


def _section_kind(heading: str) -> str | None:
    h = heading.lower()
    for kind, words in _SECTION_KINDS.items():
        if any(w in h for w in words):
            return kind
    return None


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2]


@dataclass(frozen=True)
class _Features:
    words: int
    hook: float
    cta: float
    length: float
    clarity: float
    structure: float
    relevance: float
    diversity: float


def _features(text: str, topic_words: Sequence[str]) -> _Features:
    words = _WORD.findall(text)
    n = len(words)
    sentences = [s.strip() for s in _SENTENCE.findall(text) if _WORD.search(s)]
    first = sentences[0] if sentences else ""
    hook = 1.0 if ("?" in first or re.search(r"\d", first)) else 0.35
    if first.lower().startswith(("why", "how", "what", "stop", "imagine")):
        hook = 1.0
    cta = (
        1.0
        if _CTA.search(sentences[-1] if sentences else "")
        else 0.5
        if _CTA.search(text)
        else 0.2
    )
    lo, hi = IDEAL_WORDS
    length = (
        1.0 if lo <= n <= hi else max(0.0, 1.0 - (lo - n) / lo if n < lo else 1 - (n - hi) / hi)
    )
    avg = n / max(1, len(sentences))
    clarity = 1.0 if avg <= 18 else max(0.2, 1.0 - (avg - 18) / 30)
    clarity = 0.5 * clarity + 0.5 * length
    paragraphs = len([p for p in re.split(r"\n\s*\n|\n[-*] ", text) if p.strip()])
    structure = 0.3 + 0.1 * min(len(sentences), 4) + (0.3 if paragraphs >= 2 else 0.0)
    low = [w.lower() for w in words]
    if topic_words:
        hits = sum(1 for t in topic_words if t.lower() in low)
        relevance = 0.3 + 0.7 * hits / len(topic_words)
    else:
        relevance = 0.75
    diversity = len(set(low)) / n if n else 0.0
    return _Features(n, hook, cta, length, clarity, structure, relevance, diversity)


def _aspect_score(aspect: str, f: _Features) -> float:
    a = aspect.lower()
    if any(k in a for k in ("clar", "read", "concis")):
        return f.clarity
    if any(k in a for k in ("engag", "hook", "attention", "curio")):
        return 0.55 * f.hook + 0.3 * f.cta + 0.15 * f.diversity
    if any(k in a for k in ("struct", "format", "flow", "organi")):
        return 0.7 * f.structure + 0.3 * f.length
    if any(k in a for k in ("cta", "action", "conver")):
        return f.cta
    if any(k in a for k in ("relev", "topic", "accura", "fact", "brand", "voice", "fit")):
        return 0.6 * f.relevance + 0.2 * f.hook + 0.2 * f.cta
    if "length" in a:
        return f.length
    if any(k in a for k in ("origin", "creativ", "novel", "fresh")):
        return 0.6 * f.diversity + 0.4 * f.hook
    parts = (f.hook, f.cta, f.length, f.clarity, f.structure, f.relevance)
    return sum(parts) / len(parts)


def score_text(
    text: str,
    aspects: Sequence[str] = DEFAULT_ASPECTS,
    *,
    topic: str = "",
    seed: int = 0,
) -> ExaminerVerdict:
    """Score ``text`` on ``aspects`` from its features; a seeded jitter of ±0.02 breaks ties."""
    rng = random.Random(_digest(text, topic, ",".join(aspects), str(seed)))
    f = _features(text, _content_words(topic)[:6])
    scores = {
        a: round(min(1.0, max(0.0, _aspect_score(a, f) + rng.uniform(-0.02, 0.02))), 2)
        for a in aspects
    }
    overall = round(sum(scores.values()) / len(scores), 2) if scores else 0.0
    issues, suggestions = _issues(f, topic)
    return ExaminerVerdict(
        scores=scores, overall=overall, quality=overall, issues=issues, suggestions=suggestions
    )


def _issues(f: _Features, topic: str) -> tuple[list[str], list[str]]:
    found: list[tuple[float, str, str]] = []
    lo, hi = IDEAL_WORDS
    if f.hook < 0.6:
        found.append((f.hook, "weak hook", "open with a question or a number"))
    if f.cta < 0.6:
        found.append((f.cta, "no call to action", "end with a clear call to action"))
    if f.length < 0.6:
        state = "too short" if f.words < lo else "too long"
        found.append((f.length, f"{state} ({f.words} words)", f"aim for {lo}-{hi} words"))
    if f.clarity < 0.6:
        found.append((f.clarity, "sentences too long", "use shorter sentences"))
    if f.structure < 0.6:
        found.append((f.structure, "poor structure", "split into short paragraphs"))
    if f.relevance < 0.6 and topic:
        found.append((f.relevance, "off topic", f"mention the topic: {topic}"))
    found.sort(key=lambda t: t[0])
    return [i for _, i, _ in found], [s for _, _, s in found]


def _digest(*parts: str) -> int:
    h = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(h[:8], "big")


# --- composing -------------------------------------------------------------------

_HOOKS: Final = {
    "curio": (
        "What if {topic} works the opposite way you think?",
        "Nobody talks about this side of {topic}.",
    ),
    "question": (
        "Why does {topic} feel harder than it should?",
        "What would change if {topic} took 10 minutes?",
    ),
    "stat": (
        "{n}% of people get {topic} wrong.",
        "{n} out of 10 {audience} skip this part of {topic}.",
    ),
    "number": (
        "{n} things about {topic} worth knowing.",
        "{n} minutes a day is enough for {topic}.",
    ),
    "story": (
        "Last week a {audience_one} asked us about {topic}.",
        "This started with one bad day and {topic}.",
    ),
    "contrar": ("Most advice about {topic} is backwards.", "Stop doing {topic} the popular way."),
    "myth": (
        "The biggest myth about {topic}? That it takes willpower.",
        "Everything you heard about {topic} is half true.",
    ),
    "how": (
        "How to make {topic} stick in {n} minutes a day.",
        "How we fixed {topic} without a big plan.",
    ),
    "list": (
        "{n} small moves that make {topic} easier.",
        "Here are {n} ways to start with {topic}.",
    ),
    "emot": ("You are not behind on {topic}.", "Imagine {topic} feeling light again."),
    "inspir": ("Imagine where {topic} takes you in a year.", "Small steps in {topic} add up."),
    "humor": (
        "{topic}: easier than assembling furniture, we promise.",
        "Our relationship with {topic} is complicated.",
    ),
    "urgen": (
        "Stop putting {topic} off until Monday.",
        "Today is the easiest day to start {topic}.",
    ),
    "social": (
        "{n} of our readers tried this for {topic}.",
        "People who stick with {topic} share one habit.",
    ),
    "proof": (
        "{n} people tested this {topic} routine.",
        "Here is what worked for {topic}, in real numbers.",
    ),
    "behind": ("A look at how we really do {topic}.", "Behind the scenes of our {topic} routine."),
}
_GENERIC_HOOKS: Final = (
    "A note on {topic}.",
    "Why {topic} matters this week?",
    "Here is a simple idea about {topic}.",
    "{n} words on {topic}.",
)
_BODY: Final = (
    "{Topic} gets easier when you take it one small step at a time.",
    "Start with the part of {topic} you can finish today.",
    "Consistency beats intensity for {topic}.",
    "Pick one habit for {topic} and keep it for a week.",
    "Write down what you tried and what changed.",
    "The best {topic} plan is the one you actually follow.",
    "Make {topic} visible: put it where you will see it.",
)
_CTAS: Final = (
    "Save this and try it today.",
    "Share this with someone who needs it.",
    "Follow {brand} for more on {topic}.",
    "Comment with your own take below.",
    "Try one step now.",
)
_VOICE_ENDINGS: Final = {
    ("playful", "fun", "witty", "cheeky"): "Let's go! ✨",
    ("warm", "friendly", "supportive", "kind", "gentle"): "You've got this.",
    ("professional", "expert", "authoritative", "calm", "clinical"): "Evidence over hype.",
    ("bold", "direct", "punchy", "energetic"): "No excuses.",
}


@dataclass(frozen=True)
class _Wants:
    hook: bool = False
    cta: bool = False
    paragraphs: bool = False
    short: bool = False
    long: bool = False
    emoji: bool = False

    @classmethod
    def of(cls, parts: PromptParts) -> _Wants:
        said = " ".join(parts.sections.get("issues", []) + parts.sections.get("patterns", []))
        said = said.lower()

        def has(*words: str) -> bool:
            return any(w in said for w in words)

        return cls(
            hook=has("hook", "question", "open with", "number", "stat"),
            cta=has("call to action", "cta", "call-to-action"),
            paragraphs=has("structure", "paragraph", "split"),
            short=has("too long", "shorter", "concise", "short "),
            long=has("too short", "longer", "more detail"),
            emoji=has("emoji"),
        )


def _sentence(text: str) -> str:
    text = re.sub(r"^\[[^\]]+\]\s*", "", text.strip()).rstrip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _fill(template: str, values: dict[str, str]) -> str:
    out = template.format(**values)
    return out[0].upper() + out[1:]


def _compose(parts: PromptParts, rng: random.Random) -> str:
    wants = _Wants.of(parts)
    topic = parts.field_of("topic", "subject", "theme", "goal", "task") or "your routine"
    brand = parts.field_of("brand", "brand_name", "workspace") or "us"
    audience = parts.field_of("audience", "icp", "target_audience") or "readers"
    strategy = parts.field_of("strategy", "hook", "angle", "approach").lower()
    voice = parts.field_of("brand_voice", "voice", "tone", "style").lower()
    values = {
        "topic": topic.rstrip("."),
        "Topic": topic[:1].upper() + topic[1:].rstrip("."),
        "brand": brand,
        "audience": audience,
        "audience_one": audience.rstrip("s") or "reader",
        "n": str(rng.choice((3, 5, 7, 10, 12, 40, 60, 73))),
    }
    if parts.content and (parts.sections.get("issues") or "revis" in parts.text.lower()):
        return _revise(parts.content, wants, values, rng)
    hooks: tuple[str, ...] = next((h for k, h in _HOOKS.items() if k in strategy), _GENERIC_HOOKS)
    if wants.hook:
        hooks = tuple(h for h in hooks if "?" in h or "{n}" in h) or _HOOKS["question"]
    body = [_second_person(_sentence(s)) for s in parts.sections.get("snippets", [])]
    body = [s for s in body if s]
    rng.shuffle(body)
    facts = sorted(body, key=lambda s: -len(re.findall(r"\d", s)))[: 1 if wants.short else 2]
    generic = rng.sample(_BODY, k=1 if wants.short or facts else 2 + int(wants.long))
    opener = _advice(body) if body and not strategy else _fill(rng.choice(hooks), values)
    sentences = [opener, *facts, *(_fill(g, values) for g in generic)]
    if wants.cta or rng.random() < 0.4:
        sentences.append(_fill(rng.choice(_CTAS), values))
    ending = next((e for ws, e in _VOICE_ENDINGS.items() if any(w in voice for w in ws)), None)
    if ending and not wants.short:
        sentences.insert(len(sentences) - 1, ending)
    if wants.emoji and not _EMOJI.search(" ".join(sentences)):
        sentences[0] += " ✨"
    return _layout(sentences, wants.paragraphs or rng.random() < 0.4)


def _second_person(sentence: str) -> str:
    for old, new in (("The user's", "Your"), ("the user's", "your"), ("The user", "You")):
        sentence = sentence.replace(old, new)
    return re.sub(r"\bthe user\b", "you", sentence)


def _advice(facts: Sequence[str]) -> str:
    """An opening tip built from the snippets: the first named item, the first time."""
    joined = " ".join(facts)
    item = re.search(r"['\"“‘]([^'\"”’]{3,60})['\"”’]", joined)
    times = re.findall(r"\b\d{1,2}:\d{2}\b", joined)
    what = f"'{item.group(1)}'" if item else "the most important thing on your list"
    return f"Start with {what} {'before ' + times[-1] if times else 'now'}."


def _layout(sentences: list[str], paragraphs: bool) -> str:
    if not paragraphs or len(sentences) < 3:
        return " ".join(sentences)
    return "\n\n".join([sentences[0], " ".join(sentences[1:-1]), sentences[-1]])


def _revise(draft: str, wants: _Wants, values: dict[str, str], rng: random.Random) -> str:
    """The draft with the features its critique asked for."""
    sentences = [_sentence(s) for s in _SENTENCE.findall(draft) if _WORD.search(s)]
    f = _features(draft, _content_words(values["topic"])[:6])
    if wants.short or (f.length < 0.6 and f.words > IDEAL_WORDS[1]):
        sentences = sentences[:5]
    if f.hook < 0.6:
        sentences.insert(0, _fill(rng.choice(_HOOKS["question"]), values))
    if f.relevance < 0.6:
        sentences.insert(1, _fill(_BODY[0], values))
    if wants.long or f.words < IDEAL_WORDS[0]:
        sentences.insert(-1, _fill(rng.choice(_BODY[1:]), values))
    if f.cta < 0.6 or not _CTA.search(sentences[-1]):
        sentences.append(_fill(rng.choice(_CTAS), values))
    return _layout(sentences, True)


def _plan(parts: PromptParts, rng: random.Random) -> str:
    agents: list[tuple[str, str]] = []
    for item in parts.sections.get("agents", []):
        m = re.match(r"`?([\w.-]+)`?\s*(?:[:(—–-]+\s*(.*))?$", item.strip())
        if m:
            agents.append((m.group(1), m.group(2) or ""))
    goal = parts.field_of("goal", "task", "request", "objective") or parts.text
    goal_words = {w.lower() for w in _content_words(goal)}
    scored = [
        (len(goal_words & {w.lower() for w in _content_words(f"{n} {d}".replace("-", " "))}), i)
        for i, (n, d) in enumerate(agents)
    ]
    chosen = sorted(i for s, i in sorted(scored, key=lambda t: (-t[0], t[1]))[:4] if s > 0)
    if not chosen:
        chosen = list(range(min(2, len(agents))))
    keys = _JSON_KEY_LIST.findall(parts.text)
    key = keys[0] if keys else "agents"
    names = [agents[i][0] for i in chosen]
    reason = f"matched the goal's words to {', '.join(names) or 'no listed agent'}"
    return json.dumps({key: names, "rationale": reason})


def _examine(parts: PromptParts, rng: random.Random) -> str:
    aspects = [
        re.split(r"[:(—–]", a)[0].strip().strip("`*").lower()
        for a in parts.sections.get("aspects", [])
    ]
    aspects = [re.sub(r"\s+", "_", a) for a in aspects if a]
    if not aspects and (named := parts.field_of("aspects", "criteria")):
        aspects = [re.sub(r"\s+", "_", a.strip().lower()) for a in named.split(",") if a.strip()]
    topic = parts.field_of("topic", "subject", "theme", "goal")
    text = parts.content or parts.text
    verdict = score_text(text, aspects or DEFAULT_ASPECTS, topic=topic, seed=rng.randrange(2**31))
    return verdict.model_dump_json()


class OfflineModel:
    """Maestro's built-in deterministic text composer (a :class:`~maestro.llm.types.Provider`).

    Not a language model: see the module docstring.
    """

    name = OFFLINE_MODEL

    def __init__(self, *, seed: int = 0) -> None:
        self._seed = seed

    def respond(self, prompt: str, *, seed: int | None = None) -> str:
        """The answer to ``prompt``: same prompt and seed, same answer."""
        parts = parse_prompt(prompt)
        rng = random.Random(_digest(prompt, str(self._seed), str(seed)))
        if parts.kind == "plan":
            return _plan(parts, rng)
        if parts.kind == "examine":
            return _examine(parts, rng)
        text = _compose(parts, rng)
        if re.search(r"\b(respond|reply|answer|return|output)\b[^.\n]{0,20}\bjson\b", prompt, re.I):
            keys = re.findall(r"\"(\w+)\"\s*:", prompt)
            return json.dumps({keys[0] if keys else "text": text})
        return text

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        system = [m.content for m in request.messages if m.role == "system"]
        users = [m.content for m in request.messages if m.role == "user"]
        prompt = "\n\n".join([*system, *users[-1:]])
        text = self.respond(prompt, seed=request.seed)
        if request.max_tokens is not None and not text.startswith("{"):
            text = _truncate(text, request.max_tokens)
        all_text = "\n\n".join(m.content for m in request.messages)
        usage = Usage(prompt_tokens=count_tokens(all_text), completion_tokens=count_tokens(text))
        return ProviderReply(text=text, model=model, usage=usage)


def _truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of whole words within ``max_tokens``.

    Token pieces never contain whitespace, so a prefix's count is the sum of its
    words' counts: one pass instead of re-counting prefixes in a binary search.
    """
    words = text.split(" ")
    total = 0
    for i, word in enumerate(words):
        total += count_tokens(word)
        if total > max_tokens:
            return " ".join(words[:i])
    return text
