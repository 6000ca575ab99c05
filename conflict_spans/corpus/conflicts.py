"""The conflicts of the bundled corpus: data in corpus/conflicts.json (shipped in the wheel), not code.

A user's own files may carry any conflict code; ``validate`` warns about an
unknown one there, and holds the bundled corpus to this list strictly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from conflict_spans.paths import CONFLICTS_FILE, CORPUS_DIR


@dataclass(frozen=True)
class Conflict:
    code: str
    name: str
    first_year: int
    last_year: int


@cache
def load_conflicts(path: Path = CONFLICTS_FILE) -> dict[str, Conflict]:
    """code -> Conflict, in file order; an absent file is an empty list."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {c["code"]: Conflict(c["code"], c["name"], int(c["years"][0]), int(c["years"][1])) for c in data["conflicts"]}


def is_bundled(path: str | Path) -> bool:
    """Whether a file belongs to the bundled corpus (and is held to its conflict list)."""
    try:
        return Path(path).resolve().is_relative_to(CORPUS_DIR.resolve())
    except OSError:
        return False
