"""One CASUALTY span's surface as figures: low, best, high and a conservative point value.

``normalise("at least 12 civilians")`` reads the quantity at the head of the span
(SPEC C1, C2; GUIDELINES D2: the approximation words are inside the span, the
victim noun after the quantity plays no part) and sets the figures by the one
row of ``RULES`` that fits. The conventions are UCDP's (a best figure, and the
low and high the text allows) and ACLED's (one conservative point value:
"dozens" is 12, "hundreds" 100); where a row departs from them, its note says
why. ``annotation/COUNTS.md`` is this table as ``counts_table_markdown()``
renders it; ``python -m conflict_spans.records.counts`` prints it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from fractions import Fraction

from text_to_num import text2num

# (span text, low, best, high, point)
Example = tuple[str, int | None, int | None, int | None, int | None]

# How a row sets a figure: N the stated figure (for a vague word, its value), A and B
# the two ends of a range (B unset when the upper end is open, "50 to more than 100"),
# "-" unset.
FIGURES = ("N", "A", "B", "-")


@dataclass(frozen=True)
class Count:
    """The figures one span states. Every figure is a count of people; None is unset."""

    low: int | None
    best: int | None
    high: int | None
    qualifier: str
    point: int | None
    rule: str

    def __post_init__(self) -> None:
        bounds = [v for v in (self.low, self.best, self.high) if v is not None]
        if bounds != sorted(bounds):
            raise ValueError(f"rule {self.rule!r} set low={self.low}, best={self.best}, high={self.high}; "
                             "low <= best <= high must hold: fix the row in RULES")

    def to_dict(self) -> dict[str, int | str | None]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    """One row of the table: which surface forms it reads and how it sets each figure."""

    id: str
    reads: str                     # the surface forms, in words, for the docs
    qualifier: str
    low: str                       # one of FIGURES
    best: str
    high: str
    point: str
    convention: str                # which convention the row follows, and where it departs
    examples: tuple[Example, ...]
    cues: tuple[str, ...] = ()     # words before the number that select the row ("at least")
    words: tuple[str, ...] = ()    # vague quantity words that select the row ("dozens")
    value: int | None = None       # N for those words (ACLED's conservative figure)


RULES: tuple[Rule, ...] = (
    Rule("exact", "a stated number with no qualifier: digits (\"1,200\", \"1 200\", \"1.200\"), written-out numbers, "
         "\"a dozen\", \"two dozen\", \"a hundred\", \"1.5 million\"",
         "exact", "N", "N", "N", "N",
         "UCDP: one stated figure is its own low, best and high; ACLED codes the stated figure.",
         (("37 people", 37, 37, 37, 37), ("twenty-three soldiers", 23, 23, 23, 23), ("Fifty-one Israelis", 51, 51, 51, 51),
          ("1,200 civilians", 1200, 1200, 1200, 1200), ("1 200 wounded", 1200, 1200, 1200, 1200),
          ("1.200 people", 1200, 1200, 1200, 1200), ("1.5 million people", 1500000, 1500000, 1500000, 1500000),
          ("two people", 2, 2, 2, 2), ("one of our medics", 1, 1, 1, 1), ("four of the 22", 4, 4, 4, 4),
          ("a dozen soldiers", 12, 12, 12, 12), ("two dozen", 24, 24, 24, 24),
          ("92 civilians", 92, 92, 92, 92), ("including 92 civilians", 92, 92, 92, 92), ("rose to 35", 35, 35, 35, 35),
          ("a further six cadres", 6, 6, 6, 6), ("another 27 security personnel", 27, 27, 27, 27), ("12 more", 12, 12, 12, 12),
          ("half a dozen", 6, 6, 6, 6))),
    Rule("single", "a counting \"a\", \"an\" or \"another\" before the victim noun; \"a second/third ...\"",
         "exact", "N", "N", "N", "N",
         "SPEC G3: a counting article is inside the span and counts one victim (N = 1). An age is no count: "
         "\"a 12-year-old boy\" and \"a boy of 13\" are one victim.",
         (("a child", 1, 1, 1, 1), ("a man", 1, 1, 1, 1), ("another", 1, 1, 1, 1), ("a fourth person", 1, 1, 1, 1),
          ("a 12-year-old boy", 1, 1, 1, 1), ("a boy of 13", 1, 1, 1, 1), ("A second volunteer", 1, 1, 1, 1))),
    Rule("group-of", "\"a family of N\", \"a group of N\", \"a household of N\"",
         "exact", "N", "N", "N", "N",
         "The group is the victims: N counts its members, unlike \"a boy of 13\", where N is an age.",
         (("a family of five", 5, 5, 5, 5),)),
    Rule("range", "\"between A and B\", \"from A to B\", \"A to B\", \"A-B\", \"A or B\"; a qualifier before it applies to both ends",
         "between", "A", "A", "B", "A",
         "UCDP low and high from the two ends. Best is the lower end, not the midpoint: the midpoint is a figure no "
         "source stated, and the lower end is ACLED's most conservative reading; low and high keep the range for anyone "
         "who wants the midpoint. An open upper end (\"50 to more than 100\") leaves high unset; a reversed range is read "
         "in order.",
         (("between 40 and 50", 40, 40, 50, 40), ("192–312", 192, 192, 312, 192), ("between six and eight", 6, 6, 8, 6),
          ("about 130 to 600", 130, 130, 600, 130), ("about 50 to more than 100", 50, 50, None, 50),
          ("between 5,000 and 9,000 civilians", 5000, 5000, 9000, 5000), ("one or two", 1, 1, 2, 1)),
         cues=("between", "from")),
    Rule("at-least", "a floor: a cue word before N, or \"N-plus\", \"N+\", \"N or more\" after it",
         "at-least", "N", "N", "-", "N",
         "In UCDP's terms the floor is the low and the best; the text sets no high. ACLED codes the stated figure.",
         (("at least 12 civilians", 12, 12, None, 12), ("4,500-plus", 4500, 4500, None, 4500),
          ("at least a dozen", 12, 12, None, 12), ("20 or more people", 20, 20, None, 20), ("at least eight", 8, 8, None, 8),
          ("at least four of the 22", 4, 4, None, 4)),
         cues=("at least", "no fewer than", "no less than", "not less than", "a minimum of")),
    Rule("more-than", "a strict floor: a cue word before N",
         "more-than", "N", "N", "-", "N",
         "Departs from the strict reading (low N+1): the stated figure is the most conservative estimate the text "
         "gives (ACLED's rule), one person is below the precision of any reported toll, and the qualifier keeps the "
         "strictness.",
         (("more than 1,000", 1000, 1000, None, 1000), ("over 30 soldiers", 30, 30, None, 30),
          ("well over 200 people", 200, 200, None, 200), ("upwards of 14,000", 14000, 14000, None, 14000),
          ("more than a dozen", 12, 12, None, 12), ("above 40", 40, 40, None, 40), ("over one hundred", 100, 100, None, 100),
          ("more than two dozen police officers", 24, 24, None, 24)),
         cues=("more than", "over", "well over", "just over", "above", "well above", "upwards of", "in excess of")),
    Rule("nearly", "a figure approached from below: a cue word before N",
         "nearly", "-", "N", "N", "N",
         "Best and high are the stated figure; the text gives no floor, so low stays unset rather than an invented "
         "band. The point is the stated figure: the text gives no lower one.",
         (("nearly 200", None, 200, 200, 200), ("almost 3,000 injured", None, 3000, 3000, 3000), ("near 3,000", None, 3000, 3000, 3000)),
         cues=("nearly", "almost", "near", "close to", "just under", "just short of")),
    Rule("up-to", "a ceiling: a cue word before N",
         "up-to", "-", "N", "N", "N",
         "High is the ceiling; best and point are the stated figure, the only one the text gives, and the qualifier "
         "says it is a ceiling. \"fewer than N\" is read as N, as \"more than N\" is.",
         (("up to 1,383", None, 1383, 1383, 1383), ("as many as 500 rebels", None, 500, 500, 500),
          ("as high as 600,000", None, 600000, 600000, 600000), ("fewer than 100 Palestinian casualties", None, 100, 100, 100)),
         cues=("up to", "as many as", "as high as", "as much as", "at most", "no more than", "not more than", "fewer than",
               "less than")),
    Rule("around", "an approximation: a cue word before N, or \"N or so\"",
         "around", "-", "N", "-", "N",
         "Best and point are the stated figure; an approximation states no bounds, so low and high stay unset (a "
         "+-10% band would invent figures no source gave).",
         (("about 20", None, 20, None, 20), ("some 2,000 bodies", None, 2000, None, 2000),
          ("roughly 400,000 people", None, 400000, None, 400000), ("An estimated 2,500 enemy soldiers", None, 2500, None, 2500),
          ("about a dozen", None, 12, None, 12), ("about sixty", None, 60, None, 60), ("20 or so", None, 20, None, 20)),
         cues=("about", "around", "some", "roughly", "approximately", "an estimated", "estimated", "an approximate")),
    Rule("vague-tens", "a vague plural, with or without a victim noun", "vague-tens", "N", "N", "-", "N",
         "ACLED: \"tens\" is 10. Low and best take the conservative value too: the text gives no likelier figure, "
         "and ACLED uses the most conservative estimate.",
         (("tens of people", 10, 10, None, 10),), words=("tens",), value=10),
    Rule("vague-dozens", "a vague plural", "vague-dozens", "N", "N", "-", "N",
         "ACLED: \"dozens\" is 12. Departs from a literal reading (at least two dozen) to keep ACLED's figure.",
         (("dozens of people", 12, 12, None, 12), ("Dozens", 12, 12, None, 12), ("dozens dead", 12, 12, None, 12)),
         words=("dozens",), value=12),
    Rule("vague-scores", "a vague plural", "vague-scores", "N", "N", "-", "N",
         "ACLED-style: one score, 20, by the scale of \"dozens\" (12) and \"hundreds\" (100).",
         (("scores of civilians", 20, 20, None, 20), ("scores", 20, 20, None, 20)), words=("scores",), value=20),
    Rule("vague-hundreds", "a vague plural", "vague-hundreds", "N", "N", "-", "N",
         "ACLED: \"hundreds\" is 100.",
         (("hundreds", 100, 100, None, 100), ("hundreds of attackers", 100, 100, None, 100)), words=("hundreds",), value=100),
    Rule("vague-thousands", "a vague plural", "vague-thousands", "N", "N", "-", "N",
         "ACLED: 1,000, by the same scale.",
         (("thousands of civilians", 1000, 1000, None, 1000), ("thousands", 1000, 1000, None, 1000)),
         words=("thousands",), value=1000),
    Rule("vague-tens-of-thousands", "a vague plural of a unit", "vague-tens-of-thousands", "N", "N", "-", "N",
         "ACLED: \"tens of\" is 10 times the unit: 10,000.",
         (("tens of thousands", 10000, 10000, None, 10000),), words=("tens of thousands",), value=10000),
    Rule("vague-hundreds-of-thousands", "a vague plural of a unit", "vague-hundreds-of-thousands", "N", "N", "-", "N",
         "ACLED: 100 times the unit: 100,000.",
         (("hundreds of thousands of people", 100000, 100000, None, 100000),),
         words=("hundreds of thousands",), value=100000),
    Rule("vague-several", "a small vague number, alone or before \"dozen\", \"hundred\" or \"thousand\", which "
         "multiplies N",
         "vague-several", "N", "N", "-", "N",
         "The lowest plausible reading of \"several\" (more than two): 3, times the unit that follows "
         "(\"several dozen\" 36, \"a few hundred\" 300), as ACLED scales \"tens of\".",
         (("several", 3, 3, None, 3), ("a few people", 3, 3, None, 3), ("several dozen", 36, 36, None, 36),
          ("a few hundred", 300, 300, None, 300), ("several thousand", 3000, 3000, None, 3000),
          ("a handful of soldiers", 3, 3, None, 3)),
         words=("several", "a few", "a handful", "a number of"), value=3),
    Rule("vague-many", "a large vague number", "vague-many", "N", "N", "-", "N",
         "ACLED-style: 10, the scale above \"several\". GUIDELINES 9.2 leaves such spans open; read them if they occur.",
         (("many civilians", 10, 10, None, 10),), words=("many", "numerous"), value=10),
    Rule("no-number", "a span with no quantity (\"casualties\", \"the dead\")", "none", "-", "-", "-", "-",
         "No figure: the text states none and none is invented (a bare \"casualties\" is no count). SPEC C4 makes "
         "such a span an annotation error; it is read, not rejected.",
         (("casualties", None, None, None, None), ("the dead", None, None, None, None))),
)

RULE: dict[str, Rule] = {r.id: r for r in RULES}
CUE_WORDS: dict[str, str] = {c: r.id for r in RULES for c in r.cues}
VAGUE_WORDS: dict[str, str] = {w: r.id for r in RULES for w in r.words}

# Words before the quantity that say where the figure stands in the sentence, not
# what it is: "including 92 civilians" (a sub-count, SPEC C3), "rose to 35" (the
# toll now). A caller may pass them with the span; they are skipped, and the row
# is chosen by what follows.
CONTEXT_WORDS: tuple[str, ...] = (
    "including", "among them", "among whom",
    "rose to", "risen to", "rising to", "climbed to", "jumped to", "reached", "stood at", "stands at",
    "a total of", "a toll of", "a death toll of", "death toll of", "toll of", "death toll", "toll", "the", "all",
)

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
          "seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES: dict[str, int] = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
NUMBER_WORDS = frozenset(_UNITS + _TENS + list(SCALES))
# units a number or "several" may multiply: "two dozen", "several hundred", "1.5 million"
MULTIPLIERS: dict[str, int] = {"dozen": 12, **SCALES}
ARTICLES = ("a", "an")
# "another 27", "a further six": the words between an article and its number
ADDED = ("further", "additional", "other")
GROUP_NOUNS = ("family", "group", "household")
SUFFIXES: dict[tuple[str, ...], str] = {("-", "plus"): "at-least", ("+",): "at-least", ("plus",): "at-least",
                                        ("or", "more"): "at-least", ("-", "odd"): "at-least", ("or", "so"): "around"}
RANGE_JOINS = ("to", "-", "or")

_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"} |
                        {c: " " for c in "\u00a0\u2007\u2009\u202f"} | {"\u2019": "'"})
# an age is no count: "a 12-year-old boy", "two five-year-old girls"
_AGE = re.compile(r"\b\w+(?:-\w+)*-(?:year|month|week|day)s?-old\b")
_TOKEN = re.compile(r"""
      \d+(?:st|nd|rd|th)\b            # an ordinal ("4th"): no count
    | \d{1,3}(?:\ \d{3})+(?![\d.,])   # thousands spaced: "1 200"
    | \d+(?:[.,]\d+)*                 # digits, with separators or a decimal point
    | [^\W\d_]+(?:['-][^\W\d_]+)*     # a word; hyphenated compounds stay whole ("twenty-three")
    | [-+]
""", re.X)


@dataclass(frozen=True)
class _Quantity:
    value: int
    kind: str      # "number", "single", "group-of", or the id of a vague row
    end: int       # the token after the quantity


def _tokens(text: str) -> list[str]:
    """The span's words, case-folded, with dashes and spaces made plain and ages taken out."""
    plain = _AGE.sub(" year-old ", text.translate(_DASHES).casefold())
    return _TOKEN.findall(plain)


def _digits_value(token: str, scaled: bool) -> Fraction | None:
    """Digits as a number: "1,200", "1 200" and "1.200" are 1200; "1.5" counts only before a scale ("1.5 million")."""
    groups, seps = re.split(r"[., ]", token), re.findall(r"[., ]", token)
    try:
        if not seps or seps == [" "] * len(seps):
            return Fraction("".join(groups))
        if len(set(seps)) == 1 and len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]) and not (scaled and seps == ["."]):
            return Fraction("".join(groups))
        if scaled and len(seps) == 1:
            return Fraction(token.replace(",", "."))
        if scaled and seps[-1] == "." and set(seps[:-1]) == {","}:
            return Fraction(token.replace(",", ""))
    except ValueError:  # more digits than Python converts: no count
        return None
    return None


def _is_number_word(token: str) -> bool:
    return all(part in NUMBER_WORDS for part in token.split("-"))


def _word_number(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A written-out number at ``tokens[i]`` (read by text2num) and the token after it."""
    run: list[str] = []
    j = i
    while j < len(tokens):
        t = tokens[j]
        if _is_number_word(t):
            run.append(t)
        elif t == "and" and run and run[-1] in SCALES and j + 1 < len(tokens) and _is_number_word(tokens[j + 1]):
            run.append(t)
        else:
            break
        j += 1
    while run:
        try:
            return text2num(" ".join(run), "en"), i + len(run)
        except ValueError:
            run.pop()
            if run and run[-1] == "and":
                run.pop()
    return None


def _multiplied(tokens: list[str], value: Fraction, end: int) -> tuple[Fraction, int]:
    """The value times the unit after it: "two dozen" is 24, "1.5 million" 1,500,000."""
    if end < len(tokens) and tokens[end] in MULTIPLIERS:
        return value * MULTIPLIERS[tokens[end]], end + 1
    return value, end


def _number(tokens: list[str], i: int) -> _Quantity | None:
    """A stated number at ``tokens[i]``: digits or words, with any multiplier after it."""
    if i >= len(tokens):
        return None
    t = tokens[i]
    if t[0].isdecimal():
        if t[-1].isalpha():  # an ordinal
            return None
        scaled = i + 1 < len(tokens) and tokens[i + 1] in MULTIPLIERS
        value = _digits_value(t, scaled)
        if value is None:
            return None
        value, end = _multiplied(tokens, value, i + 1)
        return _Quantity(int(round(value)), "number", end)
    if t == "half" and tokens[i + 1:i + 3] == ["a", "dozen"]:  # "half a dozen"
        return _Quantity(6, "number", i + 3)
    if t == "half" and tokens[i + 1:i + 2] == ["dozen"]:  # "a half dozen"
        return _Quantity(6, "number", i + 2)
    if t == "dozen":
        return _Quantity(12, "number", i + 1)
    words = _word_number(tokens, i)
    if words is not None:
        value, end = words
        if end < len(tokens) and tokens[end] == "dozen":
            return _Quantity(value * 12, "number", end + 1)
        return _Quantity(value, "number", end)
    return None


def _longest(tokens: list[str], i: int, phrases: dict[str, str]) -> tuple[str, int] | None:
    """The row id of the longest phrase (space-separated words) that starts at ``tokens[i]``, and the token after it."""
    found = [(len(p.split()), rule_id) for p, rule_id in phrases.items() if tokens[i:i + len(p.split())] == p.split()]
    if not found:
        return None
    length, rule_id = max(found)
    return rule_id, i + length


def _vague(tokens: list[str], i: int) -> _Quantity | None:
    found = _longest(tokens, i, VAGUE_WORDS)
    if found is None:
        return None
    rule_id, end = found
    value = RULE[rule_id].value
    if rule_id == "vague-several" and end < len(tokens) and tokens[end] in MULTIPLIERS:
        value, end = value * MULTIPLIERS[tokens[end]], end + 1
    return _Quantity(value, rule_id, end)


def _quantity(tokens: list[str], i: int) -> _Quantity | None:
    """The quantity at ``tokens[i]``: a number, a vague word, or a counting article."""
    if i >= len(tokens):
        return None
    found = _vague(tokens, i) or _number(tokens, i)
    if found is not None:
        return found
    t = tokens[i]
    if t not in ARTICLES + ("another",) + ADDED:
        return None
    j = i + 1
    if t in ARTICLES and j < len(tokens) and tokens[j] in SCALES:  # "a hundred" is "one hundred"
        words = _word_number(["one", *tokens[j:]], 0)
        if words is not None:
            return _Quantity(words[0], "number", j + words[1] - 1)
    if t in ARTICLES and tokens[j:j + 1] == ["couple"]:
        return _Quantity(2, "number", j + 1 + (tokens[j + 1:j + 2] == ["of"]))
    if t in ARTICLES and tokens[j:j + 1] == ["score"]:
        return _Quantity(20, "number", j + 1)
    while j < len(tokens) and tokens[j] in ADDED:
        j += 1
    added = _number(tokens, j)
    if added is not None:
        return added
    if t in ADDED:
        return None
    if j + 1 < len(tokens) and tokens[j] in GROUP_NOUNS and tokens[j + 1] == "of":
        members = _number(tokens, j + 2)
        if members is not None:
            return _Quantity(members.value, "group-of", members.end)
    return _Quantity(1, "single", j)


def _cue(tokens: list[str], i: int) -> tuple[str | None, int]:
    """The qualifier row a leading cue selects, and the token after the cue."""
    found = _longest(tokens, i, CUE_WORDS)
    return found if found is not None else (None, i)


def _suffix(tokens: list[str], end: int) -> tuple[str | None, int]:
    for words, rule_id in SUFFIXES.items():
        if tuple(tokens[end:end + len(words)]) == words:
            return rule_id, end + len(words)
    return None, end


def _skip_context(tokens: list[str]) -> int:
    i, context = 0, dict.fromkeys(CONTEXT_WORDS, "context")
    while (found := _longest(tokens, i, context)) is not None:
        i = found[1]
    return i


def _count(rule: Rule, n: int | None = None, a: int | None = None, b: int | None = None) -> Count:
    figure = {"N": n, "A": a, "B": b, "-": None}
    return Count(low=figure[rule.low], best=figure[rule.best], high=figure[rule.high], qualifier=rule.qualifier,
                 point=figure[rule.point], rule=rule.id)


def normalise(text: str) -> Count:
    """The figures of one CASUALTY span's surface text, set by the row of ``RULES`` that its words select."""
    tokens = _tokens(text)
    start = _skip_context(tokens)
    cue, i = _cue(tokens, start)
    first = _quantity(tokens, i)
    if first is None and cue is not None:  # "some civilians": the cue word counted nothing
        cue, first = None, _quantity(tokens, start)
    if first is None:
        return _count(RULE["no-number"])
    suffix, end = _suffix(tokens, first.end) if first.kind == "number" else (None, first.end)
    if end < len(tokens) and (tokens[end] in RANGE_JOINS or (cue == "range" and tokens[end] == "and")) and suffix is None:
        upper_cue, k = _cue(tokens, end + 1)
        second = _number(tokens, k)
        if second is not None and first.kind == "number":
            low, high = first.value, second.value
            if upper_cue in ("at-least", "more-than"):
                return _count(RULE["range"], a=low, b=None)
            return _count(RULE["range"], a=min(low, high), b=max(low, high))
    if cue is not None and cue != "range":
        return _count(RULE[cue], n=first.value)
    if suffix is not None:
        return _count(RULE[suffix], n=first.value)
    if first.kind == "number":
        return _count(RULE["exact"], n=first.value)
    return _count(RULE[first.kind], n=first.value)


# ---- the table as docs -------------------------------------------------------------------------

def _cell(value: object) -> str:
    return "–" if value is None or value == "-" else str(value).replace("|", "\\|")


def counts_table_markdown() -> str:
    """``annotation/COUNTS.md``: the rows of ``RULES`` and their examples, as the code applies them."""
    out = [
        "# Casualty counts: from a CASUALTY span to figures",
        "",
        "<!-- Generated from RULES in conflict_spans/records/counts.py by counts_table_markdown(); do not edit by hand.",
        "     Regenerate: python -m conflict_spans.records.counts > annotation/COUNTS.md",
        "     tests/test_counts.py fails when this file and the table differ. -->",
        "",
        "`conflict_spans.records.counts.normalise(text)` reads the surface of one CASUALTY span "
        "([SPEC.md](SPEC.md) C1-C5; the approximation words are inside the span, [GUIDELINES.md](GUIDELINES.md) D2, IAA6) "
        "and returns `Count(low, best, high, qualifier, point, rule)`:",
        "",
        "- **best**: the figure the text gives (UCDP's best estimate); **low** and **high**: the range the text allows "
        "(UCDP's low and high estimates), unset where the text sets no bound.",
        "- **point**: one conservative figure, as ACLED codes fatalities (\"tens\" 10, \"dozens\" 12, \"hundreds\" 100; "
        "the most conservative reading of a vague figure).",
        "- **qualifier**: the normalised qualifier; **rule**: the row below that fired.",
        "- Wherever set, low <= best <= high.",
        "",
        "The first quantity of the span is read; the victim noun and anything after it are not: \"at least four of the "
        "22\" is 4, \"one of our medics\" 1, \"dozens more\" 12. Whether the count is of killed or injured is the span's "
        "`status` (SPEC C5), not part of the count.",
        "",
        "In the figure columns, N is the stated figure (for a vague word, its value in the row), A and B the two ends of "
        "a range, – unset.",
        "",
        "## Rules",
        "",
        "| rule | reads | cue words | qualifier | low | best | high | point | convention |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        cues = ", ".join(f"\"{c}\"" for c in rule.cues + rule.words)
        n = f"N = {rule.value:,}" if rule.value is not None else ""
        reads = f"{rule.reads}{'; ' + n if n else ''}"
        out.append(f"| `{rule.id}` | {_cell(reads)} | {_cell(cues or '-')} | `{rule.qualifier}` | {_cell(rule.low)} | "
                   f"{_cell(rule.best)} | {_cell(rule.high)} | {_cell(rule.point)} | {_cell(rule.convention)} |")
    out += [
        "",
        "## Words before the count",
        "",
        "Skipped: they say where the figure stands in the sentence, not what it is (\"including 92 civilians\", "
        "\"rose to 35\"): " + ", ".join(f"\"{w}\"" for w in CONTEXT_WORDS) + ".",
        "",
        "After a number: " + ", ".join(f"\"{' '.join(w).replace('- ', '-')}\" ({r})" for w, r in SUFFIXES.items()) +
        ". Between two numbers, a range: " + ", ".join(f"\"{w}\"" for w in RANGE_JOINS) + ", and \"and\" after \"between\".",
        "",
        "## Examples",
        "",
        "Each is a test case (tests/test_counts.py).",
        "",
        "| rule | span | low | best | high | point |",
        "|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        for text, low, best, high, point in rule.examples:
            out.append(f"| `{rule.id}` | {_cell(text)} | {_cell(low)} | {_cell(best)} | {_cell(high)} | {_cell(point)} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(counts_table_markdown(), end="")
