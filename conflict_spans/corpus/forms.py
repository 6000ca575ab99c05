"""The forms of real wire copy, read off a document's spans and text (guidelines §8.11).

Each detector answers "does this document carry the form?" from what can be
read mechanically; ``stats`` counts the documents that do. They are counters
for coverage, not annotation checks: a form a detector cannot see (a speaker
far from a paraphrase with no quotation marks, say) is not counted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from conflict_spans.document import Document

FUNCTION_WORDS = {"of", "and", "for", "in"}
ORDINAL = re.compile(r"^(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)$", re.I)
PRONOUN_SOURCES = {"he", "she", "it", "they", "i", "we", "who", "which", "you"}
GROUP_NOUNS = {"residents", "people", "groups", "villagers", "civilians", "families", "locals", "inhabitants",
               "communities", "population", "tribesmen", "refugees", "migrants", "crowds", "protesters", "worshippers"}
DEMONYMS = {
    "afghan", "albanian", "american", "arab", "armenian", "azerbaijani", "baloch", "bosnian", "british", "burmese",
    "cameroonian", "chadian", "chechen", "chinese", "colombian", "congolese", "croat", "croatian", "egyptian",
    "emirati", "eritrean", "ethiopian", "european", "french", "georgian", "german", "haitian", "indian", "iranian",
    "iraqi", "israeli", "kosovar", "kurdish", "lebanese", "libyan", "malay", "malian", "muslim", "nepali", "nepalese",
    "nigerian", "ossetian", "pakistani", "palestinian", "pashtun", "russian", "rwandan", "saudi", "serb", "serbian",
    "sierra", "sinhalese", "somali", "sudanese", "syrian", "tamil", "thai", "tigrayan", "turkish", "ugandan",
    "ukrainian", "yemeni", "abkhaz", "amhara", "oromo", "darfuri", "fur", "zaghawa", "masalit", "filipino", "moro",
    "mozambican", "burkinabe", "nigerien", "kashmiri", "yazidi", "shiite", "sunni", "alawite",
}
DATELINE = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ .’'\-/]{2,}(?:,[^—–\n]{0,60})?\s+[—–-]{1,2}\s", re.M)
BYLINE = re.compile(r"^By [A-ZÀ-Þ]", re.M)
CREDIT = re.compile(r"\((?:[A-Z][\w’'-]*\s*){1,4}\)\s+[—–]|^(?:Reporting|Additional reporting|Writing|Editing) by |\((?:Photo|Image) credit", re.M)
CAPTION = re.compile(r"^(?:Photo|Caption|Pictured|Image|PHOTO)\b\s*[:—–]", re.M)
_WORD = re.compile(r"\w+(?:[’'-]\w+)*")
_QUOTE_RUN = re.compile(r"“[^”]*[.!?]\s[^”]*[.!?,]”")  # a quotation of two or more sentences


def _tokens(s: str) -> list[str]:
    return _WORD.findall(s)


def _has_diacritic(s: str) -> bool:
    for ch in s:
        if ch in "ʿʾ":
            return True
        if ch.isalpha() and "LATIN" in unicodedata.name(ch, "") and unicodedata.decomposition(ch):
            return True
        if ch.isalpha() and "LATIN" in unicodedata.name(ch, "") and ord(ch) > 0x24F:
            return True  # ḥ ṣ ṭ and other Latin Extended Additional letters
    return False


def _non_latin(s: str) -> bool:
    letters = [ch for ch in s if ch.isalpha()]
    return bool(letters) and all("LATIN" not in unicodedata.name(ch, "") for ch in letters)


def long_official_name(doc: Document) -> bool:
    """F1: a span of four or more words with a lower-case of/and/for/in inside."""
    for span in doc.spans:
        toks = _tokens(span.text_in(doc.text))
        if len(toks) >= 4 and any(t in FUNCTION_WORDS for t in toks[1:-1]):
            return True
    return False


def unit_designation(doc: Document) -> bool:
    """F2: an ACTOR span with an ordinal (a unit or formation designation)."""
    return any(span.label == "ACTOR" and any(ORDINAL.match(t) for t in _tokens(span.text_in(doc.text))) for span in doc.spans)


def diacritics(doc: Document) -> bool:
    """F3a: a span with a Latin letter carrying a diacritic (or ʿ ʾ)."""
    return any(_has_diacritic(span.text_in(doc.text)) for span in doc.spans)


def original_script(doc: Document) -> bool:
    """F3b: a span in a non-Latin script inside parentheses."""
    text = doc.text
    return any(_non_latin(span.text_in(text)) and text[span.start - 1:span.start] == "(" for span in doc.spans if span.start)


def plain_group_nouns(doc: Document) -> bool:
    """F4: a demonym or generic group noun outside every span, in a sentence that has an ACTOR span."""
    text = doc.text
    covered = sorted((s.start, s.end) for s in doc.spans)
    actor_lines = {text.count("\n", 0, s.start) for s in doc.spans if s.label == "ACTOR"}
    for m in _WORD.finditer(text):
        w = m.group().lower()
        if w not in DEMONYMS and w not in GROUP_NOUNS:
            continue
        if any(s < m.end() and m.start() < e for s, e in covered):
            continue
        if text.count("\n", 0, m.start()) in actor_lines:
            return True
    return False


def pronoun_or_distant_speaker(doc: Document) -> bool:
    """F5: a pronoun ATTRIBUTION, or a quotation of two or more sentences before its speaker."""
    text = doc.text
    if any(span.label == "ATTRIBUTION" and span.text_in(text).lower() in PRONOUN_SOURCES for span in doc.spans):
        return True
    return any(s.label == "ATTRIBUTION" and any(m.end() <= s.start <= m.end() + 40 for m in _QUOTE_RUN.finditer(text)) for s in doc.spans)


def dateline(doc: Document) -> bool:
    return bool(DATELINE.search(doc.text))


def byline(doc: Document) -> bool:
    return bool(BYLINE.search(doc.text))


def agency_credit(doc: Document) -> bool:
    return bool(CREDIT.search(doc.text))


def caption(doc: Document) -> bool:
    return bool(CAPTION.search(doc.text))


def furniture(doc: Document) -> bool:
    """F6: any of dateline, byline, agency credit, photo caption."""
    return dateline(doc) or byline(doc) or agency_credit(doc) or caption(doc)


# name -> (detector, what it counts); the order is the order of the stats table
FORMS: dict[str, tuple[Callable[[Document], bool], str]] = {
    "F1 long official names": (long_official_name, "a span of 4+ words with of/and/for/in inside"),
    "F2 unit designations": (unit_designation, "an ACTOR span with an ordinal"),
    "F3 diacritics or original script": (lambda d: diacritics(d) or original_script(d), "a span with a diacritic, or a non-Latin span in parentheses"),
    "F3a diacritics": (diacritics, "a span with a Latin diacritic or ʿ ʾ"),
    "F3b original script in parentheses": (original_script, "a non-Latin span right after '('"),
    "F4 plain demonyms and group nouns": (plain_group_nouns, "an unspanned demonym or group noun on a line with an ACTOR span"),
    "F5 pronoun or distant speakers": (pronoun_or_distant_speaker, "a pronoun ATTRIBUTION, or a multi-sentence quote before its speaker"),
    "F6 datelines, bylines, credits, captions": (furniture, "any of the four below"),
    "F6a datelines": (dateline, "a paragraph opening 'PLACE —' or 'PLACE, date —'"),
    "F6b bylines": (byline, "a line 'By Name'"),
    "F6c agency credits": (agency_credit, "'(Agency) —' or 'Reporting by'"),
    "F6d photo captions": (caption, "a line 'Photo:' or 'Caption:'"),
}
