"""Likely breaches of the corpus's provenance rules, for review (corpus/README.md, P1 and P2).

- **P1, named speakers**: a quotation (or a first-person statement inside one)
  in a sentence whose source is a personal name, directly or through a "he"/"she"
  whose nearest named person comes shortly before. Quoted individuals must be
  invented or unnamed; code cannot tell an invented name from a real one, so
  every such name is listed until a reviewer records a verdict for it.
- **P2, official texts**: a document in an official genre (statement, press
  release, briefing, testimony, tribunal or monitoring report) or whose first
  lines read as one ("Statement by", "Communiqué", "Issued by"), with the issuer
  named there. The issuer must be an invented body, or the document a report
  about what a real body said.

A reviewed case is recorded in ``corpus/provenance_review.tsv`` (document id,
kind, name, verdict, note); the audit lists only the cases without a verdict.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from conflict_spans.document import Document

# What every bundled record's ``meta["provenance"]`` says (corpus/README.md opens with the same).
PROVENANCE_KEY = "provenance"
PROVENANCE: dict[str, object] = {
    "text": "written for this corpus; no sentence copied from any publication",
    "real": ["conflicts", "places", "organisations", "the broad course of events"],
    "written_for_corpus": ["every quotation", "every individual speaker", "every figure"],
    "source_of_facts": False,
}

# what a reviewer may record for a case; anything else leaves it open
VERDICTS = (
    "invented",         # named-speaker: the person is invented for the corpus
    "not-the-speaker",  # named-speaker: the name is not who is quoted (a pronoun the detector linked wrongly)
    "invented-body",    # official-text: the issuer is an invented body
    "report-about",     # official-text: a report about what a real body said, not its own text
    "not-official",     # official-text: not written as anyone's official text
)
OFFICIAL_GENRES = {"statement", "press-release", "un-briefing", "press-conference", "testimony", "tribunal-report",
                   "monitoring-report", "field-report", "ngo-briefing"}
OFFICIAL_TITLE = re.compile(r"\b(?:statement|communiqu[eé]|press release|press briefing|briefing|transcript|issued by|prepared by|"
                            r"compiled by|daily report|spot report|situation report|findings|testimony|hearing|verdict|judgment)\b", re.I)
QUOTE_MARKS = "“”\"«»"
FIRST_PERSON = re.compile(r"\b(?:I|we|my|our|me|us)\b", re.I)
# words that make a capitalised phrase an organisation, a place or a group rather than a person
NON_PERSON = set("""ministry army forces force council government office committee mission agency front party movement brigade
    battalion regiment division corps police guard command commission court tribunal board bureau department authority
    authorities service services union organisation organization group network institute centre center coalition alliance
    league fund program programme bank nations world red cross crescent hospital university school news radio tv
    television channel agency press wire observatory watch international doctors médecins sans frontières federation
    republic state states kingdom emirates administration presidency parliament assembly senate congress cabinet
    militia militias rebels fighters troops soldiers officials residents sources spokesman spokeswoman spokesperson
    spokespeople statement report communique ministry’s unit units team headquarters headquarter secretariat""".split())
TITLES = set("""president vice prime minister deputy general lt lt. col col. colonel brig brig. maj maj. major capt capt. captain
    sgt sgt. gen gen. adm adm. admiral commander chief secretary-general secretary envoy ambassador governor mayor
    director head spokesman spokeswoman spokesperson dr dr. mr mr. mrs mrs. ms ms. sheikh imam judge justice
    senator lawmaker mp brigadier lieutenant field marshal special representative coordinator rapporteur
    high commissioner foreign defence defense interior information health army police military rebel
    militia senior regional provincial district local national""".split())
_WORD = re.compile(r"[\w’'.-]+")


def person_name(text: str) -> str | None:
    """The personal name in a span's text ("Brig. Gen. Nabil Abdallah" -> "Nabil Abdallah"), or None."""
    words = _WORD.findall(text)
    if not words or any(w.lower().strip(".") in NON_PERSON for w in words):
        return None
    name = [w for w in words if w.lower() not in TITLES]
    if len(name) < 2 or not all(w[:1].isupper() or w.lower() in ("al", "el", "bin", "ibn", "de", "da", "van", "von") or "-" in w for w in name):
        return None
    if any(w.isupper() and len(w) > 1 for w in name):
        return None  # an acronym: an organisation
    return " ".join(name)


@dataclass(frozen=True)
class Case:
    kind: str  # "named-speaker" | "official-text"
    doc_id: str
    name: str
    start: int
    end: int
    note: str


def _sentence_range(text: str, pos: int) -> tuple[int, int]:
    start = max(text.rfind("\n", 0, pos) + 1, 0)
    end = text.find("\n", pos)
    return start, len(text) if end == -1 else end


def named_speaker_cases(doc: Document) -> list[Case]:
    text = doc.text
    spans = sorted(doc.spans)
    cases: list[Case] = []
    seen: set[str] = set()
    for i, span in enumerate(spans):
        if span.label != "ATTRIBUTION":
            continue
        s, e = _sentence_range(text, span.start)
        paragraph = text[s:e]
        if not any(q in paragraph for q in QUOTE_MARKS):
            continue
        name = person_name(span.text_in(text))
        how = "source of a quotation"
        if name is None and span.text_in(text).lower() in ("he", "she", "i"):
            for prev in reversed(spans[:i]):
                if prev.label in ("ATTRIBUTION", "ACTOR") and span.start - prev.end < 800:
                    name = person_name(prev.text_in(text))
                    if name:
                        how = f"'{span.text_in(text)}' refers back to this name as source of a quotation"
                        break
                if span.start - prev.end >= 800:
                    break
        if name and name not in seen:
            seen.add(name)
            first_person = " (first person in the quote)" if FIRST_PERSON.search(paragraph) else ""
            cases.append(Case("named-speaker", doc.id, name, span.start, span.end, how + first_person))
    return cases


def official_text_cases(doc: Document) -> list[Case]:
    text = doc.text
    head_end = 0
    for _ in range(3):
        nxt = text.find("\n", head_end + 1)
        head_end = len(text) if nxt == -1 else nxt
    head = text[:head_end]
    genre = str(doc.meta.get("genre", ""))
    if genre not in OFFICIAL_GENRES and not OFFICIAL_TITLE.search(head):
        return []
    issuers = [s for s in doc.spans if s.start < head_end and s.label in ("ATTRIBUTION", "ACTOR")]
    if not issuers:
        return [Case("official-text", doc.id, "(no issuer named in the first lines)", 0, min(head_end, len(text)), f"genre {genre or '(none)'}")]
    first = issuers[0]
    return [Case("official-text", doc.id, first.text_in(text), first.start, first.end, f"genre {genre or '(none)'}; issuer in the first lines")]


def cases(doc: Document) -> list[Case]:
    return named_speaker_cases(doc) + official_text_cases(doc)


def read_review(path: Path) -> dict[tuple[str, str, str], str]:
    """(doc_id, kind, name) -> verdict, from a review TSV; a missing file is an empty review."""
    if not path.is_file():
        return {}
    out = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            out[row["doc_id"], row["kind"], row["name"]] = row["verdict"]
    return out


def unresolved(docs: list[Document], review: dict[tuple[str, str, str], str]) -> list[Case]:
    return [c for d in docs for c in cases(d) if review.get((c.doc_id, c.kind, c.name)) not in VERDICTS]
