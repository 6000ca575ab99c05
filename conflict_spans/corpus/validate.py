"""``conflict-spans validate``: every rule that code can check, with actionable messages."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from conflict_spans.corpus.conflicts import CONFLICTS_FILE, is_bundled, load_conflicts
from conflict_spans.corpus.duplicates import find_near_duplicates
from conflict_spans.corpus.io import collect, duplicate_ids
from conflict_spans.corpus.same_story import find_same_stories
from conflict_spans.corpus.splits import group_of
from conflict_spans.document import Document, check_relations, check_schema, check_spans
from conflict_spans.problems import Problem
from conflict_spans.schema import GENRES

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_meta(doc: Document, path: str, line: int | None) -> list[Problem]:
    """Corpus metadata, checked where present (user JSONL may carry none)."""
    where = {"path": path, "line": line, "record": doc.id}
    problems = []
    meta = doc.meta
    bundled = is_bundled(path)
    # the bundled corpus keeps to its own lists; a user's file may use its own codes
    severity = "error" if bundled else "warning"
    conflicts = load_conflicts()
    if "conflict" in meta and meta["conflict"] not in conflicts:
        fix = (f"use one of the codes in {CONFLICTS_FILE.name}, or add the conflict there first" if bundled
               else "nothing to do for your own data; the bundled corpus uses the codes in corpus/conflicts.json")
        problems.append(Problem("meta", "unknown conflict code", fix, value=str(meta["conflict"]), severity=severity, **where))
    if "genre" in meta and meta["genre"] not in GENRES:
        problems.append(Problem("meta", "unknown genre", f"use one of {', '.join(GENRES)}", value=str(meta["genre"]), severity=severity, **where))
    if meta.get("date") and not _DATE.match(str(meta["date"])):
        problems.append(Problem("meta", "date must be YYYY-MM-DD", "write the event date as YYYY-MM-DD or leave it out", value=str(meta["date"]), **where))
    if path.endswith(".txt"):
        stem = Path(path).stem
        if stem != doc.id:
            problems.append(Problem("id", f"id does not match the file name {stem!r}", "name the file <id>.txt", value=doc.id, **where))
        for key in ("conflict", "country", "genre"):
            if not meta.get(key):
                problems.append(Problem("meta", f"source file has no {key!r} in its header", f"add '{key}: ...' (annotation/AUTHORING.md)", severity=severity, **where))
    if not doc.text.strip():
        problems.append(Problem("text", "text is empty", "remove the record or give it text", **where))
    return problems


def relation_schema_problems(doc: Document, path: str, line: int | None) -> list[Problem]:
    """Unknown relation types, self links and labels the type does not allow: the schema part of ``check_schema``
    that ``check_spans`` does not cover (``check_relations`` leaves these to it)."""
    return [p for p in check_schema(doc, path=path, line=line) if p.code.startswith("relation")]


def collections(paths: list[Path]) -> list[list[Path]]:
    """Group the arguments into collections checked for duplicates among themselves.

    Each folder is a collection, and all files named directly form one (so
    ``validate train.jsonl test.jsonl`` compares the splits). A corpus root
    (holding src/ and data/) stands for src, data and each annotation pass under
    iaa/ (every folder named first/ or second/, e.g. iaa/blind/second/).
    """
    out: list[list[Path]] = []
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and (path / "src").is_dir() and (path / "data").is_dir():
            out += [[path / "src"], [path / "data"]]
            iaa = path / "iaa"
            if iaa.is_dir():
                out += [[p] for p in sorted(iaa.rglob("*")) if p.is_dir() and p.name in ("first", "second")]
        elif path.is_dir():
            out.append([path])
        else:
            files.append(path)
    if files:
        out.append(files)
    return out


def validate_paths(paths: list[Path], split_of_file: dict[str, str] | None = None) -> tuple[list[Problem], int]:
    """Validate documents; ids and near-duplicates are checked within each collection.

    The same story annotated twice (``corpus/src`` and ``corpus/iaa/second``) or
    stored twice (``corpus/src`` and ``corpus/data``) is not a duplicate.
    """
    problems: list[Problem] = []
    total = 0
    for group in collections(paths):
        docs = []
        for path in group:
            found, parse_problems = collect(path)
            problems += parse_problems
            docs += found
        total += len(docs)
        for file, line, doc in docs:
            problems += check_spans(doc, path=file, line=line) + relation_schema_problems(doc, file, line)
            problems += check_relations(doc, path=file, line=line)
            problems += check_meta(doc, file, line)
        problems += _cross_document_checks(docs, split_of_file)
    problems.sort(key=lambda p: (p.path is None, p.path or "", p.line or 0))
    return problems, total


def _cross_document_checks(docs: list[tuple[str, int | None, Document]], split_of_file: dict[str, str] | None) -> list[Problem]:
    problems: list[Problem] = duplicate_ids(docs)
    unique = {doc.id: (path, line, doc) for path, line, doc in docs}
    groups = {doc_id: group_of(doc) for doc_id, (_, _, doc) in unique.items()}
    split_of = {doc_id: _split_for(path, split_of_file) or _bundled_source_split(path, groups[doc_id]) for doc_id, (path, _, _) in unique.items()}
    for dup in find_near_duplicates({doc_id: doc.text for doc_id, (_, _, doc) in unique.items()}):
        across = split_of[dup.a] and split_of[dup.b] and split_of[dup.a] != split_of[dup.b]
        kind = "across splits " if across else ""
        same_story = groups[dup.a] == groups[dup.b]
        # one story group always lands in one split, so only an exact copy is an error there
        severity = "warning" if same_story and dup.overlap < 1.0 else "error"
        problems.append(Problem(
            "near-duplicate",
            f"texts of {dup.a!r} and {dup.b!r} are {'identical' if dup.overlap == 1.0 else 'near-duplicates'} {kind}({dup.overlap:.0%} of word 5-grams shared)",
            "rewrite one of them in its own words or remove it" + ("" if same_story else "; if they are one story, give them the same group"),
            path=unique[dup.a][0], line=unique[dup.a][1], record=dup.a, value=dup.b, severity=severity,
        ))
    near = {frozenset((p.record, p.value)) for p in problems if p.code == "near-duplicate"}
    problems += [p for p in _same_story_problems(unique, split_of, groups) if frozenset((p.record, p.value)) not in near]
    return problems


def _same_story_problems(unique: dict[str, tuple[str, int | None, Document]], split_of: dict[str, str | None],
                         groups: dict[str, str]) -> list[Problem]:
    """One story in two documents of different story groups: an error across splits, else a warning."""
    problems = []
    for pair in find_same_stories(doc for _, _, doc in unique.values()):
        if groups[pair.a] == groups[pair.b] or (split_of[pair.a] and split_of[pair.a] == split_of[pair.b]):
            continue  # one split: the model never meets one half as training and the other as test
        across = split_of[pair.a] and split_of[pair.b] and split_of[pair.a] != split_of[pair.b]
        shared = ", ".join(f.split(":", 1)[1] for f in pair.shared)
        where = f"in {split_of[pair.a]} and {split_of[pair.b]} " if across else ""
        problems.append(Problem(
            "same-story",
            f"{pair.a!r} and {pair.b!r} look like one story {where}(fact overlap {pair.score:.2f}, {pair.figures} rare counted figures "
            f"and {pair.phrases} 8-word phrases in common; shared: {shared})",
            "rewrite one of them as a different event, or give both the same group so that they share a split",
            path=unique[pair.a][0], line=unique[pair.a][1], record=pair.a, value=pair.b,
            severity="error" if across else "warning",
        ))
    return problems


def _bundled_source_split(path: str, group: str) -> str | None:
    """The committed split of a bundled source's story group (corpus/splits.json), if it has one."""
    from conflict_spans.paths import SOURCE_DIR, SPLITS_FILE

    try:
        if not Path(path).resolve().is_relative_to(SOURCE_DIR.resolve()) or not SPLITS_FILE.is_file():
            return None
    except OSError:
        return None
    return _assignment(str(SPLITS_FILE)).get(group)


@cache
def _assignment(path: str) -> dict[str, str]:
    from conflict_spans.corpus.splits import load_assignment

    return load_assignment(Path(path))


def _split_for(path: str, split_of_file: dict[str, str] | None) -> str | None:
    if split_of_file and path in split_of_file:
        return split_of_file[path]
    stem = Path(path).stem
    return stem if stem in ("train", "validation", "test") else None
