"""Bad input to the audit and to the Label Studio bridge: every case one clear error, nothing dropped or overwritten.

The audit cases drive ``conflict-spans audit`` as a user would (the ``run_cli``
fixture); the Label Studio cases need no server: a hand-made task export goes
through ``results_to_spans`` / ``pull_documents``, and the ``ls pull`` /
``ls agreement`` commands run in-process with the client calls replaced by that
export.
"""

from __future__ import annotations

import copy
import json
import re
import stat
from pathlib import Path

import pytest

from conflict_spans.annotation.labelstudio.config import schema_names
from conflict_spans.annotation.labelstudio.results import results_to_spans, spans_to_results
from conflict_spans.annotation.labelstudio.tasks import document_to_task_data, pull_documents
from conflict_spans.corpus.audit import agreement_report, audit, prediction_findings
from conflict_spans.corpus.io import read_documents
from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError

TRACEBACK = "Traceback"


# ---- records, files and checks (as in the bad-input draft, tests/test_bad_input.py) -----------------

def record(rid: str, text: str, marks=(), meta: dict | None = None) -> dict:
    """A corpus record; marks are (surface, label[, status]) found left to right."""
    spans, cursor = [], 0
    for surface, label, *status in marks:
        start = text.index(surface, cursor)
        span = {"start": start, "end": start + len(surface), "label": label}
        if status:
            span["status"] = status[0]
        spans.append(span)
        cursor = span["end"]
    return {"id": rid, "text": text, "spans": spans, "meta": {"conflict": "nigeria", "genre": "brief"} if meta is None else meta}


CLEAN = record("clean-001", "Gunmen killed 12 villagers in Zamfara, police said.",
               [("Gunmen", "ACTOR"), ("12 villagers", "CASUALTY", "killed"), ("Zamfara", "LOCATION"), ("police", "ATTRIBUTION")])
ODESA = record("odesa-001", "A Russian drone wounded 7 people in Odesa, Governor Oleh Kiper said.",
               [("7 people", "CASUALTY", "injured"), ("Odesa", "LOCATION"), ("Governor Oleh Kiper", "ATTRIBUTION")],
               {"conflict": "ukraine", "genre": "brief"})
KHERSON = record("kherson-001", "Shelling by Russian forces killed two civilians in Kherson on Tuesday, officials said.",
                 [("Russian forces", "ACTOR"), ("two civilians", "CASUALTY", "killed"), ("Kherson", "LOCATION"), ("officials", "ATTRIBUTION")],
                 {"conflict": "ukraine", "genre": "brief"})


def write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file (bytes, mode, mtime) and folder under root."""
    out: dict[str, tuple] = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        rel = p.relative_to(root).as_posix()
        out[rel] = ("dir", stat.S_IMODE(st.st_mode)) if p.is_dir() else ("file", p.read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    return out


def assert_refused(stderr: str, returncode: int, *mentions: str) -> None:
    """Exit 1, no traceback, and stderr naming each of ``mentions`` and a fix."""
    shown = f"\n--- stderr ---\n{stderr[-3000:]}"
    assert returncode == 1, f"exit code {returncode}, expected 1{shown}"
    assert TRACEBACK not in stderr, f"traceback on stderr{shown}"
    for m in mentions:
        assert m in stderr, f"stderr does not name {m!r}{shown}"
    assert "fix" in stderr.lower(), f"the message gives no fix{shown}"


def assert_names_lines(stderr: str, *numbers: int) -> None:
    """Each line number appears as FILE:N, 'line N' or in a 'lines ... N' list."""
    for n in numbers:
        pattern = rf"(?::{n}\b|\bline\s+{n}\b|\blines\b[^\n]*?\b{n}\b)"
        assert re.search(pattern, stderr, flags=re.IGNORECASE), f"line {n} is not named:\n{stderr[-3000:]}"


def as_documents(records) -> list[Document]:
    return [Document(r["id"], r["text"], [Span(s["start"], s["end"], s["label"], s.get("status")) for s in r["spans"]], r["meta"]) for r in records]


# ==== audit --predictions ==========================================================================

def test_audit_predictions_matching_no_gold_document(run_cli, tmp_path):
    """Case 1: P's ids match no gold document -> an error naming P, some of its ids and the gold source (not "0 findings")."""
    write_jsonl(tmp_path / "gold.jsonl", [CLEAN, ODESA, KHERSON])
    write_jsonl(tmp_path / "pred.jsonl", [dict(r, id="other-" + r["id"]) for r in (CLEAN, ODESA, KHERSON)])
    before = snapshot(tmp_path)
    result = run_cli("audit", "gold.jsonl", "--predictions", "pred.jsonl", "-o", "report.md", cwd=tmp_path)
    assert_refused(result.stderr, result.returncode, "pred.jsonl", "gold.jsonl", "other-clean-001", "[predictions-unmatched]")
    assert snapshot(tmp_path) == before


def test_audit_predictions_for_documents_gold_lacks(run_cli, tmp_path):
    """Case 1: some ids match, one does not -> an error naming that prediction (file, line, id): the files do not belong together."""
    write_jsonl(tmp_path / "gold.jsonl", [CLEAN, ODESA])
    write_jsonl(tmp_path / "pred.jsonl", [CLEAN, KHERSON, ODESA])  # kherson-001 on line 2 is not in gold
    before = snapshot(tmp_path)
    result = run_cli("audit", "gold.jsonl", "--predictions", "pred.jsonl", "-o", "report.md", cwd=tmp_path)
    assert_refused(result.stderr, result.returncode, "pred.jsonl", "kherson-001", "gold.jsonl", "[prediction-not-in-gold]")
    assert_names_lines(result.stderr, 2)
    assert "clean-001" not in result.stderr and "odesa-001" not in result.stderr  # only the unmatched one is named
    assert snapshot(tmp_path) == before


def test_audit_gold_documents_without_prediction_are_named(run_cli, tmp_path):
    """Case 1, the other side: gold documents that have no prediction are listed in the report and in the summary."""
    write_jsonl(tmp_path / "gold.jsonl", [CLEAN, ODESA, KHERSON])
    write_jsonl(tmp_path / "pred.jsonl", [CLEAN])
    result = run_cli("audit", "gold.jsonl", "--predictions", "pred.jsonl", "-o", "report.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "kherson-001" in result.stdout and "odesa-001" in result.stdout  # the summary (on stdout with -o)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "kherson-001" in report and "odesa-001" in report


def test_audit_predictions_duplicate_id(run_cli, tmp_path):
    """Case 2: P with a duplicated id -> an error naming P, the id and both lines (not silently one of them)."""
    write_jsonl(tmp_path / "gold.jsonl", [CLEAN, ODESA, KHERSON])
    write_jsonl(tmp_path / "pred.jsonl", [CLEAN, ODESA, KHERSON, ODESA])  # odesa-001 on lines 2 and 4
    before = snapshot(tmp_path)
    result = run_cli("audit", "gold.jsonl", "--predictions", "pred.jsonl", "-o", "report.md", cwd=tmp_path)
    assert_refused(result.stderr, result.returncode, "pred.jsonl", "odesa-001", "[duplicate-id]")
    assert_names_lines(result.stderr, 2, 4)
    assert snapshot(tmp_path) == before


def test_audit_prediction_for_another_text_names_file_and_line(run_cli, tmp_path):
    """Case 1, a matching id with another text: the error names the prediction file and line, not only the record."""
    write_jsonl(tmp_path / "gold.jsonl", [CLEAN, ODESA])
    write_jsonl(tmp_path / "pred.jsonl", [CLEAN, dict(ODESA, text=ODESA["text"] + " More.")])
    result = run_cli("audit", "gold.jsonl", "--predictions", "pred.jsonl", cwd=tmp_path)
    assert_refused(result.stderr, result.returncode, "pred.jsonl:2", "odesa-001", "gold.jsonl", "[text-mismatch]")


def test_prediction_findings_refuse_foreign_and_duplicate_predictions():
    """Cases 1 and 2 for library callers: prediction_findings never pairs silently by a dict."""
    gold = as_documents([CLEAN, ODESA])
    with pytest.raises(CorpusError) as foreign:
        prediction_findings(gold, as_documents([CLEAN, KHERSON]))
    assert [p.code for p in foreign.value.problems] == ["prediction-not-in-gold"] and foreign.value.problems[0].record == "kherson-001"
    with pytest.raises(CorpusError) as none:
        prediction_findings(gold, as_documents([KHERSON]))
    assert [p.code for p in none.value.problems] == ["predictions-unmatched"]
    with pytest.raises(CorpusError) as dup:
        prediction_findings(gold, as_documents([CLEAN, ODESA, ODESA]))
    assert [p.code for p in dup.value.problems] == ["duplicate-id"] and dup.value.problems[0].record == "odesa-001"


def test_audit_report_never_replaces_an_input(run_cli, tmp_path):
    """Case 4: `audit -o` naming one of the inputs is refused before any work (it used to overwrite the predictions)."""
    write_jsonl(tmp_path / "gold.jsonl", [CLEAN, ODESA])
    write_jsonl(tmp_path / "pred.jsonl", [CLEAN, ODESA])
    before = snapshot(tmp_path)
    result = run_cli("audit", "gold.jsonl", "--predictions", "pred.jsonl", "-o", "pred.jsonl", cwd=tmp_path)
    assert_refused(result.stderr, result.returncode, "pred.jsonl", "[output-path]")
    assert snapshot(tmp_path) == before


def test_audit_lists_spans_it_could_not_check():
    """Case 4: a span off word edges used to be skipped by every audit check without a word; now it is listed."""
    text = "Gunmen killed 12 villagers in Zamfara."
    doc = Document("edge-001", text, [Span(0, 5, "ACTOR"), Span(30, 37, "LOCATION")], {})
    result = audit([doc])
    assert [(s["doc_id"], s["text"]) for s in result["spans_not_checked"]] == [("edge-001", "Gunme")]


# ==== audit --agreement ===========================================================================

def test_audit_agreement_with_no_document_in_common(run_cli, tmp_path):
    """Case 4: two annotations that share no document id -> an error (not "0 documents compared", exit 0)."""
    write_jsonl(tmp_path / "first.jsonl", [CLEAN, ODESA])
    write_jsonl(tmp_path / "second.jsonl", [KHERSON])
    before = snapshot(tmp_path)
    result = run_cli("audit", "first.jsonl", "--agreement", "second.jsonl", "-o", "agreement.md", cwd=tmp_path)
    assert_refused(result.stderr, result.returncode, "first.jsonl", "second.jsonl", "[agreement-unmatched]")
    assert snapshot(tmp_path) == before


def test_audit_agreement_names_documents_on_one_side_only(run_cli, tmp_path):
    """Case 4: documents of SECOND that FIRST lacks were left out without a word; now both sides' extras are named."""
    write_jsonl(tmp_path / "first.jsonl", [CLEAN, ODESA])
    write_jsonl(tmp_path / "second.jsonl", [CLEAN, KHERSON])
    result = run_cli("audit", "first.jsonl", "--agreement", "second.jsonl", "-o", "agreement.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "agreement.md").read_text(encoding="utf-8")
    assert "kherson-001" in report and "odesa-001" in report
    assert "1 document(s) only in A, 1 only in B" in result.stdout
    data = agreement_report(as_documents([CLEAN, ODESA]), as_documents([CLEAN, KHERSON]))
    assert (data["only_a"], data["only_b"], data["first_only_documents"]) == (["odesa-001"], ["kherson-001"], 1)


# ==== Label Studio: overlapping regions ============================================================

NAMES = schema_names()
TEXT = "Gunmen killed 12 people in Goma, officials said."
# one region over the whole clause, and five inside it: five overlapping pairs, none of the inner ones overlapping another
OUTER = Span(0, 47, "ACTOR")
INNER = [Span(0, 6, "ACTOR"), Span(7, 13, "ACTOR"), Span(14, 23, "CASUALTY", "killed"), Span(27, 31, "LOCATION"), Span(33, 42, "ATTRIBUTION")]
USERS = {1: "ann@example.com", 2: "bob@example.com"}


def overlapping_results() -> list[dict]:
    return spans_to_results([OUTER, *INNER], TEXT, NAMES)


def annotation(ann_id: int, user: int, results: list[dict], updated: str = "2025-01-01T10:00:00Z") -> dict:
    return {"id": ann_id, "completed_by": user, "result": results, "was_cancelled": False, "updated_at": updated, "created_at": updated}


def task(tid: int, doc_id: str, annotations) -> dict:
    data = document_to_task_data(Document(doc_id, TEXT, [], {"conflict": "drc"}), NAMES)
    return {"id": tid, "data": data, "annotations": list(annotations), "drafts": [], "predictions": []}


def overlap_pairs(problems) -> set[tuple[str, str]]:
    return {tuple(p.value.split(" / ")) for p in problems if p.code == "overlap"}


def test_results_to_spans_names_every_overlapping_pair():
    """Case 3: five overlapping pairs (one region covering five others) -> five overlap problems, not the two neighbours."""
    _, problems = results_to_spans(overlapping_results(), TEXT, NAMES, task_id=7, record="drc-001", annotation="annotation 1 by ann@example.com")
    pairs = overlap_pairs(problems)
    assert len(pairs) == 5 == len([p for p in problems if p.code == "overlap"]), [p.format() for p in problems]
    outer = f"ACTOR {TEXT[0:47]!r} [0, 47)"
    assert all(outer in pair for pair in pairs)
    assert {pair[0] if pair[1] == outer else pair[1] for pair in pairs} == {f"{s.label} {TEXT[s.start:s.end]!r} [{s.start}, {s.end})" for s in INNER}


def test_pull_documents_names_every_overlapping_pair():
    """Case 3 on a hand-made task export: the pull stops and names all five pairs, with the task and the annotation."""
    export = [task(7, "drc-001", [annotation(1, 1, overlapping_results())])]
    with pytest.raises(CorpusError) as err:
        pull_documents(export, NAMES, USERS)
    overlaps = [p for p in err.value.problems if p.code == "overlap"]
    assert len(overlaps) == 5, [p.format() for p in err.value.problems]
    assert all(p.format().startswith("ERROR [overlap] task 7 record 'drc-001': annotation 1 by ann@example.com") for p in overlaps)


class FakeExport:
    """The client calls of `ls pull` / `ls agreement`, answering from a hand-made export; records what was called."""

    def __init__(self, tasks: list[dict], users: dict[int, str] = USERS):
        self.tasks, self.users, self.calls = tasks, users, []

    def install(self, monkeypatch) -> None:
        from conflict_spans.annotation.labelstudio import client

        def connect(conn):
            self.calls.append("connect")
            return object()

        def export_tasks(ls, project_id):
            self.calls.append("export")
            return copy.deepcopy(self.tasks)

        monkeypatch.setattr(client, "resolve_connection", lambda url, token, data_dir: client.Connection("http://127.0.0.1:1", "token"))
        monkeypatch.setattr(client, "connect", connect)
        monkeypatch.setattr(client, "require_project", lambda ls, title: {"id": 1, "title": title, "label_config": ""})
        monkeypatch.setattr(client, "project_names", lambda project: NAMES)
        monkeypatch.setattr(client, "export_tasks", export_tasks)
        monkeypatch.setattr(client, "users_by_id", lambda ls: dict(self.users))


def run_main(*argv: str) -> int:
    from conflict_spans.cli import main

    return main(list(argv))


@pytest.mark.parametrize("command", [["pull", "--output", "{tmp}/pulled.jsonl"], ["agreement", "--json", "{tmp}/agreement.json"]], ids=["pull", "agreement"])
def test_ls_pull_and_agreement_print_every_overlapping_pair(monkeypatch, capsys, tmp_path, command):
    """Case 3 at the command line: every problem is printed (main prints them all, no limit), nothing is written."""
    bob = spans_to_results([INNER[0], INNER[3]], TEXT, NAMES)
    # ann's annotation is the latest (what `pull` takes) and one of the two that `agreement` compares
    FakeExport([task(7, "drc-001", [annotation(1, 1, overlapping_results(), "2025-01-02T10:00:00Z"), annotation(2, 2, bob)])]).install(monkeypatch)
    code = run_main("ls", command[0], "--project", "P", *[a.format(tmp=tmp_path) for a in command[1:]])
    err = capsys.readouterr().err
    assert_refused(err, code, "task 7", "drc-001")
    assert err.count("[overlap]") == 5, err
    assert list(tmp_path.iterdir()) == []


# ==== Label Studio: other problems that were dropped, merged or overwritten =========================

def test_two_status_choices_for_one_region_are_an_error():
    """Case 4: a second status choice for the same region silently replaced the first."""
    results = spans_to_results([INNER[2]], TEXT, NAMES)
    other = copy.deepcopy(results[1])
    other["value"]["choices"] = ["injured"]
    spans, problems = results_to_spans(results + [other], TEXT, NAMES, task_id=7, record="drc-001")
    assert [p.code for p in problems] == ["ls-result"] and "two status choices" in problems[0].message, [p.format() for p in problems]
    assert spans == []


def test_status_of_a_rejected_region_is_not_called_an_orphan():
    """Case 4: a CASUALTY region with an unknown label is reported once, not again as 'a status choice with no region'."""
    results = spans_to_results([INNER[2]], TEXT, NAMES)
    results[0]["value"]["labels"] = ["VICTIM"]
    _, problems = results_to_spans(results, TEXT, NAMES, task_id=7, record="drc-001")
    assert [p.code for p in problems] == ["unknown-label"], [p.format() for p in problems]


def test_annotations_left_out_by_the_policy_are_counted():
    """Case 4: the annotations a policy does not take (an older one, another annotator's) are counted in the summary."""
    a_old = annotation(1, 1, spans_to_results([INNER[0]], TEXT, NAMES), "2025-01-01T10:00:00Z")
    a_new = annotation(2, 1, spans_to_results([INNER[0], INNER[3]], TEXT, NAMES), "2025-01-03T10:00:00Z")
    b = annotation(3, 2, spans_to_results([INNER[3]], TEXT, NAMES), "2025-01-02T10:00:00Z")
    _, latest = pull_documents([task(7, "drc-001", [a_old, a_new, b])], NAMES, USERS)
    assert latest.superseded == 2
    assert any("2 annotation(s) not taken" in line for line in latest.summary("latest"))
    _, everyone = pull_documents([task(7, "drc-001", [a_old, a_new, b])], NAMES, USERS, policy="all")
    assert everyone.superseded == 1


def test_pull_all_refuses_two_annotators_in_one_file(monkeypatch, capsys, tmp_path):
    """Case 4: `pull --policy all` wrote both 'a b@x.org' and 'a_b@x.org' to a_b@x.org.jsonl, the second replacing the first."""
    users = {1: "a b@x.org", 2: "a_b@x.org"}
    results = spans_to_results([INNER[0]], TEXT, NAMES)
    FakeExport([task(7, "drc-001", [annotation(1, 1, results), annotation(2, 2, results)])], users).install(monkeypatch)
    out = tmp_path / "pulled"
    code = run_main("ls", "pull", "--project", "P", "--policy", "all", "--output", str(out))
    err = capsys.readouterr().err
    assert_refused(err, code, "a b@x.org", "a_b@x.org", "[ls-pull]")
    assert not out.exists()


@pytest.mark.parametrize("command", [["pull", "--output", "{tmp}"], ["pull", "--policy", "all", "--output", "{tmp}/file.txt"],
                                     ["agreement", "--json", "{tmp}"]], ids=["pull-folder", "pull-all-file", "agreement-json-folder"])
def test_ls_output_is_checked_before_the_server_is_asked(monkeypatch, capsys, tmp_path, command):
    """Case 4 (common rule): an output that cannot be written is refused before any work, not after the export."""
    (tmp_path / "file.txt").write_text("keep\n", encoding="utf-8")
    fake = FakeExport([task(7, "drc-001", [annotation(1, 1, spans_to_results([INNER[0]], TEXT, NAMES))])])
    fake.install(monkeypatch)
    before = snapshot(tmp_path)
    code = run_main("ls", command[0], "--project", "P", *[a.format(tmp=tmp_path) for a in command[1:]])
    err = capsys.readouterr().err
    assert_refused(err, code, "[output-path]")
    assert fake.calls == []
    assert snapshot(tmp_path) == before


def test_pull_refuses_a_region_across_a_line_break():
    """Case 4 (spec G10, which every corpus reader enforces): a region spanning a line break was pulled into the corpus."""
    text = "Shelling hits Kupiansk\ndistrict overnight, officials said."
    data = document_to_task_data(Document("ukraine-950", text, [], {"conflict": "ukraine"}), NAMES)
    results = spans_to_results([Span(14, 31, "LOCATION"), Span(43, 52, "ATTRIBUTION")], text, NAMES)  # "officials"
    export = [{"id": 9, "data": data, "annotations": [annotation(1, 1, results)], "drafts": [], "predictions": []}]
    with pytest.raises(CorpusError) as err:
        pull_documents(export, NAMES, USERS)
    (problem,) = err.value.problems
    assert problem.code == "line-break" and problem.value == "Kupiansk\ndistrict", problem.format()
    assert problem.format().startswith("ERROR [line-break] task 9 record 'ukraine-950': annotation 1 by ann@example.com")


# ==== Label Studio: pull --skip-invalid (issue 13): the bad annotations set aside with a report ====================

def test_pull_skip_invalid_writes_the_valid_documents_and_a_report(monkeypatch, capsys, tmp_path):
    good = annotation(3, 2, spans_to_results([INNER[0]], TEXT, NAMES))
    FakeExport([task(7, "drc-001", [annotation(1, 1, overlapping_results())]), task(8, "drc-002", [good])]).install(monkeypatch)
    out, report = tmp_path / "pulled.jsonl", tmp_path / "rejected.jsonl"
    assert run_main("ls", "pull", "--project", "P", "--output", str(out), "--skip-invalid", str(report)) == 0
    printed = capsys.readouterr().out
    assert [d.id for d in read_documents(out)] == ["drc-002"]
    rows = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and {(r["task"], r["document"], r["annotator"], r["annotation"], r["code"]) for r in rows} == {
        (7, "drc-001", "ann@example.com", "annotation 1", "overlap")}
    assert all(r["problem"] and r["fix"] for r in rows)
    assert "set aside with 5 problem(s)" in printed and str(report) in printed


def test_pull_skip_invalid_with_nothing_bad_writes_an_empty_report(monkeypatch, tmp_path):
    FakeExport([task(8, "drc-002", [annotation(3, 2, spans_to_results([INNER[0]], TEXT, NAMES))])]).install(monkeypatch)
    report = tmp_path / "rejected.jsonl"
    assert run_main("ls", "pull", "--project", "P", "--output", str(tmp_path / "pulled.jsonl"), "--skip-invalid", str(report)) == 0
    assert report.read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("where", ["same-as-output", "inside-the-all-folder", "a-folder"])
def test_pull_skip_invalid_report_path_is_checked_before_the_server_is_asked(monkeypatch, capsys, tmp_path, where):
    fake = FakeExport([task(8, "drc-002", [annotation(3, 2, spans_to_results([INNER[0]], TEXT, NAMES))])])
    fake.install(monkeypatch)
    (tmp_path / "folder").mkdir()
    args = {"same-as-output": ["--output", f"{tmp_path}/p.jsonl", "--skip-invalid", f"{tmp_path}/p.jsonl"],
            "inside-the-all-folder": ["--policy", "all", "--output", f"{tmp_path}/all", "--skip-invalid", f"{tmp_path}/all/report.jsonl"],
            "a-folder": ["--output", f"{tmp_path}/p.jsonl", "--skip-invalid", f"{tmp_path}/folder"]}[where]
    before = snapshot(tmp_path)
    code = run_main("ls", "pull", "--project", "P", *args)
    err = capsys.readouterr().err
    assert_refused(err, code, "[output-path]" if where == "a-folder" else "[ls-pull]")
    assert fake.calls == [] and snapshot(tmp_path) == before
