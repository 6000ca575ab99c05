"""``conflict-spans audit``: a review list of likely annotation errors.

It flags, it does not decide (annotation/GUIDELINES.md §11): every finding is
a place for a person to check against the spec and the guidelines. Three
families of findings:

- **consistency**: the same surface string (case-insensitive) labelled
  differently, or labelled in one place and left plain in another, where the
  occurrences share the word before and the word after;
- **rules**: spec rules and project rulings that code can test beyond
  ``validate`` (leading determiners and quantifiers, direction adjectives left
  outside a place, extension nouns inside a place, nationality adjectives
  alone, counts without a number or with the wrong extent, sources without a
  saying cue, sayers and withheld sayers labelled as parties, descriptions
  before names, names that only modify an apposition's noun, weapons that are
  the agent of an attack verb left unlabelled);
- **predictions** (with ``--predictions``): where a model's predictions for
  the corpus documents, e.g. from k-fold cross-validation
  (``training/kfold.py``), disagree with gold, the most confident first.

With ``--agreement SECOND`` the command compares two annotations of the same
documents instead (inter-annotator agreement, :mod:`conflict_spans.agreement`)
and lists every disagreement.

The command always exits 0 when its inputs could be read: the list is for
review, not a gate.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .document import Document, Span
from .errors import CorpusError, Problem
from .schema import LABEL_NAMES
from .words import word_offsets

CONTEXT_CHARS = 60

# ---- finding types ---------------------------------------------------------------------------

# kind -> (family, rule, what it means); the order is the order of every report.
FINDING_TYPES: dict[str, tuple[str, str, str]] = {
    "label-conflict": ("consistency", "G2-T4", "the same string takes different labels between the same neighbouring words"),
    "unlabelled-occurrence": ("consistency", "§11", "the string is a span elsewhere between the same neighbouring words, but plain here"),
    "leading-determiner": ("rules", "G3", "the span starts with an article or possessive (a/an/one count only in CASUALTY)"),
    "leading-quantifier": ("rules", "R18", "both/all/each/every/one before a party or source noun stays outside"),
    "direction-outside": ("rules", "R7", "a direction adjective directly before a place name belongs inside the LOCATION"),
    "trailing-extension": ("rules", "L2-R6", "a lower-case extension or unit noun (area, region, province ...) is inside a LOCATION"),
    "bare-direction": ("rules", "L1", "a bare direction or description (the north-west, the far north) is not a LOCATION"),
    "nationality-alone": ("rules", "A2-L4", "a nationality adjective alone is never a span"),
    "casualty-no-number": ("rules", "C1-C4", "a CASUALTY span has no digit or number word"),
    "casualty-extent": ("rules", "C5-D2-R10-R11", "a CASUALTY span leaves out an approximation, range or victim noun, or takes in the verb or 'of them'"),
    "weapon-agent-unlabelled": ("rules", "A3-R2", "a weapon that is the agent of an attack verb is not marked ACTOR"),
    "attribution-no-cue": ("rules", "T", "no saying cue in the sentence of an ATTRIBUTION span"),
    "sayer-not-attribution": ("rules", "T2-R3", "the subject of a saying verb, or the object of 'according to', is not ATTRIBUTION"),
    "withheld-saying": ("rules", "R3-9.2", "the subject of 'did not respond', 'declined to comment' ... is not ATTRIBUTION"),
    "description-before-name": ("rules", "R19-A4", "a non-title description before a name is inside the span"),
    "apposition-modifier": ("rules", "G9", "a name that only modifies the noun of an apposition is a span"),
    "casualty-quantifier": ("rules", "R18-W8", "all/both/each/the before a count stays outside the CASUALTY span"),
    "weapon-not-agent": ("rules", "A3-W7", "a weapon marked ACTOR is not the subject or 'by'-agent of an attack verb"),
    "negated-mention": ("rules", "B3", "a party or source span right after 'no', 'any' or 'nobody': a negated mention refers to no party"),
    "group-party-unlabelled": ("rules", "A1-B4", "'armed groups', 'rebel groups' ... left plain: a descriptive mention of parties is ACTOR"),
    "provenance-named-speaker": ("provenance", "P1", "a quotation whose source is a personal name: the speaker must be invented or unnamed (record the verdict in corpus/provenance_review.tsv)"),
    "provenance-official-text": ("provenance", "P2", "an official genre or title line: the issuer must be an invented body, or the text a report about a real one (record the verdict)"),
    "missed": ("predictions", "", "gold span that no prediction touches"),
    "spurious": ("predictions", "", "predicted span that touches no gold span"),
    "wrong-label": ("predictions", "", "same offsets, another label"),
    "boundary": ("predictions", "", "same label, other offsets"),
    "wrong-label-boundary": ("predictions", "", "overlapping, other offsets and another label"),
}


@dataclass
class Finding:
    kind: str
    doc_id: str
    start: int
    end: int
    text: str
    label: str | None  # the gold label of the span concerned (None: plain text)
    message: str
    context: str = ""
    score: float | None = None  # model score, for prediction findings
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        family, rule, _ = FINDING_TYPES[self.kind]
        out = {"kind": self.kind, "family": family, "rule": rule, "doc_id": self.doc_id, "start": self.start, "end": self.end,
               "text": self.text, "label": self.label, "message": self.message, "context": self.context}
        if self.score is not None:
            out["score"] = round(float(self.score), 6)
        if self.details:
            out["details"] = self.details
        return out


def context_of(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> str:
    """The text around ``[start, end)`` on one line, the range itself between ⟦ and ⟧."""
    snippet = f"{text[max(0, start - width):start]}⟦{text[start:end]}⟧{text[end:end + width]}"
    return " ".join(snippet.split())


# ---- words and sentences ----------------------------------------------------------------------

class Words:
    """The words of one document (conflict_spans.words) with lookups by character offset."""

    def __init__(self, text: str):
        self.text = text
        self.offsets = word_offsets(text)
        self.lower = [text[s:e].lower() for s, e in self.offsets]
        self.index_at_start = {s: i for i, (s, _) in enumerate(self.offsets)}
        self.index_at_end = {e: i for i, (_, e) in enumerate(self.offsets)}

    def span_words(self, span: Span) -> tuple[int, int] | None:
        """Word indices ``[first, last]`` of a span that starts and ends on word edges."""
        first, last = self.index_at_start.get(span.start), self.index_at_end.get(span.end)
        return None if first is None or last is None else (first, last)

    def word(self, i: int) -> str:
        return self.text[slice(*self.offsets[i])] if 0 <= i < len(self.offsets) else ""

    def lower_at(self, i: int) -> str:
        return self.lower[i] if 0 <= i < len(self.lower) else ""

    def before(self, start: int) -> str:
        """The word (or punctuation mark) just before offset ``start``; '' at the start."""
        i = self.index_at_start.get(start)
        return self.lower_at(i - 1) if i is not None and i > 0 else ""

    def after(self, end: int) -> str:
        i = self.index_at_end.get(end)
        return self.lower_at(i + 1) if i is not None else ""


_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s)|\n")
_NOT_SENTENCE_END = re.compile(r"(?:\b(?:[A-Za-z]\.){2,}|\b(?:Gen|Lt|Col|Brig|Maj|Capt|Sgt|Cpl|Adm|Cmdr|Mr|Mrs|Ms|Dr|St|Gov|Sen|Rep|Pres|No|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec|Mt|approx|vs|etc|[A-Z])\.)[\"'”’)]*$")


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentences as ``[start, end)``: split at line breaks and at . ! ? before a space.

    A full stop after an abbreviation (U.S., Gen.) or inside “curly quotes” does
    not end a sentence, so a quoted first-person sayer stays with its “he said”.
    """
    bounds: list[tuple[int, int]] = []
    start = 0
    depth = 0
    quote_at = {i: (1 if ch == "“" else -1) for i, ch in enumerate(text) if ch in "“”"}
    cursor = 0
    for m in _SENTENCE_END.finditer(text):
        for i in range(cursor, m.start()):
            depth = max(0, depth + quote_at.get(i, 0))
        cursor = m.start()
        if m.group() != "\n":
            if depth > 0 or _NOT_SENTENCE_END.search(text[max(start, m.start() - 12):m.end()]):
                continue
        else:
            depth = 0
        bounds.append((start, m.end()))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return [(s, e) for s, e in bounds if text[s:e].strip()]


def sentence_of(bounds: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for s, e in bounds:
        if s <= pos < e:
            return s, e
    return 0, 0


# ---- word lists (lower case) -------------------------------------------------------------------

DETERMINERS = {"the", "a", "an", "its", "their", "his", "her", "our"}
COUNTING_ARTICLES = {"a", "an"}  # part of a CASUALTY span (G3 exception)
QUANTIFIERS = {"both", "all", "each", "every", "one"}  # R18: outside a party/source phrase
CASUALTY_QUANTIFIERS = {"both", "all", "each", "every"}  # W8: outside a count ("all [16 militants]")
DIRECTIONS = {
    "northern", "southern", "eastern", "western", "central", "north", "south", "east", "west",
    "north-eastern", "north-western", "south-eastern", "south-western", "northeastern", "northwestern",
    "southeastern", "southwestern", "north-central", "south-central", "east-central", "west-central",
    "northeast", "northwest", "southeast", "southwest", "upper", "lower", "greater", "inner", "outer",
}
EXTENSIONS = {
    "area", "areas", "region", "regions", "province", "provinces", "district", "districts", "outskirts",
    "border", "borders", "countryside", "vicinity", "environs", "surroundings", "suburbs", "governorate",
    "state", "county", "department", "commune", "lga", "township", "oblast", "zone", "frontier", "periphery",
}
NATIONALITIES = {
    "afghan", "american", "angolan", "arab", "armenian", "australian", "azerbaijani", "azeri", "bangladeshi",
    "belarusian", "british", "burkinabe", "burmese", "burundian", "cameroonian", "canadian", "chadian",
    "chinese", "colombian", "congolese", "djiboutian", "dutch", "egyptian", "emirati", "eritrean",
    "ethiopian", "european", "filipino", "french", "german", "ghanaian", "haitian", "indian", "iranian",
    "iraqi", "israeli", "italian", "ivorian", "japanese", "jordanian", "kashmiri", "kenyan", "kurdish",
    "lebanese", "libyan", "malian", "mauritanian", "moroccan", "mozambican", "nigerian", "nigerien",
    "pakistani", "palestinian", "polish", "qatari", "russian", "rwandan", "saudi", "senegalese", "somali",
    "sudanese", "syrian", "tanzanian", "tigrayan", "tunisian", "turkish", "ugandan", "ukrainian",
    "venezuelan", "western", "yemeni", "zambian", "south african", "south sudanese", "central african",
}
NUMBER_WORDS = {
    "a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "hundreds", "thousand",
    "thousands", "million", "millions", "dozen", "dozens", "score", "scores", "several", "few", "handful",
    "couple", "pair", "tens", "another", "single", "both", "twin", "trio",
}
TITLE_WORDS = {
    "minister", "president", "vice-president", "premier", "spokesman", "spokeswoman", "spokesperson",
    "commander", "chief", "envoy", "chairman", "chairwoman", "chairperson", "chair", "governor", "mayor",
    "general", "gen", "lt", "col", "colonel", "brig", "maj", "major", "capt", "captain", "sgt", "sergeant",
    "adm", "admiral", "marshal", "secretary", "secretary-general", "director", "director-general", "head",
    "leader", "coordinator", "representative", "ambassador", "rapporteur", "adviser", "advisor", "deputy",
    "prosecutor", "senator", "officer", "commissioner", "administrator", "king", "emir", "prince", "sheikh",
    "imam", "pope", "cardinal", "bishop", "speaker", "mp", "lawmaker", "judge", "justice", "superintendent",
    "inspector", "lieutenant", "brigadier", "field", "staff", "attorney", "ceo", "mufti", "archbishop",
}
# what a hyphenated description before a name ends with ("Iran-backed", "Kurdish-led")
DESCRIPTION_SUFFIX = re.compile(r"-(led|backed|linked|allied|aligned|affiliated|supported|sponsored|dominated|funded|armed|trained|based|controlled|run|held)$", re.I)

# saying, reporting and stance words (T's list is open) and statement nouns (D6, R17): stems, then whole words
SAYING_STEMS = (
    "say", "said", "tell", "told", "add", "note", "announc", "report", "estimat", "claim", "confirm", "deny", "deni",
    "warn", "urg", "call", "critic", "discuss", "vow", "pledg", "promis", "insist", "stress", "emphas", "highlight",
    "accus", "reject", "condemn", "welcom", "describ", "acknowledg", "blam", "wrote", "writ", "tweet", "alleg", "argu",
    "explain", "recount", "recall", "demand", "appeal", "declar", "disput", "document", "verif", "brief", "ask", "repl",
    "respond", "comment", "declin", "refus", "dismiss", "deplor", "decri", "lament", "express", "voic", "hail", "prais",
    "threat", "spoke", "speak", "maintain", "conced", "admit", "reiterat", "repeat", "question", "predict", "assess",
    "suggest", "indicat", "quot", "publish", "issu", "releas", "signal", "protest", "testif", "conclud", "believ",
    "affirm", "reaffirm", "underlin", "underscor", "recommend", "denounc", "remind", "salut", "caution", "attribut", "instruct",
    "regret", "hope", "fear", "expect", "account", "version", "figure", "tall", "toll", "accord", "interview",
    "telegram", "communiqu", "message", "letter", "video", "identif", "circulat", "inform", "assur", "guarant", "plead",
    "contend", "invit", "propos", "request", "thank", "apolog", "recogni", "entrust", "deem", "characteri", "convey",
    "update", "bulletin", "answer", "judge", "doubt", "flag", "complain", "mention", "broadcast", "condolence",
    "sympath", "responsib", "revis", "statement", "prepar", "committed", "proclaim", "outlin", "decree", "wish", "analys", "offer", "order",
)
SAYING_WORDS = (
    "put", "puts", "gave", "give", "gives", "cited", "cites", "citing", "posted", "posting", "stated", "states that",
    "counted", "recorded", "listed", "found", "find", "finds", "shows", "showed", "pointed", "presented", "named",
    "raised", "ruled", "pressed", "termed", "signed", "agreed", "per", "via", "data", "position", "demands", "claims",
    "count", "counts", "point to", "points to",
)
SAYING_CUE = re.compile(r"\b(?:(?:" + "|".join(SAYING_STEMS) + r")\w*|(?:" + "|".join(SAYING_WORDS) + r")\b)|:", re.I)
# directly after a subject: "X said", "X has said", "X also told", "X did not respond"
SAYER_AFTER = re.compile(
    r"^\s*(?:has |have |had |also |later |then |previously |earlier |separately |again |on \w+ )?"
    r"(?:said|says|told|tells|added|adds|announced|announces|reported|reports|warned|warns|urged|urges|claimed(?! the lives)|claims(?! the lives)|"
    r"confirmed|confirms|denied|denies|stated|estimated|estimates|insisted|insists|noted|notes|stressed|"
    r"condemned|condemns|accused(?! of)|accuses|vowed|vows|wrote|writes|posted|tweeted|called on|called for|calls on|calls for)\b")
WITHHELD = re.compile(
    r"^\s*(?:has |have |had |also |again |so far |did |does |could |would |has so far )?"
    r"(?:not (?:\w+ly )?respond(?:ed)?|not (?:\w+ly )?comment(?:ed)?|"
    r"declined to (?:comment|say|give|confirm|respond|answer|name|discuss)|refused to (?:comment|say|confirm)|"
    r"not be reached|not answer|not return|no comment|not reply|not replied|not say|not confirm|not immediately confirm)", re.I)
WITHHELD_ANYWHERE = re.compile(
    r"\b(?:(?:did|does|has|have|had|could|would)\s+not\s+(?:\w+ly\s+)?(?:respond|comment|reply|say|confirm)\w*"
    r"|(?:declined|refused)\s+to\s+(?:comment|say|name|answer|give|confirm|discuss|respond))\b")
CASUALTY_NOUN_AFTER = re.compile(r"^\s+(?:dead|casualties|bodies|fatalities|deaths)\b", re.I)
CASUALTY_PARTICIPLE_AFTER = re.compile(r"^\s+(?:wounded|injured|hurt)\b(?!\s+(?:by|in|when|as|after|during|on|at)\b)", re.I)
# "[Ten people] were killed and [30] wounded": an auxiliary before an earlier participle makes "wounded" a verb
PASSIVE_BEFORE = re.compile(r"\b(?:were|was|been|are|is|being)\s+(?:\w+\s+){0,2}?(?:killed|wounded|injured|hurt|shot|dead)\b", re.I)
# (pattern, where it looks: before the span / at the span / after it, message)
CASUALTY_EXTENT: tuple[tuple[re.Pattern, str, str], ...] = (
    (re.compile(r"\b(?:as (?:high|many|few) as|up to|upwards of|at least|at most|more than|fewer than|less than|nearly|almost|about|around|some|roughly|approximately|over|between|an estimated)\s+$", re.I),
     "before", "{!r} before the count is an approximation or range word: inside the span (D2)"),
    (CASUALTY_NOUN_AFTER, "after", "{!r} after the number is a victim noun: inside the span (R9, R10, R22)"),
    (CASUALTY_PARTICIPLE_AFTER, "after", "{!r} after a bare number reads as a noun here: inside the span unless it is an elided verb (R10)"),
    (re.compile(r"^\s+of (?:the |those )?(?:dead|wounded|injured|victims|casualties|fatalities)\b", re.I),
     "after", "{!r}: a victim noun after 'of' is inside the span (R11)"),
    (re.compile(r"\b(?:killed|of them|of those)$", re.I), "span", "the span ends with {!r}: the verb and a pronoun after 'of' stay outside (C5, R10, R11)"),
)
WEAPONS = r"(?:drones?|missiles?|rockets?|shells?|mortars?|bombs?|jets?|warplanes?|helicopters?|artillery|grenades?|IEDs?)"
# verb forms only: "strike(s)" and "hits on" are nouns after a weapon word ("drone strikes", "drone hits on")
WEAPON_AGENT = re.compile(rf"\b{WEAPONS}\s+(?:(?:also|then|later|reportedly)\s+)?(?:struck|hit|hits(?! on)|slammed|crashed|killed|kill|kills|destroyed|blew up|exploded|wounded|levelled|flattened|pounded|tore)\b", re.I)
HARM_VERBS = r"(?:shelling|shells|shell|fired|firing|fire|bombed|bombing|bomb|bombs|attacked|attack|attacks|carried out|launched|raided|opened fire|killing|struck|strikes|strike|hit|hits|slammed|crashed|killed|kill|kills|destroyed|destroy|destroys|blew up|exploded|explodes|wounded|wounds|injured|levelled|flattened|pounded|pound|pounds|tore|targeted|targets|shot down|shelled|damaged|rained)"
# "killed by a car bomb": the weapon after "by" in the passive of a harm verb
WEAPON_BY_AGENT = re.compile(rf"\b(?:killed|wounded|injured|hit|struck|destroyed|damaged|targeted|levelled|flattened)\s+(?:\w+ly\s+)?by\s+(?:an?\s+|the\s+|two\s+|three\s+|several\s+)?(?:[\w-]+\s+){{0,2}}?{WEAPONS}\b", re.I)
WEAPON_END = re.compile(rf"{WEAPONS}$", re.I)
HARM_VERB_AFTER = re.compile(rf"^[\s,]*(?:[\w-]+[\s,]+){{0,3}}?{HARM_VERBS}\b", re.I)  # "[drones] had struck"
BY_BEFORE = re.compile(r"\bby\s+(?:an?\s+|the\s+|\w+\s+)?(?:[\w-]+\s+)?$", re.I)  # "killed by a [car bomb]"
NEGATION_BEFORE = re.compile(r"\b(?:no|any)\s+$", re.I)
GROUP_PARTY = re.compile(r"\b(?:armed|rebel|militant|jihadist|insurgent|extremist|separatist|paramilitary)\s+(?:groups?|factions?)\b", re.I)
ACCORDING_TO = re.compile(r"according to(?: the| a| an| its| their| his| her)?\s*$", re.I)
# a span after one of these is inside post-head material, not the subject of the verb after it
PREPOSITIONS = {"of", "for", "in", "at", "from", "to", "by", "with", "near", "on", "across", "based", "loyal", "within",
                "inside", "outside", "around", "via", "into", "over", "under", "among", "between", "against", "about"}
APPOSITION_BEFORE = re.compile(r",\s+(the |a |an )?$")
APPOSITION_HEADS = TITLE_WORDS | {"member", "members", "affiliate", "official", "officials", "ally", "branch", "wing", "offshoot",
                                  "negotiator", "delegate", "founder", "co-founder", "strongman", "figure", "militant", "fighter"}
NOT_APPOSITION_HEADS = {"said", "says", "told", "and", "or", "who", "which", "that", "had", "has", "have", "was", "were", "is", "are",
                        "in", "on", "at", "of", "for", "to", "with", "from", "by", "first", "also", "later", "then", "will", "would"}
PRONOUNS = {"i", "we", "he", "she", "it", "they", "you", "several", "some", "most", "many", "others", "both", "all", "one"}
POSSESSIVE = {"’", "'"}
NAME_PARTICLES = {"al", "el", "ad", "ar", "as", "ash", "at", "az", "an", "bin", "ibn", "abu", "de", "du", "da", "di", "van", "von", "le", "la"}


# ---- the checks --------------------------------------------------------------------------------

def _covered(spans: Sequence[Span]) -> list[tuple[int, int]]:
    return sorted((s.start, s.end) for s in spans)


def _inside_any(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in ranges)


def consistency_findings(docs: Sequence[Document]) -> list[Finding]:
    """Same surface string, same neighbouring words, different treatment."""
    # (surface, word before, word after) -> label -> [(doc, span)]
    labelled: dict[tuple[str, str, str], dict[str, list[tuple[Document, Span]]]] = defaultdict(lambda: defaultdict(list))
    surfaces_by_first: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    words_of: dict[str, Words] = {}
    for doc in docs:
        words = words_of[doc.id] = Words(doc.text)
        for span in doc.spans:
            idx = words.span_words(span)
            if idx is None:
                continue
            surface = tuple(words.lower[idx[0]:idx[1] + 1])
            key = (" ".join(surface), words.before(span.start), words.after(span.end))
            labelled[key][span.label].append((doc, span))
            surfaces_by_first[surface[0]].add(surface)
    out: list[Finding] = []
    for (surface, before, after), by_label in sorted(labelled.items()):
        if len(by_label) < 2:
            continue
        counts = {label: len(v) for label, v in sorted(by_label.items(), key=lambda kv: -len(kv[1]))}
        majority = next(iter(counts))
        for label, members in by_label.items():
            if label == majority:
                continue
            for doc, span in members:
                others = {lab: sorted({d.id for d, _ in m}) for lab, m in by_label.items() if lab != label}
                out.append(Finding("label-conflict", doc.id, span.start, span.end, doc.text[span.start:span.end], label,
                                   f"{label} here; between {before!r} and {after!r} also " + ", ".join(f"{lab} x{counts[lab]}" for lab in others),
                                   context_of(doc.text, span.start, span.end), details={"counts": counts, "docs": others}))
    # plain occurrences of labelled strings
    for doc in docs:
        words = words_of[doc.id]
        ranges = _covered(doc.spans)
        for i, first in enumerate(words.lower):
            for surface in surfaces_by_first.get(first, ()):
                j = i + len(surface) - 1
                if j >= len(words.lower) or tuple(words.lower[i:j + 1]) != surface:
                    continue
                start, end = words.offsets[i][0], words.offsets[j][1]
                if _inside_any(start, end, ranges) or (len(surface) == 1 and surface[0] in PRONOUNS):
                    continue  # pronouns are spans by role only (T1, D10): attribution-no-cue covers them
                if _in_apposition(doc, words, i) and words.lower_at(j + 1) not in POSSESSIVE:
                    continue  # "Zabihullah Mujahid, a spokesman for ...": a description, no span (G9); a possessor still is one
                key = (" ".join(surface), words.lower_at(i - 1), words.lower_at(j + 1))
                by_label = labelled.get(key)
                if not by_label:
                    continue
                counts = {label: len(v) for label, v in by_label.items()}
                docs_of = {label: sorted({d.id for d, _ in v}) for label, v in by_label.items()}
                out.append(Finding("unlabelled-occurrence", doc.id, start, end, doc.text[start:end], None,
                                   f"plain here; between {key[1]!r} and {key[2]!r} a span elsewhere: " + ", ".join(f"{lab} x{n}" for lab, n in counts.items()),
                                   context_of(doc.text, start, end), details={"counts": counts, "docs": docs_of}))
    return out


def _in_apposition(doc: Document, words: Words, first: int) -> bool:
    """True when word ``first`` opens (after an article) an apposition to a span: "<span>, a spokesman"."""
    k = first - 1
    if words.lower_at(k) in ("a", "an", "the"):
        k -= 1
    if words.lower_at(k) != "," or k < 1:
        return False
    return any(s.end == words.offsets[k - 1][1] for s in doc.spans)


def _is_nationality(tokens: list[str]) -> bool:
    joined = " ".join(tokens)
    if joined in NATIONALITIES:
        return True
    return len(tokens) == 1 and bool(re.fullmatch(r"[a-z]+(ian|ese)", joined))


def _subject_position(words: Words, first: int) -> bool:
    """False when the span starting at word ``first`` sits in a prepositional phrase ("residents of [Mbau] said")."""
    k = first - 1
    while k >= 0 and words.lower[k] in DETERMINERS:
        k -= 1
    return words.lower_at(k) not in PREPOSITIONS


@dataclass
class _Span:
    """One span with its words, as the rule checks see it."""

    span: Span
    first: int  # index of its first word
    last: int  # index of its last word
    tokens: list[str]  # its words, lower case
    raw: list[str]  # its words as written


class _DocumentChecks:
    """The rule checks of one document; each ``check_*`` method adds its findings to ``found``."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.text = doc.text
        self.words = Words(doc.text)
        self.sentences = sentence_bounds(doc.text)
        self.ranges = _covered(doc.spans)
        self.span_ends = {s.end: s for s in doc.spans}
        self.found: list[Finding] = []

    def add(self, kind: str, message: str, span: Span | None = None, start: int | None = None, end: int | None = None) -> None:
        s = span.start if span else start
        e = span.end if span else end
        self.found.append(Finding(kind, self.doc.id, s, e, self.text[s:e], span.label if span else None, message, context_of(self.text, s, e)))

    def run(self) -> list[Finding]:
        for span in sorted(self.doc.spans):
            idx = self.words.span_words(span)
            if idx is None:
                continue  # validate reports spans off word edges
            first, last = idx
            sp = _Span(span, first, last, self.words.lower[first:last + 1], [self.words.word(k) for k in range(first, last + 1)])
            self.check_leading_words(sp)
            if span.label == "LOCATION":
                self.check_location(sp)
            if _is_nationality([t for t in sp.tokens if t != "-"]) and sp.raw[0][:1].isupper():
                self.add("nationality-alone", "a nationality adjective alone is not a span (A2, L4)", span)
            if span.label == "CASUALTY":
                self.check_casualty(sp)
            self.check_source(sp)
            if span.label in ("ACTOR", "ATTRIBUTION"):
                self.check_description_before_name(sp)
            if span.label in ("ACTOR", "ATTRIBUTION", "LOCATION"):
                self.check_apposition_modifier(sp)
        self.check_negated_mentions()
        self.check_unlabelled_group_parties()
        self.check_unlabelled_weapon_agents()
        self.check_unlabelled_weapon_by_agents()
        self.check_weapon_not_agent()
        self.check_unlabelled_withheld_sayers()
        return self.found

    def _before(self, span: Span, width: int = 40) -> str:
        return self.text[max(0, span.start - width):span.start]

    def _after(self, span: Span, width: int = 60) -> str:
        return self.text[span.end:span.end + width]

    # ---- one span ----

    def check_leading_words(self, sp: _Span) -> None:
        """G3 articles and possessives; R18 quantifiers before a party or source noun."""
        head, span = sp.tokens[0], sp.span
        if len(sp.tokens) < 2:
            return
        if head in DETERMINERS and not (span.label == "CASUALTY" and head in COUNTING_ARTICLES):
            self.add("leading-determiner", f"{sp.raw[0]!r} starts the span: move the start past it (G3)", span)
        elif head in QUANTIFIERS and span.label in ("ACTOR", "ATTRIBUTION") and sp.tokens[1] not in ("of", "-"):
            self.add("leading-quantifier", f"{sp.raw[0]!r} before a party or source noun stays outside (R18)", span)
        elif head in CASUALTY_QUANTIFIERS and span.label == "CASUALTY" and sp.tokens[1] not in ("of", "-"):
            self.add("casualty-quantifier", f"{sp.raw[0]!r} before the count stays outside (R18, W8)", span)

    def check_location(self, sp: _Span) -> None:
        """R7 direction adjectives, L1 bare directions, L2/R6 extension nouns."""
        words, span = self.words, sp.span
        prev = words.lower_at(sp.first - 1)
        if prev in DIRECTIONS and sp.first > 0 and not _inside_any(*words.offsets[sp.first - 1], self.ranges) \
                and words.word(sp.first - 1)[:1].islower() and self.text[words.offsets[sp.first - 1][1]:span.start] == " ":
            self.add("direction-outside", f"{words.word(sp.first - 1)!r} directly before the name belongs inside (R7)", span)
        if all(t in DIRECTIONS or t in ("-", "far") for t in sp.tokens) and sp.raw[0][:1].islower():
            self.add("bare-direction", "a direction with no place name is not a span (L1)", span)
        for k, (tok, rw) in enumerate(zip(sp.tokens, sp.raw)):
            # the last word, or the word before "of" ("outskirts of Goma"); "district hospital" is a kind noun
            if tok in EXTENSIONS and rw[:1].islower() and (k == len(sp.tokens) - 1 or sp.tokens[k + 1] == "of"):
                self.add("trailing-extension", f"{rw!r} only extends the place; leave it outside (L2, R6)", span)
                break

    def check_casualty(self, sp: _Span) -> None:
        """C1/C4: a stated number; C5, D2, R10, R11: what the span takes in and leaves out."""
        span = sp.span
        if not any(ch.isdigit() for ch in self.text[span.start:span.end]) and not any(t in NUMBER_WORDS for t in sp.tokens):
            self.add("casualty-no-number", "no digit or number word: victims with no stated quantity are not CASUALTY (C1, C4)", span)
        bare_count = sp.tokens[-1] in NUMBER_WORDS or sp.tokens[-1][:1].isdigit()
        resultative = self.words.lower_at(sp.first - 1) in ("left", "leaving", "leave", "leaves")  # "left [four people] dead"
        sentence_start = sentence_of(self.sentences, span.start)[0]
        if resultative and sp.tokens[-1] in ("dead", "wounded", "injured", "hurt"):
            self.add("casualty-extent", f"{sp.raw[-1]!r} after leave/left is a predicate: outside the span (B6)", span)
            return
        for pattern, where, message in CASUALTY_EXTENT:
            if pattern is CASUALTY_NOUN_AFTER and (not bare_count or resultative):
                continue
            if pattern is CASUALTY_PARTICIPLE_AFTER and (not bare_count or resultative or PASSIVE_BEFORE.search(self.text[sentence_start:span.start])):
                continue  # "[Ten people] were killed and [30] wounded": an elided verb stays outside (R10)
            if where == "before":
                m = pattern.search(self._before(span))
            elif where == "span":
                m = pattern.search(self.text[span.start:span.end])
            else:
                m = pattern.match(self._after(span))
            if m:
                self.add("casualty-extent", message.format(m.group().strip()), span)
                break

    def check_source(self, sp: _Span) -> None:
        """T: a saying cue for every source; T2/R3: every sayer is ATTRIBUTION."""
        span = sp.span
        if span.label == "ATTRIBUTION":
            s, e = sentence_of(self.sentences, span.start)
            if not SAYING_CUE.search(self.text[s:e]):
                self.add("attribution-no-cue", "no saying cue (said, told, according to, ...) in this sentence: check the role (T, T4)", span)
            return
        if span.label == "CASUALTY":
            return
        after = self._after(span)
        subject = _subject_position(self.words, sp.first)
        if subject and WITHHELD.match(after):
            self.add("withheld-saying", f"{span.label} as subject of a withheld saying verb ({after.strip()[:30]!r}) is ATTRIBUTION (R3, 9.2)", span)
        elif subject and SAYER_AFTER.match(after):
            verb = SAYER_AFTER.match(after).group().strip()
            self.add("sayer-not-attribution", f"{span.label} as subject of {verb!r}: the source is ATTRIBUTION (T2)", span)
        elif ACCORDING_TO.search(self._before(span)):
            self.add("sayer-not-attribution", f"{span.label} as object of 'according to' is ATTRIBUTION (T)", span)

    def check_description_before_name(self, sp: _Span) -> None:
        """R19/A4: only a title goes inside before a name ("the Iran-backed [Kataib Hezbollah]")."""
        raw, span = sp.raw, sp.span
        if len(raw) < 2 or not raw[-1][:1].isupper() or POSSESSIVE.intersection(raw):
            return
        caps = [k for k, w in enumerate(raw) if w[:1].isupper()]
        lead = raw[:caps[0]] if caps else []
        has_title = any(t.strip(".") in TITLE_WORDS for t in sp.tokens)
        if lead and lead[0].lower() in NAME_PARTICLES and len(lead) > 1 and lead[1] in "-‐":
            lead = []  # "al-Shabaab"
        if lead and all(w.lower() in NUMBER_WORDS or w[:1].isdigit() or w in "-," for w in lead):
            lead = []  # numbers stay inside a party phrase (R18)
        if re.fullmatch(r"[A-Z]{2,}s", raw[-1]):
            lead = []  # a plural acronym ("NGOs") is a common-noun head: its pre-modifiers are inside (R19)
        if lead and any(w[:1].isalpha() for w in lead) and not has_title:
            self.add("description-before-name", f"{' '.join(lead)!r} describes the name: only a title goes inside (R19, A4)", span)
        elif len(raw) > 3 and raw[1] == "-" and DESCRIPTION_SUFFIX.search("".join(raw[:3])) and raw[3][:1].isupper() and not has_title:
            self.add("description-before-name", f"{''.join(raw[:3])!r} describes the name: leave it outside (R19)", span)

    def check_apposition_modifier(self, sp: _Span) -> None:
        """G9: "Volker Türk, the [UN] rights chief, said" gives only "Volker Türk"."""
        span, words = sp.span, self.words
        if sp.tokens[0] in PRONOUNS:
            return
        m = APPOSITION_BEFORE.search(self._before(span))
        owner = self.span_ends.get(span.start - len(m.group())) if m else None
        nxt = words.lower_at(sp.last + 1)
        if owner is not None and owner.label in ("ACTOR", "ATTRIBUTION") and words.word(sp.last + 1)[:1].islower() \
                and (nxt in APPOSITION_HEADS or (m.group(1) and nxt not in NOT_APPOSITION_HEADS and not nxt.endswith("ed"))):
            self.add("apposition-modifier", f"modifies {words.word(sp.last + 1)!r}, the noun of an apposition to a name: not a span (G9)", span)

    # ---- plain text ----

    def check_unlabelled_weapon_agents(self) -> None:
        """A3/R2: a weapon that is the agent of an attack verb is ACTOR."""
        for m in WEAPON_AGENT.finditer(self.text):
            i = self.words.index_at_start.get(m.start())
            if i is None:
                continue
            s, e = self.words.offsets[i]
            if not _inside_any(s, e, self.ranges):
                self.add("weapon-agent-unlabelled", f"{self.text[s:e]!r} is the agent of {m.group().split()[-1]!r}: ACTOR (A3, R2)", start=s, end=e)

    def check_negated_mentions(self) -> None:
        """B3: "No [group] has claimed" refers to no party."""
        for span in self.doc.spans:
            if span.label in ("ACTOR", "ATTRIBUTION") and NEGATION_BEFORE.search(self._before(span, 12)):
                self.add("negated-mention", "a negated mention refers to no party: no span (B3)", span)

    def check_unlabelled_group_parties(self) -> None:
        """B4: "armed groups" is a descriptive mention of parties (A1)."""
        for m in GROUP_PARTY.finditer(self.text):
            if not _inside_any(m.start(), m.end(), self.ranges) and not NEGATION_BEFORE.search(self.text[max(0, m.start() - 12):m.start()]):
                self.add("group-party-unlabelled", f"{m.group()!r} names parties: ACTOR (A1, B4)", start=m.start(), end=m.end())

    def check_weapon_not_agent(self) -> None:
        """W7: a weapon marked ACTOR must be the subject or "by"-agent of an attack or harm verb."""
        for span in self.doc.spans:
            surface = self.text[span.start:span.end]
            acronym = surface[:1].isupper() and " " not in surface and surface.isupper()
            if span.label != "ACTOR" or acronym or not WEAPON_END.search(surface):
                continue
            if not HARM_VERB_AFTER.match(self._after(span)) and not BY_BEFORE.search(self._before(span, 60)):
                self.add("weapon-not-agent", f"{surface!r} is marked ACTOR but no attack verb follows it and no 'by' precedes it: an instrument is no span (A3, W7)", span)

    def check_unlabelled_weapon_by_agents(self) -> None:
        """W7: "killed by a car bomb": the weapon after "by" is ACTOR."""
        for m in WEAPON_BY_AGENT.finditer(self.text):
            e = m.end()
            s = e - len(m.group().split()[-1])
            if not _inside_any(s, e, self.ranges):
                self.add("weapon-agent-unlabelled", f"{self.text[s:e]!r} is the 'by'-agent of a harm verb: ACTOR (A3, R2, W7)", start=s, end=e)

    def check_unlabelled_withheld_sayers(self) -> None:
        """R3: the plain subject of "declined to comment", "did not respond" ..."""
        words = self.words
        for m in WITHHELD_ANYWHERE.finditer(self.text):
            i = words.index_at_start.get(m.start())
            if i is None or i == 0:
                continue
            s, e = words.offsets[i - 1]
            if words.word(i - 1)[:1].isalpha() and not _inside_any(s, e, self.ranges) \
                    and words.lower_at(i - 1) not in ("and", "but", "or", "who", "which", "that"):
                self.add("withheld-saying", "plain subject of a withheld saying verb: its source is ATTRIBUTION (R3, 9.2)", start=s, end=e)


def rule_findings(doc: Document) -> list[Finding]:
    """Spec rules and rulings that code can test beyond ``validate``, for one document."""
    return _DocumentChecks(doc).run()


def prediction_findings(gold_docs: Sequence[Document], pred_docs: Sequence[Document]) -> tuple[list[Finding], list[str]]:
    """Where predictions disagree with gold, most confident first; returns findings and the gold ids with no prediction."""
    from .errorlist import error_records

    pred_by_id = {d.id: d for d in pred_docs}
    problems = [Problem("text-mismatch", "the prediction's text differs from the gold text", "predict on the corpus documents themselves (same text, same offsets)", record=g.id)
                for g in gold_docs if g.id in pred_by_id and pred_by_id[g.id].text != g.text]
    if problems:
        raise CorpusError(problems)
    pairs = [(g, pred_by_id[g.id]) for g in gold_docs if g.id in pred_by_id]
    missing = sorted(g.id for g in gold_docs if g.id not in pred_by_id)
    out = []
    for rec in error_records([g for g, _ in pairs], [p for _, p in pairs]):
        gold_doc = next(g for g, _ in pairs if g.id == rec.doc_id)
        text = gold_doc.text
        g, p = rec.gold, rec.pred
        show = lambda s: "—" if s is None else f"{s.label} {text[s.start:s.end]!r}"  # noqa: E731
        out.append(Finding(rec.kind, rec.doc_id, rec.start, rec.end, text[rec.start:rec.end], g.label if g else None,
                           f"gold {show(g)}; predicted {show(p)}", context_of(text, rec.start, rec.end),
                           score=p.score if p is not None else None,
                           details={"gold": g.to_dict(text) if g else None, "pred": p.to_dict(text) if p else None}))
    out.sort(key=lambda f: (f.score is None, -(f.score or 0.0), f.doc_id, f.start))
    return out, missing


# ---- the report ----------------------------------------------------------------------------------

def provenance_findings(docs: Sequence[Document], review: dict[tuple[str, str, str], str]) -> list[Finding]:
    """P1/P2 cases with no verdict in the provenance review (conflict_spans.provenance)."""
    from .provenance import unresolved

    text_of = {d.id: d.text for d in docs}
    out = []
    for case in unresolved(list(docs), review):
        text = text_of[case.doc_id]
        out.append(Finding(f"provenance-{case.kind}", case.doc_id, case.start, case.end, case.name,
                           "ATTRIBUTION" if case.kind == "named-speaker" else None,
                           f"{case.note}; record a verdict (doc_id, kind, name, verdict, note) in corpus/provenance_review.tsv",
                           context_of(text, case.start, case.end)))
    return out


def audit(docs: Sequence[Document], predictions: Sequence[Document] | None = None,
          provenance_review: dict[tuple[str, str, str], str] | None = None) -> dict[str, Any]:
    """Every finding for ``docs``; with ``predictions``, also where they disagree with gold.

    ``provenance_review`` holds the verdicts already recorded for P1/P2 cases;
    cases without one are listed.
    """
    docs = sorted(docs, key=lambda d: d.id)
    findings = consistency_findings(docs)
    for doc in docs:
        findings += rule_findings(doc)
    findings += provenance_findings(docs, provenance_review or {})
    order = {kind: i for i, kind in enumerate(FINDING_TYPES)}
    findings.sort(key=lambda f: (order[f.kind], f.doc_id, f.start))
    no_prediction: list[str] = []
    if predictions is not None:
        pred_findings, no_prediction = prediction_findings(docs, predictions)
        findings += pred_findings
    counts = Counter(f.kind for f in findings)
    kinds = [k for k in FINDING_TYPES if FINDING_TYPES[k][0] != "predictions" or predictions is not None]
    return {
        "documents": len(docs),
        "spans": sum(len(d.spans) for d in docs),
        "counts": {k: counts.get(k, 0) for k in kinds},
        "findings": findings,
        "documents_without_predictions": no_prediction,
    }


def _cell(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def format_counts(result: dict[str, Any]) -> str:
    width = max(len(k) for k in result["counts"])
    lines = [f"{result['documents']} documents, {result['spans']} spans: {sum(result['counts'].values())} findings to review"]
    lines += [f"  {kind:<{width}} {n:>5}   {FINDING_TYPES[kind][1]:<7} {FINDING_TYPES[kind][2]}" for kind, n in result["counts"].items()]
    return "\n".join(lines) + "\n"


def to_markdown(result: dict[str, Any]) -> str:
    lines = ["# Annotation audit", "",
             "A review list, not a verdict: check each item against the spec and annotation/GUIDELINES.md, fix the wrong side, leave correct ones.", "",
             f"{result['documents']} documents, {result['spans']} spans.", "",
             "| finding | family | rule | count | what it means |", "|---|---|---|---|---|"]
    for kind, n in result["counts"].items():
        family, rule, meaning = FINDING_TYPES[kind]
        lines.append(f"| {kind} | {family} | {rule} | {n} | {meaning} |")
    if result["documents_without_predictions"]:
        lines += ["", f"No prediction for {len(result['documents_without_predictions'])} document(s): " + ", ".join(result["documents_without_predictions"])]
    for kind in result["counts"]:
        rows = [f for f in result["findings"] if f.kind == kind]
        if not rows:
            continue
        score_col = FINDING_TYPES[kind][0] == "predictions"
        lines += ["", f"## {kind} ({len(rows)})", "", FINDING_TYPES[kind][2] + ".", ""]
        lines += ["| document | offsets | label | text | " + ("score | " if score_col else "") + "note | context |",
                  "|---|---|---|---|" + ("---|" if score_col else "") + "---|---|"]
        for f in rows:
            score = (f"{f.score:.3f} | " if f.score is not None else "— | ") if score_col else ""
            lines.append(f"| {_cell(f.doc_id)} | {f.start}–{f.end} | {f.label or '—'} | {_cell(f.text)} | {score}{_cell(f.message)} | {_cell(f.context)} |")
    return "\n".join(lines) + "\n"


def to_json(result: dict[str, Any]) -> str:
    data = dict(result, findings=[f.to_dict() for f in result["findings"]])
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


# ---- inter-annotator agreement -------------------------------------------------------------------

def disagreements(first: Sequence[Document], second: Sequence[Document]) -> list[dict[str, Any]]:
    """Every span on which two annotations of the same documents differ, paired as in errorlist.

    Kinds: ``only-first`` / ``only-second`` (the other side has nothing there),
    ``label``, ``boundary``, ``label-boundary`` and ``status`` (same span, other CASUALTY status).
    """
    from .errorlist import classify, pair_spans

    kinds = {"missed": "only-first", "spurious": "only-second", "wrong-label": "label", "boundary": "boundary", "wrong-label-boundary": "label-boundary"}
    second_by_id = {d.id: d for d in second}
    out = []
    for a in sorted(first, key=lambda d: d.id):
        b = second_by_id.get(a.id)
        if b is None:
            continue
        for s1, s2 in pair_spans(a.spans, b.spans):
            kind = classify(s1, s2)
            if kind is None:
                if s1.status != s2.status:
                    kind = "status"
                else:
                    continue
            else:
                kind = kinds[kind]
            start = min(s.start for s in (s1, s2) if s is not None)
            end = max(s.end for s in (s1, s2) if s is not None)
            out.append({"doc_id": a.id, "kind": kind, "start": start, "end": end,
                        "first": s1.to_dict(a.text) if s1 else None, "second": s2.to_dict(a.text) if s2 else None,
                        "context": context_of(a.text, start, end)})
    return out


DISAGREEMENT_KINDS = ("only-first", "only-second", "label", "boundary", "label-boundary", "status")


def agreement_report(first: Sequence[Document], second: Sequence[Document]) -> dict[str, Any]:
    """``pairwise_agreement`` on the documents both sides annotated, plus every disagreement."""
    from .agreement import pairwise_agreement

    common = {d.id for d in first} & {d.id for d in second}
    a = [d for d in first if d.id in common]
    b = [d for d in second if d.id in common]
    result = pairwise_agreement(a, b)
    items = disagreements(a, b)
    result["first_only_documents"] = len({d.id for d in first} - common)
    result["disagreements"] = {"counts": {k: sum(1 for d in items if d["kind"] == k) for k in DISAGREEMENT_KINDS}, "items": items}
    return result


def agreement_markdown(result: dict[str, Any], *, first: str, second: str) -> str:
    from .agreement import format_agreement

    lines = ["# Inter-annotator agreement", "",
             f"First annotation: `{first}`; second annotation: `{second}`; {result['documents']} documents annotated by both.", "",
             f"Made with `conflict-spans audit {first} --agreement {second}` (`--format json` gives the same figures as JSON).", "",
             "Strict: same label and the same `[start, end)`. Overlap: same label, at least one character in common. "
             "P is read from the first annotation, R from the second (the second as reference); F1 is symmetric.", "",
             "| label | spans (first) | spans (second) | strict P | strict R | strict F1 | overlap P | overlap R | overlap F1 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, views in [(label, result["labels"][label]) for label in LABEL_NAMES] + [("micro", result["micro"])]:
        s, o = views["strict"], views["overlap"]
        lines.append(f"| {name} | {s['n_a']} | {s['n_b']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {o['precision']:.3f} | {o['recall']:.3f} | {o['f1']:.3f} |")
    st = result["status"]
    lines += ["", f"CASUALTY status: {st['agree']} of {st['compared']} strictly matching CASUALTY spans have the same status ({st['agreement']:.3f}).", "",
              "## Disagreements", "", "| kind | count |", "|---|---|"]
    lines += [f"| {k} | {n} |" for k, n in result["disagreements"]["counts"].items()]
    lines += ["", "| document | kind | first | second | context |", "|---|---|---|---|---|"]

    def show(s):
        return "—" if s is None else _cell(f"{s['label']}{':' + s['status'] if s.get('status') else ''} {s['text']!r}")

    for d in result["disagreements"]["items"]:
        lines.append(f"| {d['doc_id']} | {d['kind']} | {show(d['first'])} | {show(d['second'])} | {_cell(d['context'])} |")
    lines += ["", "```", format_agreement(result).rstrip(), "```"]
    return "\n".join(lines) + "\n"


# ---- command -------------------------------------------------------------------------------------

def _read(path: Path) -> list[Document]:
    from .corpus_io import read_documents

    return read_documents(path)


def cmd_audit(args: argparse.Namespace) -> int:
    from .corpus_io import atomic_write_text

    from .paths import SOURCE_DIR

    path = args.path or str(SOURCE_DIR.relative_to(Path.cwd()) if SOURCE_DIR.is_relative_to(Path.cwd()) else SOURCE_DIR)
    docs = _read(Path(path))
    if args.agreement:
        second = _read(Path(args.agreement))
        result = agreement_report(docs, second)
        if args.format == "json":
            report = json.dumps(result, ensure_ascii=False, indent=1) + "\n"
        else:
            report = agreement_markdown(result, first=path, second=args.agreement)
        from .agreement import format_agreement

        summary = format_agreement(result) + "disagreements: " + ", ".join(f"{k} {n}" for k, n in result["disagreements"]["counts"].items()) + "\n"
    else:
        from .paths import CORPUS_DIR
        from .provenance import read_review

        predictions = _read(Path(args.predictions)) if args.predictions else None
        review_path = Path(args.provenance_review) if args.provenance_review else CORPUS_DIR / "provenance_review.tsv"
        result = audit(docs, predictions, read_review(review_path))
        report = to_json(result) if args.format == "json" else to_markdown(result)
        summary = format_counts(result)
    if args.output:
        atomic_write_text(Path(args.output), report)
        print(summary + f"report written to {args.output}", end="\n")
    else:
        sys.stdout.write(report)
        sys.stderr.write(summary)
    return 0


def register(sub) -> None:
    p = sub.add_parser("audit", help="list likely annotation errors for review (inconsistent labels, spec rules, model disagreements), or inter-annotator agreement")
    p.add_argument("path", nargs="?", default=None, help="sources folder, .txt file or JSONL to audit (default: the bundled corpus/src)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--predictions", metavar="FILE.jsonl", help="model predictions for these documents (e.g. training/kfold.py output): list where they disagree with gold, most confident first")
    mode.add_argument("--agreement", metavar="SECOND", help="a second annotation of (some of) these documents: report strict/overlap agreement per label and every disagreement instead")
    p.add_argument("--provenance-review", metavar="FILE.tsv", help="recorded verdicts for provenance cases (default corpus/provenance_review.tsv); cases without a verdict are listed")
    p.add_argument("--format", choices=("md", "json"), default="md", help="report format (default md)")
    p.add_argument("-o", "--output", metavar="OUT", help="write the report here (default: stdout; the counts then go to stderr)")
    p.set_defaults(func=cmd_audit)
