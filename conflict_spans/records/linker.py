"""The rule linker: links from each CASUALTY span, by the rules of annotation/LINKS.md that a reader can see.

Transparent by design, it is the baseline the learned linker must beat, and
one of the learned linker's features. Each rule reads only the spans and the
sentence split (``conflict_spans.sentences``):

- ``source`` (K1): the ATTRIBUTION spans of the figure's sentence nearest to
  it, with the spans joined to them by "and", a comma or a bracket; with none in
  the sentence and a saying verb there ("It added"), the last ATTRIBUTION of the
  previous sentence. A pronoun source brings the span it stands for (K6.1).
- ``location`` (K2, K7): of the figure's sentence's LOCATIONs that are not a
  speaker's place, a hospital, a destination or an origin (nor a place listed
  with one), the one the harm hangs from in the dependency parse
  (``records.syntax``: "killed ... in Kharkiv"), else the nearest; the most
  specific of a chain ("in Bakhmut, in Donetsk region", "the Hayat Hotel, close
  to the KM4 junction") and the places listed with it ("Benue, Plateau and
  Nasarawa"). With none there: nothing for a toll over a whole war, country or
  period (K7.5); else the first place of the previous sentence in the same
  paragraph; else, walking back (K7.1-K7.3), the places of the latest figure
  since the last place named, or the first place of the latest sentence that
  tells of harm (a dateline counts); else, for a figure above every place, the
  first place named after it (K7.6). A sub-count or restatement with no place
  in its sentence takes its figure's places (K7.4).
- ``perpetrator`` (K3): the nearest ACTOR before the figure in its sentence with
  a harm word between them ("RSF fighters killed 30"), or after it behind "by"
  ("died in an attack by al-Shabaab"); not one after "of" (the victims' side), nor a
  weapon or platform that names no party ("a drone", K3.4).
- ``part_of`` (K4): a figure after "including", "among them", "of whom" ...,
  or reading "N of the dead", is part of the previous figure of the same status
  in its sentence.
- ``restates`` (K5): a figure with the same status and the same best count as
  an earlier one (at least 2, or the same words) restates its first mention,
  unless their victim nouns differ ("ten attackers", "ten soldiers"): stricter
  than K5.3, which also joins "13 U.S. troops" and "13 service members", because
  on validation the noun check removes more wrong links than right ones.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from conflict_spans.document import Document, Relation, Span
from conflict_spans.records.counts import normalise
from conflict_spans.schema import GROUPING_RELATION, RELATION_BY_NAME
from conflict_spans.sentences import Sentence, sentence_index, sentences

SAYING = re.compile(r"\b(?:said|says|say|saying|told|tells|tell|add(?:ed|s)|report(?:ed|s)?|according|stat(?:ed|es)|announc(?:ed|es)|"
                    r"confirm(?:ed|s)|puts?|count(?:ed|s)|claim(?:ed|s)|estimat(?:ed|es)|record(?:ed|s)|gave|gives|quot(?:ed|es)|"
                    r"cit(?:ed|es)|list(?:ed|s)|document(?:ed|s)|tall(?:ied|ies)|not(?:ed|es)|warn(?:ed|s)|accord)\b", re.I)
HARM = re.compile(r"\b(?:kill\w*|wound\w*|injur\w*|shot|shoot\w*|shell\w*|strik\w*|struck|attack\w*|bomb\w*|fir(?:e|ed|es|ing)|raid\w*|"
                  r"ambush\w*|massacr\w*|execut\w*|murder\w*|blast\w*|explo\w*|hit|hits|gunned|storm\w*|slaughter\w*|behead\w*|"
                  r"assault\w*|offensive|airstrikes?|drone|missiles?|rockets?|mortars?|artillery|torched|burn\w*)\b", re.I)
SUBCOUNT = re.compile(r"\b(?:including|includ(?:es|ed)|among(?:\s+them|\s+those|\s+the\s+\w+)?|of\s+whom|of\s+them|of\s+those|"
                      r"mostly|most\s+of\s+them|of\s+which)\W*$", re.I)
SUBCOUNT_AFTER = re.compile(r"^\W*(?:of\s+(?:them|whom|those|these)|among\s+them|(?:\w+\s+){0,3}?(?:were|was|are|is)\s+among\s+the\s+(?:dead|victims|killed|injured|wounded|casualties))\b", re.I)
TOTAL_FIRST = re.compile(r"\b(?:of|among)\s+the\s*$", re.I)
OF_THE_GROUP = re.compile(r"\bof\s+(?:the|those|them|whom)\b", re.I)
JOINER = re.compile(r"^(?:\s*(?:,|and|&|\(|\)|/|or)\s*)+$")
CHAIN = re.compile(r"^\s*(?:,\s*(?:in\s+|near\s+)?(?:the\s+)?|\s+in\s+(?:the\s+)?(?:\w+\s+){0,3}?(?:of\s+)?(?:the\s+)?|\s*\(\s*|"
                   r"(?:\s*\([^()]*\))?,?\s+(?:on\s+the\s+(?:\w+\s+)?(?:edge|outskirts)\s+of|close\s+to|just\s+outside|outside|"
                   r"(?:north|south|east|west)(?:-?(?:east|west))?\s+of)\s+(?:the\s+)?(?:\w+\s+){0,2}?)$")
# "Gashalti, a village in the [Naftalan] district", "Mugunga displacement camp west of [Goma]", "Sangin district of [Helmand]"
DESCRIBED_IN = re.compile(r"^(?:\s*,)?(?:\s+(?:a|an|the|[A-Za-z’'-]+)){0,5}?\s+(?:in|of|on|near|outside|around|(?:north|south|east|west)(?:-?(?:east|west))?\s+of)"
                          r"\s+(?:the\s+)?(?:[A-Za-z’'-]+\s+){0,2}?$")
# what breaks a described chain: a clause or another party between the two places ("[Liberia] attacked the village of
# [Bomaru]", "[Kabul] and in [Herat]", "[Aden] warn that hospitals in [Lahij]")
CHAIN_BREAK = re.compile(r"\b(?:and|or|but|that|which|where|who|when|while|as|after|since|before|is|are|was|were|has|have|had|been|be|will|"
                         r"would|said|say|says|according|[a-z]+ed)\b")
# the kind of place a description names ("a village in", "the capital of", "district of", "south-west of")
CHAIN_KIND = re.compile(r"\b(?:villages?|towns?|city|cities|districts?|provinces?|regions?|neighbou?rhoods?|camps?|areas?|county|counties|states?|"
                        r"municipalit(?:y|ies)|departments?|valley|capital|suburbs?|settlements?|hamlets?|quarter|commune|locality|territory|"
                        r"governorates?|oblasts?|island|coast|shore|borders?|outskirts|edge|part|road|highway|base|sectors?|division|side|site|venue|"
                        r"schools?|dam|relay|complex|headquarters|mountains?|intersection|gate|terminal|campus|strip|"
                        r"church(?:es)?|mosques?|airfield|airport|port|station|post|checkpoint|bridge|market|"
                        r"(?:north|south|east|west)(?:-?(?:east|west))?(?:ern)?)\b", re.I)
POSSESSIVE_CHAIN = re.compile(r"^[’']s\s+(?:[a-z-]+\s+)?$")
CHAIN_WORDS = frozenset({"a", "an", "the", "in", "of", "on", "at", "near", "around", "outside"})
PRONOUNS = frozenset({"he", "she", "it", "they", "we", "i", "its", "their"})
SPEAKER_PLACE = re.compile(r"^\s+(?:\w+\s+){0,2}?(?:in|at|from)\s+(?:the\s+)?$", re.I)
SAID_AFTER = re.compile(r"^\s+(?:now\s+)?(?:said|says|told|tells|reported|reports|confirmed|confirms|puts?|claimed|claims)\b")
# speakers who are where the harm was: "residents of [Zamalka] said", "doctors in [Bihać] said"
LOCAL_SPEAKER = re.compile(r"\b(?:residents|villagers|survivors|witnesses|people|families|doctors?|medics|nurses|hospitals?)\s+(?:of|in|at|from)\s+"
                           r"(?:the\s+)?(?:[\w-]+\s+){0,2}?$", re.I)
TREATMENT_PLACE = re.compile(r"\b(?:hospital|clinic|medical cent(?:re|er)|health cent(?:re|er)|morgue|dispensary)\b", re.I)
NOT_HARM_PLACE = re.compile(r"(?:\b(?:to|towards|into|from(?:\s+across)?|leaving|left|fled|based\s+in|headquartered\s+in|handlers\s+in|hospitals?\s+(?:in|at)|"
                            r"boundary\s+in|treated\s+in|admitted\s+in|flown\s+to|capital\s+of)\s+(?:the\s+)?|\(\s*(?:source:[^)]*)?)$", re.I)
NOT_HARM_AFTER = re.compile(r"^\s*(?:nationals?|citizens?|-born)\b", re.I)
# K2.4, K2.5 in a longer phrase: where the wounded were taken or treated ("taken to the district hospital in [Dantewada]",
# "[Alindao] health centre", "taken to the morgue in [Pristina]"), where a speaker was reached ("reached by telephone in [Waat]"),
# an earlier attack named to describe someone ("responsible for attacks on the [Route Nationale 1]")
TREATED_IN = re.compile(r"(?:\b(?:treated|admitted|taken|evacuated|airlifted|transferred|brought)\s+(?:[\w-]+\s+){0,5}?(?:to|in|at)|"
                        r"\breached\s+(?:[\w-]+\s+){0,3}?(?:in|at)|"
                        r"\bresponsible\s+for\s+(?:[\w-]+\s+){0,3}?(?:on|in))\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?$", re.I)
TREATED_AFTER = re.compile(r"^\s+(?:district\s+|general\s+|regional\s+|military\s+)?(?:hospital|clinic|health\s+cent(?:re|er)|morgue)\b", re.I)
# "the village of [Bomaru] and a border post near [Koindu]": a second site, listed
LISTED_SITE = re.compile(r"^\s*,?\s*and\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?(?:near|in|at|outside|of)\s+(?:the\s+)?$")
COORDINATED = re.compile(r"^\s*(?:,\s*)?(?:and|or|&)\s+(?:the\s+)?$|^\s*[–/-]\s*$")
MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
CUMULATIVE = re.compile(r"\b(?:since (?:the (?:start|beginning|outbreak)|the (?:war|conflict|fighting|offensive)|then|(?:\d{1,2} )?" + MONTHS
                        + r"|19\d\d|20\d\d)|(?:war|conflict|fighting|offensive) (?:has|have) killed|in total|running totals?|so far this year|this year|"
                        r"across the country|nationwide|countrywide|between (?:\d{1,2} )?" + MONTHS + r"|between \d{1,2} and \d{1,2} " + MONTHS + r")\b", re.I)
DATELINE = re.compile(r"^\s*(?:\(|—|–|-|,|:)")
# K3.4: a weapon or platform is a perpetrator only when the span names the party ("Russian missile", not "a drone")
WEAPON = re.compile(r"\b(?:drones?|shells?|missiles?|rockets?|mortars?|bombs?|explosives?|IEDs?|device|jets?|planes?|aircraft|artillery|tanks?|"
                    r"mines?|car|vehicle|grenades?|airstrikes?|strikes?|rounds?|shelling|fire)\b", re.I)
CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*")
# a party named in a weapon's span: "junta fighter jet", "air force jet", "enemy aircraft", "suicide car bomber" (a person)
PARTY_WORD = re.compile(r"\b(?:junta|army|military|air\s+force|navy|rebels?|militants?|enemy|government|regime|police|forces|troops|"
                        r"soldiers|units?|fighters|bombers?|gunmen|insurgents)\b", re.I)
PARTY_NAME = re.compile(r"[A-Z][a-z’'-]*(?:ian|ean|ese|ish|i|an)|[A-Z]{2,}s?")


def _past_bracket(gap: str) -> str:
    """The gap after a place's bracketed other form, which may or may not be a span: "[Gawkadal] (گاؤکدل) bridge in
    the centre of [Srinagar]", "[Oleshky] (Олешки) and [Hola Prystan]"."""
    return re.sub(r"^\s*(?:\([^()]*)?\)", "", gap)


def _chained(gap: str) -> bool:
    """The text between a place and a wider one it lies in: "Dara district, [Panjshir]", "a village in the [Naftalan]"."""
    gap = _past_bracket(gap)
    if CHAIN.match(gap):
        return True
    words = re.findall(r"[\w’'-]+", gap)
    plain = all(w.lower() in CHAIN_WORDS for w in words)
    return bool(DESCRIBED_IN.match(gap)) and not CHAIN_BREAK.search(gap) and (plain or bool(CHAIN_KIND.search(gap)))


def is_pronoun(text: str) -> bool:
    return text.lower() in PRONOUNS


@dataclass
class Context:
    """One document's spans and sentences, indexed for the rules and the features."""
    doc: Document
    spans: list[Span] = field(init=False)
    sents: list[Sentence] = field(init=False)
    sent_of: dict[Span, int] = field(init=False)

    def __post_init__(self) -> None:
        self.spans = sorted(self.doc.spans)
        self.sents = sentences(self.doc.text)
        self.sent_of = {s: sentence_index(self.sents, s.start) for s in self.spans}

    def in_sentence(self, k: int, label: str) -> list[Span]:
        return [s for s in self.spans if s.label == label and self.sent_of[s] == k]

    def sentence_text(self, k: int) -> str:
        return self.doc.text[self.sents[k].start:self.sents[k].end] if self.sents else ""

    def paragraph(self, span: Span) -> int:
        return self.sents[self.sent_of[span]].paragraph if self.sents else 0

    def between(self, a: Span, b: Span) -> str:
        lo, hi = (a, b) if a.start < b.start else (b, a)
        return self.doc.text[lo.end:hi.start]

    @cached_property
    def datelines(self) -> list[Span]:
        """LOCATION spans that open a line and are followed by a dateline mark ("KABUL (Aug 26) —")."""
        out = []
        for s in self.spans:
            if s.label != "LOCATION":
                continue
            line_start = self.doc.text.rfind("\n", 0, s.start) + 1
            if self.doc.text[line_start:s.start].strip(" *_#0123456789.") == "" and DATELINE.match(self.doc.text[s.end:s.end + 3] or "x"):
                out.append(s)
        return out

    def weapon_only(self, span: Span) -> bool:
        """A weapon or platform that names no party (K3.4): "a drone", "Explosive drones", "car packed with explosives"; not
        "Russian missile", "Israeli jets" (a capitalised word other than the sentence's first, or a demonym or acronym there),
        "junta fighter jet" (a party noun) or "suicide car bomber" (a person)."""
        text = span.text_in(self.doc.text)
        if not WEAPON.search(text) or PARTY_WORD.search(text):
            return False
        first = self.sents[self.sent_of[span]].start if self.sents else 0
        # a capitalised word names the party unless it is only the sentence's first word; a demonym or an acronym
        # names it there too ("Ethiopian jets bombed ...", "PKK roadside bombs")
        return all(span.start + m.start() == first and not PARTY_NAME.fullmatch(m.group()) for m in CAPITALISED.finditer(text))

    @cached_property
    def places(self) -> list[Span]:
        return [s for s in self.spans if s.label == "LOCATION"]

    def harm_sentence(self, k: int) -> bool:
        """Whether sentence ``k`` tells of harm (``HARM``)."""
        return self._harm_sentences[k]

    @cached_property
    def _harm_sentences(self) -> list[bool]:
        return [bool(HARM.search(self.sentence_text(k))) for k in range(len(self.sents))]

    @cached_property
    def syntax(self):
        from conflict_spans.records.syntax import Syntax

        return Syntax(self.doc.text)

    @cached_property
    def counts(self) -> dict[Span, object]:
        return {s: normalise(s.text_in(self.doc.text)) for s in self.spans if s.label == "CASUALTY"}

    def is_speaker_place(self, span: Span) -> bool:
        """"officials in [Hatay] said": a place right after an ATTRIBUTION span, joined by in/at/from; or a place that its
        speaker's saying verb follows ("a police spokesman in [Zamfara] confirmed"), unless the speakers are the people
        of the place or its doctors ("residents of [Zamalka] said")."""
        if SAID_AFTER.match(self.doc.text[span.end:span.end + 30]) and not LOCAL_SPEAKER.search(self.doc.text[max(0, span.start - 40):span.start]):
            return True
        before = [s for s in self.spans if s.end <= span.start and s.end >= span.start - 40]
        return bool(before) and before[-1].label == "ATTRIBUTION" and bool(SPEAKER_PLACE.match(self.between(before[-1], span)))

    def is_harm_place(self, span: Span) -> bool:
        """Not a speaker's place, a hospital, a destination, an origin or a base (K2.4, K2.5); nor a place listed
        with one ("flown to [Jagdalpur] and [Raipur]", "cadets from [Ecuador] and [Panama]")."""
        return self._harm_place.get(span, True)

    @cached_property
    def _harm_place(self) -> dict[Span, bool]:
        out: dict[Span, bool] = {}
        previous: Span | None = None
        for span in self.places:
            before = self.doc.text[max(0, span.start - 40):span.start]
            after = self.doc.text[span.end:span.end + 12]
            harm = not (self.is_speaker_place(span) or TREATMENT_PLACE.search(span.text_in(self.doc.text)) or NOT_HARM_PLACE.search(before)
                        or NOT_HARM_AFTER.match(after) or TREATED_IN.search(self.doc.text[max(0, span.start - 80):span.start])
                        or TREATED_AFTER.match(self.doc.text[span.end:span.end + 30]))
            if harm and previous is not None and not out[previous] and COORDINATED.match(self.between(previous, span)):
                harm = False
            out[span] = harm
            previous = span
        return out

    def place_group(self, cands: list[Span], seed: Span) -> list[Span]:
        """``seed`` with the places listed beside it ("Benue, Plateau and Nasarawa", "Komanda–Luna") and
        their bracketed forms, but not the wider places of a chain ("Dara district, Panjshir")."""
        ordered = sorted(cands)
        i = ordered.index(seed)
        # "at Badarjhula in the Madi valley of southern Chitwan", "Dara district, Panjshir": the most specific comes first
        while i > 0 and not (i + 1 < len(ordered) and COORDINATED.match(self.between(ordered[i], ordered[i + 1]))):
            if _chained(self.between(ordered[i - 1], ordered[i])):
                i -= 1
            # "[Finote Selam], a market town in [Ethiopia]'s [Amhara] region": past the possessive to the narrower place
            elif (i > 1 and POSSESSIVE_CHAIN.match(self.between(ordered[i - 1], ordered[i]))
                  and _chained(self.between(ordered[i - 2], ordered[i - 1]))):
                i -= 2
            else:
                break
        # "Bamenda's Mile 90 neighbourhood": the place after a possessive lies inside it
        while i + 1 < len(ordered) and POSSESSIVE_CHAIN.match(self.between(ordered[i], ordered[i + 1])):
            i += 1
        # a list read from its first place: "around [Djaiba] and [Fataki]" for either
        while i > 0 and self._listed_next(ordered, i - 1):
            i -= 1
        seed = ordered[i]
        group = [seed]
        j = i
        while j + 1 < len(ordered) and self._listed_next(ordered, j):
            j += 1
            group.append(ordered[j])
        out = []
        for span in group:
            out += self.with_short_form(span)
        return sorted(set(out))

    def _listed_next(self, ordered: list[Span], j: int) -> bool:
        """Whether the place after ``ordered[j]`` is listed with it: "Benue, Plateau and Nasarawa", "Komanda–Luna",
        "the village of Bomaru and a border post near Koindu", "Oleshky (Олешки) and Hola Prystan" (past the bracketed form)."""
        gap = _past_bracket(self.between(ordered[j], ordered[j + 1]))
        if COORDINATED.match(gap) or LISTED_SITE.match(gap) or ordered[j + 1] in self.with_short_form(ordered[j]):
            return True
        # "A, B and C": a comma counts when a coordinated gap follows within the next three places
        return gap.strip() == "," and any(COORDINATED.match(g) and g.strip() != ","
                                          for g in (self.between(ordered[m], ordered[m + 1]) for m in range(j + 1, min(len(ordered) - 1, j + 4))))

    def with_short_form(self, span: Span) -> list[Span]:
        """The span and its bracketed other form ("Oleshky (Олешки)"), which K6.2 links together."""
        i = self.spans.index(span)
        out = [span]
        for j in (i - 1, i + 1):
            if 0 <= j < len(self.spans) and self.spans[j].label == span.label:
                a, b = sorted((span, self.spans[j]))
                if re.fullmatch(r"\s*\(\s*", self.between(a, b)) and self.doc.text[b.end:b.end + 1] == ")":
                    out.append(self.spans[j])
        return sorted(out)

    @cached_property
    def mentions(self) -> Counter:
        """How often each (label, lower-cased text) is a span of the document."""
        return Counter((s.label, s.text_in(self.doc.text).lower()) for s in self.spans)

    @cached_property
    def first_harm_place(self) -> Span | None:
        return next((s for s in self.places if self.is_harm_place(s)), None)

    @cached_property
    def previous_figure(self) -> dict[Span, Span | None]:
        """Each CASUALTY span's previous CASUALTY span in the text."""
        figures = [s for s in self.spans if s.label == "CASUALTY"]
        return dict(zip(figures, [None, *figures[:-1]]))

    def main_place(self, places: list[Span]) -> Span:
        """The place a sentence tells of: its first place after the dateline ("Yelwata, a settlement in ... Benue State")."""
        body = [s for s in places if s not in self.datelines]
        return (body or places)[0]

    def dateline_for(self, span: Span) -> Span | None:
        before = [d for d in self.datelines if d.start < span.start]
        return before[-1] if before else None


def _group(spans: list[Span], seed: Span, ctx: Context) -> list[Span]:
    """``seed`` and the spans joined to it by "and", commas or brackets."""
    ordered = sorted(spans)
    i = ordered.index(seed)
    group = [seed]
    for step in (-1, 1):
        j = i
        while 0 <= j + step < len(ordered) and JOINER.match(ctx.between(ordered[j], ordered[j + step]) or ","):
            j += step
            group.append(ordered[j])
    return sorted(group)


def _nearest(cands: list[Span], head: Span) -> Span:
    return min(cands, key=lambda s: (abs((s.start + s.end) - (head.start + head.end)), s.start))


class RuleLinker:
    """``link(doc)`` returns the document's relations by the rules above (the document's own are ignored)."""

    name = "rule"

    def link(self, doc: Document) -> list[Relation]:
        ctx = Context(doc)
        out: list[Relation] = []
        firsts: dict[Span, Span] = {}
        placed: dict[Span, list[Span]] = {}
        for head in [s for s in ctx.spans if s.label == "CASUALTY"]:
            out += [Relation(head, t, "source") for t in self.sources(ctx, head)]
            places = self.locations(ctx, head, placed)
            out += [Relation(head, t, "location") for t in places]
            out += [Relation(head, t, "perpetrator") for t in self.perpetrators(ctx, head)]
            total = self.total(ctx, head)
            first = None if total is not None else self.first_mention(ctx, head, firsts)
            firsts[head] = first if first is not None else head
            target = firsts.get(total, total) if total is not None else first
            if target is not None:
                out.append(Relation(head, target, "part_of" if total is not None else GROUPING_RELATION))
                if not ctx.in_sentence(ctx.sent_of[head], "LOCATION"):  # a sub-count or restatement happened where its figure did
                    out = [r for r in out if not (r.head == head and r.type == "location")]
                    out += [Relation(head, r.tail, "location") for r in out if r.head == target and r.type == "location"]
            placed[head] = sorted(r.tail for r in out if r.head == head and r.type == "location")
        return out

    def sources(self, ctx: Context, head: Span) -> list[Span]:
        k = ctx.sent_of[head]
        cands = ctx.in_sentence(k, "ATTRIBUTION")
        if not cands:
            if k > 0 and SAYING.search(ctx.sentence_text(k)) and ctx.sents[k - 1].paragraph == ctx.sents[k].paragraph:
                prev = ctx.in_sentence(k - 1, "ATTRIBUTION")
                return [prev[-1]] if prev else []
            return []
        group = _group(cands, _nearest(cands, head), ctx)
        if all(is_pronoun(s.text_in(ctx.doc.text)) for s in group):
            earlier = [s for s in ctx.spans if s.label == "ATTRIBUTION" and s.start < group[0].start and not is_pronoun(s.text_in(ctx.doc.text))
                       and ctx.sent_of[s] >= k - 1]
            if earlier:
                group = sorted(group + [earlier[-1]])
        return group

    def locations(self, ctx: Context, head: Span, placed: dict[Span, list[Span]] | None = None) -> list[Span]:
        k = ctx.sent_of[head]
        cands = [s for s in ctx.in_sentence(k, "LOCATION") if ctx.is_harm_place(s)]
        body = [s for s in cands if s not in ctx.datelines] or cands  # "QUETTA — ... in Balochistan": the body's place
        if body:
            # the place the harm hangs from ("killed ... in [Kharkiv]"), nearest in the parse; else the nearest in the text
            attached = [(ctx.syntax.path_length(head, s) or 99, s.start, s) for s in body if ctx.syntax.attached(head, s)]
            return ctx.place_group(cands, min(attached)[2] if attached else _nearest(body, head))
        if CUMULATIVE.search(ctx.sentence_text(k)):
            return []  # K7.5: a toll over the whole war or country takes no carried place
        if k > 0 and ctx.sents[k - 1].paragraph == ctx.sents[k].paragraph:
            prev = [s for s in ctx.in_sentence(k - 1, "LOCATION") if ctx.is_harm_place(s)]
            if prev:  # a place of harm in the previous sentence of the paragraph
                return ctx.place_group(prev, ctx.main_place(prev))
        # K7.1-K7.3: walking back, the places of the latest figure since the last place named, else that place
        for j in range(k - 1, -1, -1):
            figures = [h for h in placed or {} if ctx.sent_of[h] >= j and h.start < head.start and placed[h]]
            if figures:
                return placed[figures[-1]]
            earlier = [s for s in ctx.in_sentence(j, "LOCATION") if ctx.is_harm_place(s)]
            if earlier and not (ctx.harm_sentence(j) or any(e in ctx.datelines for e in earlier)):
                continue  # a place named outside the telling of an event ("Foreign nationals are leaving Asmara")
            if earlier:
                return ctx.place_group(earlier, ctx.main_place(earlier))
        # K7.6: a figure above every place (a headline) takes the first place named after it
        later = [s for s in ctx.places if s.start >= head.end and ctx.is_harm_place(s)]
        if later:
            k2 = ctx.sent_of[later[0]]
            return ctx.place_group([s for s in later if ctx.sent_of[s] == k2], later[0])
        return []

    def perpetrators(self, ctx: Context, head: Span) -> list[Span]:
        """The agents below, less a weapon or platform that names no party (K3.4: "a [drone] killed [four]" has no link)."""
        return [s for s in self._agents(ctx, head) if not ctx.weapon_only(s)]

    def _agents(self, ctx: Context, head: Span) -> list[Span]:
        k = ctx.sent_of[head]
        text = ctx.doc.text
        parsed = [s for s in ctx.in_sentence(k, "ACTOR") if ctx.syntax.agent(head, s)]
        if parsed:  # the subject or "by" agent of the harm in the parse
            return _group([s for s in ctx.in_sentence(k, "ACTOR")], _nearest(parsed, head), ctx)
        cands = []
        for s in ctx.in_sentence(k, "ACTOR"):
            before = text[max(ctx.sents[k].start, s.start - 8):s.start]
            if re.search(r"\bof(?: the)?\s*$", before, re.I):
                continue
            gap = ctx.between(s, head)
            between = [x for x in ctx.spans if x.label == "CASUALTY" and s.end <= x.start < head.start]
            # "[Israeli tanks] pounded ..., killing [70] and wounding [200]": the harm word before the first figure counts for all
            if s.end <= head.start and ";" not in gap and HARM.search(text[s.end:between[0].start] if between else gap):
                cands.append(s)
            elif s.end <= head.start and ";" not in gap and re.search(r"\bby\s+(?:the\s+)?$", before, re.I) and HARM.search(text[max(ctx.sents[k].start, s.start - 40):s.start]):
                cands.append(s)  # "the attack carried out by [ADF terrorists] ..., which cost the lives of [eight civilians]"
            elif s.start >= head.end and re.search(r"\bby\s+(?:the\s+)?$", text[head.end:s.start], re.I) and HARM.search(text[head.end:s.start]):
                cands.append(s)
        if not cands and k > 0 and ctx.sents[k - 1].paragraph == ctx.sents[k].paragraph:
            # the agent of the attack told in the previous sentence: "[RSF gunmen] went from shelter to shelter ..."
            cands = [s for s in ctx.in_sentence(k - 1, "ACTOR")
                     if HARM.search(text[s.end:s.end + 60]) and not re.search(r"\bof(?: the)?\s*$", text[max(0, s.start - 8):s.start], re.I)]
            return _group(cands, cands[0], ctx) if cands else []
        if not cands:
            return []
        return _group(cands, _nearest(cands, head), ctx)

    def total(self, ctx: Context, head: Span) -> Span | None:
        k = ctx.sent_of[head]
        text = ctx.doc.text
        earlier = [s for s in ctx.in_sentence(k, "CASUALTY") if s.end <= head.start and s.status == head.status]
        after = text[head.end:ctx.sents[k].end]
        cue_after = SUBCOUNT_AFTER.match(after)
        if earlier:
            gap = ctx.between(earlier[-1], head)
            before_total = text[max(ctx.sents[k].start, earlier[-1].start - 12):earlier[-1].start]
            if (SUBCOUNT.search(gap) or OF_THE_GROUP.search(head.text_in(text)) or cue_after
                    or (TOTAL_FIRST.search(before_total) and JOINER.match(gap or ","))):
                return self._larger(ctx, earlier, head)
        if cue_after or OF_THE_GROUP.search(head.text_in(text)):
            # "Twenty-one of the victims were shot ...": a larger figure of the same status in the sentences before
            before = [s for s in ctx.spans if s.label == "CASUALTY" and s.status == head.status and ctx.sent_of[s] in (k - 1, k - 2, k - 3) and s.end <= head.start]
            if before:
                return self._larger(ctx, before, head)
        return None

    @staticmethod
    def _larger(ctx: Context, earlier: list[Span], head: Span) -> Span | None:
        """The nearest earlier figure that can hold this one: a larger count, or any when a count is unknown."""
        mine = ctx.counts[head].best
        fits = [s for s in earlier if mine is None or ctx.counts[s].best is None or ctx.counts[s].best > mine]
        return fits[-1] if fits else None

    def first_mention(self, ctx: Context, head: Span, firsts: dict[Span, Span]) -> Span | None:
        mine = ctx.counts[head]
        if mine.best is None:
            return None
        words = head.text_in(ctx.doc.text).lower()
        for earlier in [s for s in ctx.spans if s.label == "CASUALTY" and s.end <= head.start]:
            theirs = ctx.counts[earlier]
            if (earlier.status == head.status and theirs.best == mine.best and (mine.best >= 2 or earlier.text_in(ctx.doc.text).lower() == words)
                    and same_victims(earlier.text_in(ctx.doc.text), words)):
                return firsts.get(earlier, earlier)
        return None


GENERIC_VICTIMS = frozenset({"people", "persons", "person", "dead", "killed", "injured", "wounded", "others", "victims", "casualties",
                             "deaths", "bodies", "hurt", "more", "lives"})


def same_victims(a: str, b: str) -> bool:
    """Two figures can be one only if their victim nouns agree ("ten attackers" is not "ten soldiers");
    a generic noun ("people", "dead") or a bare number agrees with anything."""
    nouns = []
    for text in (a, b):
        last = text.lower().split()[-1] if text.split() else ""
        nouns.append(last if last.isalpha() and last not in GENERIC_VICTIMS and normalise(last).best is None else None)
    return None in nouns or nouns[0] == nouns[1] or nouns[0].rstrip("s") == nouns[1].rstrip("s")


def allowed_tails(ctx: Context, head: Span, type_: str) -> list[Span]:
    """Every span a link of ``type_`` from ``head`` may end at (labels of the schema; ``restates`` earlier only)."""
    kind = RELATION_BY_NAME[type_]
    return [s for s in ctx.spans if s.label == kind.tail and s != head and (not kind.ordered or s.end <= head.start)]
