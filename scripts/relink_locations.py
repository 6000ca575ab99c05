"""Re-annotate the ``location`` links of corpus documents under a ruling, blind to the links they have.

Two steps, so that the annotators never see a corpus file, an existing link or any model output:

    python scripts/relink_locations.py worksheets --ids IDS.txt OUT_DIR
        one worksheet per document: the text with every span numbered inline, then the
        CASUALTY figures to place; no link of any kind is shown.

    python scripts/relink_locations.py apply ANSWERS_DIR [--ids IDS.txt] [--check]
        replaces the ``location`` links of those documents in corpus/src with the answers
        (every other link is kept); --check only validates the answers.

    python scripts/relink_locations.py follow-k74 ANSWERS_DIR OUT_DIR
        adjudication of K7.4 by its letter: a figure that restates another or is part of a total (by the
        document's gold restates/part_of links) and has no place linked in its own sentence takes the
        places of that figure; writes the adjudicated answers and lists every change.

    python scripts/relink_locations.py compare FIRST_DIR SECOND_DIR [--json OUT.json]
        location-link agreement of two answer folders on the documents both answered:
        P read from FIRST, R from SECOND, F1; and the share of figures given the same set of places.

An answer file ``<id>.txt`` has one line per CASUALTY figure of the worksheet: ``HEAD location TAIL``
(one line per place when a figure has several) or ``HEAD none``; ``#`` starts a comment.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from conflict_spans.corpus.markup import document_to_markup, read_markup_file
from conflict_spans.document import Document, Relation
from conflict_spans.records.linker import Context
from conflict_spans.records.scoring import prf

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "corpus" / "src"
COMPARE_COMMAND = ("python scripts/relink_locations.py compare corpus/iaa/links/k7/answers corpus/iaa/links/k7/answers-second "
                   "--json corpus/iaa/links/k7/agreement.json --markdown corpus/iaa/links/k7/AGREEMENT.md")
ANSWER = re.compile(r"^\s*(\d+)\s+(?:location\s+(\d+)|none)\s*(?:#.*)?$")


def source_files() -> dict[str, Path]:
    return {p.stem: p for p in SRC.rglob("*.txt")}


def read_ids(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.split("#")[0].strip()]


def worksheet(doc: Document) -> str:
    spans = sorted(doc.spans)
    parts, cursor = [], 0
    for i, span in enumerate(spans):
        parts.append(doc.text[cursor:span.start])
        code = span.label if span.label != "CASUALTY" else f"CASUALTY:{span.status}"
        parts.append(f"[{doc.text[span.start:span.end]}]{{{i} {code}}}")
        cursor = span.end
    parts.append(doc.text[cursor:])
    figures = [f"{i}  \"{doc.text[s.start:s.end]}\" ({s.status})" for i, s in enumerate(spans) if s.label == "CASUALTY"]
    places = [f"{i}  \"{doc.text[s.start:s.end]}\"" for i, s in enumerate(spans) if s.label == "LOCATION"]
    return (f"# worksheet {doc.id}\n\n## Text (every span is [text]{{NUMBER LABEL}})\n\n" + "".join(parts)
            + "\n\n## CASUALTY figures to place (write one answer line for each)\n\n" + "\n".join(figures)
            + "\n\n## LOCATION spans\n\n" + ("\n".join(places) or "(none)") + "\n")


def parse_answers(path: Path, doc: Document) -> list[Relation]:
    spans = sorted(doc.spans)
    heads = {i for i, s in enumerate(spans) if s.label == "CASUALTY"}
    seen: set[int] = set()
    out: list[Relation] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.split("#")[0].strip():
            continue
        m = ANSWER.match(line)
        if m is None:
            sys.exit(f"{path}:{n}: {line!r} is not 'HEAD location TAIL' or 'HEAD none'; fix the line")
        head = int(m[1])
        if head not in heads:
            sys.exit(f"{path}:{n}: span {head} is not a CASUALTY figure of {doc.id}; use a number from the worksheet's figure list")
        seen.add(head)
        if m[2] is not None:
            tail = int(m[2])
            if tail >= len(spans) or spans[tail].label != "LOCATION":
                sys.exit(f"{path}:{n}: span {tail} is not a LOCATION span of {doc.id}; use a number from the worksheet's LOCATION list")
            out.append(Relation(spans[head], spans[tail], "location"))
    if missing := sorted(heads - seen):
        sys.exit(f"{path}: no answer for figure(s) {missing} of {doc.id}; add 'N location M' or 'N none' for each")
    return sorted(set(out))


def follow_k74(answers: Path, out: Path, files: dict[str, Path]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    changes = 0
    for path in sorted(answers.glob("*.txt")):
        doc = read_markup_file(files[path.stem])
        spans = sorted(doc.spans)
        index = {span: i for i, span in enumerate(spans)}
        sent = Context(doc).sent_of
        places: dict[int, list[int]] = {}
        for rel in parse_answers(path, doc):
            places.setdefault(index[rel.head], []).append(index[rel.tail])
        target = {index[r.head]: index[r.tail] for r in doc.relations if r.type in ("restates", "part_of")}
        lines = []
        for i, span in enumerate(spans):
            if span.label != "CASUALTY":
                continue
            own = [t for t in places.get(i, []) if sent[spans[t]] == sent[span]]
            if i in target and not own and sorted(places.get(target[i], [])) != sorted(places.get(i, [])):
                before = places.get(i, [])
                places[i] = list(places.get(target[i], []))
                changes += 1
                print(f"{path.stem} {i} {doc.text[span.start:span.end]!r}: {[doc.text[spans[t].start:spans[t].end] for t in before]} -> "
                      f"{[doc.text[spans[t].start:spans[t].end] for t in places[i]]} (as figure {target[i]})")
            quote = doc.text[span.start:span.end]
            lines += [f"{i} location {t}  # \"{quote}\" -> \"{doc.text[spans[t].start:spans[t].end]}\"" for t in sorted(places.get(i, []))] or [f"{i} none  # \"{quote}\""]
        (out / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{changes} figures changed")
    return 0


def agreement_markdown(result: dict, command: str) -> str:
    r = result
    return "\n".join([
        "# Location-link agreement under K7", "",
        f"Made with `{command}`. Both sides linked the same given spans; P is read from the first pass, R from the second.", "",
        "| documents | figures | links (first / second) | in both | P | R | F1 | figures given the same places |",
        "|---|---|---|---|---|---|---|---|",
        f"| {r['documents']} | {r['figures']} | {r['links_first']} / {r['links_second']} | {r['both']} | {r['precision']:.3f} | "
        f"{r['recall']:.3f} | {r['f1']:.3f} | {r['figures_same_places']} |", ""])


def compare(first: Path, second: Path, files: dict[str, Path], out: Path | None, markdown: Path | None = None) -> int:
    ids = sorted({p.stem for p in first.glob("*.txt")} & {p.stem for p in second.glob("*.txt")})
    tp = n_first = n_second = same_sets = figures = 0
    per_doc = {}
    for doc_id in ids:
        doc = read_markup_file(files[doc_id])
        a = {(r.head, r.tail) for r in parse_answers(first / f"{doc_id}.txt", doc)}
        b = {(r.head, r.tail) for r in parse_answers(second / f"{doc_id}.txt", doc)}
        heads = [s for s in doc.spans if s.label == "CASUALTY"]
        same = sum({t for h, t in a if h == head} == {t for h, t in b if h == head} for head in heads)
        tp, n_first, n_second = tp + len(a & b), n_first + len(a), n_second + len(b)
        same_sets, figures = same_sets + same, figures + len(heads)
        per_doc[doc_id] = {"first": len(a), "second": len(b), "both": len(a & b), "figures": len(heads), "same_places": same}
    score = prf(tp, n_first, n_second)  # P read from the first pass, R from the second
    result = {"documents": len(ids), "links_first": n_first, "links_second": n_second, "both": tp, "precision": round(score["precision"], 3),
              "recall": round(score["recall"], 3), "f1": round(score["f1"], 3), "figures": figures,
              "figures_same_places": same_sets, "per_document": per_doc}
    print(json.dumps({k: v for k, v in result.items() if k != "per_document"}))
    if out is not None:
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if markdown is not None:
        markdown.write_text(agreement_markdown(result, COMPARE_COMMAND), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worksheets")
    w.add_argument("--ids", type=Path, required=True)
    w.add_argument("out", type=Path)
    a = sub.add_parser("apply")
    a.add_argument("answers", type=Path)
    a.add_argument("--ids", type=Path)
    a.add_argument("--check", action="store_true")
    f = sub.add_parser("follow-k74")
    f.add_argument("answers", type=Path)
    f.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("first", type=Path)
    c.add_argument("second", type=Path)
    c.add_argument("--json", type=Path)
    c.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    files = source_files()
    if args.cmd == "worksheets":
        args.out.mkdir(parents=True, exist_ok=True)
        for doc_id in read_ids(args.ids):
            (args.out / f"{doc_id}.txt").write_text(worksheet(read_markup_file(files[doc_id])), encoding="utf-8")
        return 0
    if args.cmd == "follow-k74":
        return follow_k74(args.answers, args.out, files)
    if args.cmd == "compare":
        return compare(args.first, args.second, files, args.json, args.markdown)
    ids = read_ids(args.ids) if args.ids else sorted(p.stem for p in args.answers.glob("*.txt"))
    updated: dict[Path, str] = {}
    changed = 0
    for doc_id in ids:
        doc = read_markup_file(files[doc_id])
        new = parse_answers(args.answers / f"{doc_id}.txt", doc)
        old = sorted(r for r in doc.relations if r.type == "location")
        changed += old != new
        doc.relations = sorted([r for r in doc.relations if r.type != "location"] + new)
        updated[files[doc_id]] = document_to_markup(doc)
    print(f"{len(ids)} documents read, {changed} with changed location links")
    if not args.check:
        for path, text in updated.items():  # every answer parsed before any file is written
            path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
