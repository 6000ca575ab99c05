"""Same story told twice: documents that share the specific facts of one event.

The near-duplicate check (:mod:`conflict_spans.corpus.duplicates`) catches shared
wording. A rewrite of a story in new words passes it, yet puts one event in two
splits: the model meets the test story's names, places and figures in training.
This check compares what two documents *state* rather than how they word it:

- **names and places**: the surface strings of ACTOR, ATTRIBUTION and LOCATION
  spans (for a document without spans, its runs of capitalised words);
- **figures**: every number written in digits or words (``1,200`` and
  ``twelve`` included), with its unit noun when one follows;
- **dates**: day-and-month mentions and years;
- **phrases**: word 8-grams, for what a rewrite keeps verbatim.

Each shared fact weighs its inverse document frequency in the compared
collection, so "Afghanistan" or "the army" (in many documents) weigh little and
"Spin Boldak", "19 October" and "23 soldiers" (in two) weigh much. The score of
a pair is the weight they share over the weight of the smaller document:
an overlap coefficient with IDF weights, between 0 and 1.

A pair is one story when its score reaches ``THRESHOLD``, or reaches
``FIGURE_THRESHOLD`` while the two also share ``SHARED_FIGURES`` rare counted
figures ("23 soldiers", "200 Taliban"): a retelling keeps the numbers even when
it changes every name but the country. The thresholds were tuned on the corpus
(``corpus/SAME_STORY.md`` has the distribution).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable

from conflict_spans.document import Document

THRESHOLD = 0.45
# a lower overlap is enough when the pair also shares this many rare casualty-style figures ("23 soldiers")
FIGURE_THRESHOLD = 0.10
SHARED_FIGURES = 2
RARE = 3  # a figure held by at most this many documents is specific to an event
# facts held by more documents than this ("army", "residents", "2") are too common to tell stories apart:
# they count in each document's mass but are not paired, which keeps the check near-linear on large inputs
COMMON = 50
_COUNTED_FIGURE = re.compile(r"^figure:(\d+) (?!(?:hrs|hours|gmt|utc|am|pm|km|kilometres|miles|metres|percent|per)\b)[^\d\W]")
PHRASE = 8
_WORD = re.compile(r"\w+(?:[’'-]\w+)*")
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]+(?:\s+(?:(?:of|al|el|de|the|and|for|in)\s+)?[A-Z][\w’'-]+)*")
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s+({_MONTHS})\b\.?|\b({_MONTHS})\.?\s+(\d{{1,2}})\b", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\b")
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                      "hundred": 100, "dozen": 12})
_MONTH_NUMBER = {m: i for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december")), start=1) for m in names}
_NAME_LABELS = ("ACTOR", "ATTRIBUTION", "LOCATION")
# capitalised words that are never a name by themselves (sentence openings, days, titles)
_NOT_NAMES = frozenset("""the a an in on at by for of and but it its he she they we i this that these those there
    monday tuesday wednesday thursday friday saturday sunday update updates photo by reporting editing""".split())


def _norm(s: str) -> str:
    return " ".join(_WORD.findall(s.lower()))


def facts(doc: Document) -> set[str]:
    """The facts a document states, each a string with a namespace prefix."""
    text = doc.text
    out: set[str] = set()
    names = [s.text_in(text) for s in doc.spans if s.label in _NAME_LABELS]
    if not doc.spans:
        names = [m.group() for m in _CAPITALISED.finditer(text)]
    for name in names:
        key = _norm(name)
        if key and key not in _NOT_NAMES:
            out.add("name:" + key)
    lowered = text.lower()
    words = _WORD.findall(lowered)
    for m in _DAY_MONTH.finditer(text):
        day = m.group(1) or m.group(4)
        month = (m.group(2) or m.group(3)).lower().rstrip(".")
        out.add(f"date:{int(day)}-{_MONTH_NUMBER[month]}")
    for m in _YEAR.finditer(text):
        out.add("year:" + m.group())
    years = {m.span() for m in _YEAR.finditer(text)}
    days = {m.span(1) for m in _DAY_MONTH.finditer(text)} | {m.span(4) for m in _DAY_MONTH.finditer(text)}
    for m in _NUMBER.finditer(text):
        if m.span() in years or m.span() in days or ":" in text[max(0, m.start() - 1):m.end() + 1]:
            continue  # years and days are dates; "04:52" is a time of day
        value = m.group().replace(",", "")
        unit = _WORD.match(text, m.end() + 1) if text[m.end():m.end() + 1] == " " else None
        out.add("figure:" + value + (" " + unit.group().lower() if unit else ""))
    for i, w in enumerate(words):
        if w in _NUMBER_WORDS and _NUMBER_WORDS[w] >= 2 and i + 1 < len(words):
            out.add(f"figure:{_NUMBER_WORDS[w]} {words[i + 1]}")
    for i in range(len(words) - PHRASE + 1):
        out.add("phrase:" + " ".join(words[i:i + PHRASE]))
    return out


@dataclass(frozen=True)
class SameStory:
    a: str
    b: str
    score: float
    phrases: int  # shared word 8-grams
    figures: int  # shared rare figures with a noun after them, of 5 or more
    shared: tuple[str, ...]  # the heaviest shared facts, for the message


def score_pairs(docs: Iterable[Document], minimum: float = 0.0) -> list[SameStory]:
    """Every pair of documents with an IDF-weighted fact overlap of at least ``minimum``, highest first."""
    fact_sets = {doc.id: facts(doc) for doc in docs}
    n = len(fact_sets)
    df: Counter = Counter()
    for fs in fact_sets.values():
        df.update(fs)
    idf = {f: math.log(n / c) for f, c in df.items()}
    fact_mass = {doc_id: sum(idf[f] for f in fs if not f.startswith("phrase:")) or 1.0 for doc_id, fs in fact_sets.items()}
    shared: dict[tuple[str, str], float] = defaultdict(float)
    phrases: Counter = Counter()
    holders: dict[str, list[str]] = defaultdict(list)
    for doc_id, fs in fact_sets.items():
        for f in fs:
            holders[f].append(doc_id)
    for f, ids in holders.items():
        if len(ids) < 2 or len(ids) > COMMON or idf[f] == 0:
            continue
        ids.sort()
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if f.startswith("phrase:"):
                    phrases[a, b] += 1
                else:
                    shared[a, b] += idf[f]
    out = []
    for (a, b), weight in shared.items():
        score = weight / min(fact_mass[a], fact_mass[b])
        if score >= minimum:
            both = fact_sets[a] & fact_sets[b]
            common = sorted((f for f in both if not f.startswith("phrase:")), key=lambda f: (-idf[f], f))
            figures = sum(1 for f in both if df[f] <= RARE and (m := _COUNTED_FIGURE.match(f)) and int(m.group(1)) >= 5)
            out.append(SameStory(a, b, score, phrases[a, b], figures, tuple(common[:6])))
    return sorted(out, key=lambda p: (-p.score, p.a, p.b))


def is_same_story(pair: SameStory, threshold: float = THRESHOLD) -> bool:
    return pair.score >= threshold or (pair.score >= FIGURE_THRESHOLD and pair.figures >= SHARED_FIGURES)


def find_same_stories(docs: Iterable[Document], threshold: float = THRESHOLD) -> list[SameStory]:
    """Pairs that look like one story told twice: an overlap at or above ``threshold``, or a
    smaller one (``FIGURE_THRESHOLD``) with at least ``SHARED_FIGURES`` rare counted figures in common."""
    return [p for p in score_pairs(docs, min(threshold, FIGURE_THRESHOLD)) if is_same_story(p, threshold)]
