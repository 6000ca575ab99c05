"""Spec rules and project rulings that code can test beyond ``validate``, one document at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conflict_spans.corpus.audit.findings import Finding, Words, context_of, covered, inside_any, sentence_bounds, sentence_of
from conflict_spans.document import Document, Span

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
        self.ranges = covered(doc.spans)
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
        if prev in DIRECTIONS and sp.first > 0 and not inside_any(*words.offsets[sp.first - 1], self.ranges) \
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
            if not inside_any(s, e, self.ranges):
                self.add("weapon-agent-unlabelled", f"{self.text[s:e]!r} is the agent of {m.group().split()[-1]!r}: ACTOR (A3, R2)", start=s, end=e)

    def check_negated_mentions(self) -> None:
        """B3: "No [group] has claimed" refers to no party."""
        for span in self.doc.spans:
            if span.label in ("ACTOR", "ATTRIBUTION") and NEGATION_BEFORE.search(self._before(span, 12)):
                self.add("negated-mention", "a negated mention refers to no party: no span (B3)", span)

    def check_unlabelled_group_parties(self) -> None:
        """B4: "armed groups" is a descriptive mention of parties (A1)."""
        for m in GROUP_PARTY.finditer(self.text):
            if not inside_any(m.start(), m.end(), self.ranges) and not NEGATION_BEFORE.search(self.text[max(0, m.start() - 12):m.start()]):
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
            if not inside_any(s, e, self.ranges):
                self.add("weapon-agent-unlabelled", f"{self.text[s:e]!r} is the 'by'-agent of a harm verb: ACTOR (A3, R2, W7)", start=s, end=e)

    def check_unlabelled_withheld_sayers(self) -> None:
        """R3: the plain subject of "declined to comment", "did not respond" ..."""
        words = self.words
        for m in WITHHELD_ANYWHERE.finditer(self.text):
            i = words.index_at_start.get(m.start())
            if i is None or i == 0:
                continue
            s, e = words.offsets[i - 1]
            if words.word(i - 1)[:1].isalpha() and not inside_any(s, e, self.ranges) \
                    and words.lower_at(i - 1) not in ("and", "but", "or", "who", "which", "that"):
                self.add("withheld-saying", "plain subject of a withheld saying verb: its source is ATTRIBUTION (R3, 9.2)", start=s, end=e)


def rule_findings(doc: Document) -> list[Finding]:
    """Spec rules and rulings that code can test beyond ``validate``, for one document."""
    return _DocumentChecks(doc).run()
