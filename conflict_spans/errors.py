"""Every user-facing problem, in one place.

A problem names where it is (file, line, record id), the offending value, and
what to do. ``Problem`` is data (validators collect many); ``CorpusError`` is
raised when one problem must stop the program.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    fix: str
    path: str | None = None
    line: int | None = None
    record: str | None = None
    value: str | None = None
    severity: str = "error"  # "error" | "warning"

    def format(self) -> str:
        where = ":".join(str(p) for p in (self.path, self.line) if p is not None)
        parts = [f"{self.severity.upper()} [{self.code}]"]
        if where:
            parts.append(where)
        if self.record is not None:
            parts.append(f"record {self.record!r}")
        head = " ".join(parts)
        value = f" value: {self.value!r}." if self.value is not None else ""
        return f"{head}: {self.message}.{value} Fix: {self.fix}"


class CorpusError(ValueError):
    """An input error a user can act on; carries one or more problems."""

    def __init__(self, problems: Problem | list[Problem]):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


# ---- message catalogue -------------------------------------------------------
# Each function builds one kind of problem so that wording lives here only.

def unknown_label(label: str, known: tuple[str, ...], desc: str = "", **where) -> Problem:
    message = f"unknown label on span {desc}" if desc else "unknown label"
    return Problem("unknown-label", message, f"use one of {', '.join(known)} (the schema in conflict_spans/schema.py); unknown labels are never dropped", value=label, **where)


def bad_status(label: str, status, allowed: tuple[str, ...], desc: str = "", **where) -> Problem:
    desc = desc or label
    shown = None if status is None else str(status)
    if label == "CASUALTY":
        message = f"span {desc} needs a status" if status is None else f"span {desc} has an unknown status"
        return Problem("status", message, f"set status to one of {', '.join(allowed)} (spec C5)", value=shown, **where)
    return Problem("status", f"status is only allowed on CASUALTY, found on {desc}", "remove the status", value=shown, **where)


def offsets_out_of_range(start, end, length: int, desc: str = "", **where) -> Problem:
    what = f"{desc} offsets" if desc else "span offsets"
    return Problem("offsets", f"{what} [{start}, {end}) fall outside the text (length {length})", "offsets are half-open Python str indices with 0 <= start < end <= len(text)", value=f"{start}:{end}", **where)


def text_mismatch(expected: str, found: str, desc: str = "", **where) -> Problem:
    what = f"{desc} text" if desc else "span text"
    return Problem("span-text", f"{what} {found!r} disagrees with text[start:end] {expected!r}", "fix the offsets or the span's text field so that text[start:end] == span text", value=found, **where)


def overlap(a: str, b: str, **where) -> Problem:
    return Problem("overlap", f"spans overlap: {a} and {b}", "spans are flat (spec G2): keep one of them or make them adjacent", **where)
