"""Team work without a running Label Studio: `ls backend start|stop` by its pid file, `ls annotators add` and `ls push --annotators` input checks, blind-overlap assignment (the real-server runs are in test_labelstudio_integration.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict

import pytest

from conflict_spans.annotation.labelstudio import backend_process as bp
from conflict_spans.cli import main
from conflict_spans.problems import CorpusError


def write_state(folder, **fields) -> bp.BackendInfo:
    folder.mkdir(parents=True, exist_ok=True)
    info = bp.BackendInfo(**{"log": str(folder / bp.LOG_FILE), **fields})
    (folder / bp.STATE_FILE).write_text(json.dumps(asdict(info)), encoding="utf-8")
    return info


def test_stop_without_a_backend(tmp_path, capsys):
    assert main(["ls", "backend", "stop", "--state-dir", str(tmp_path)]) == 0
    assert "no ML backend running" in capsys.readouterr().out


def test_stop_refuses_a_reused_pid(tmp_path):
    """A pid file whose process is not a conflict-spans backend (the pid was reused) is never killed."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_state(tmp_path, pid=proc.pid, ready=True, url="http://127.0.0.1:1")
        with pytest.raises(CorpusError, match="not a conflict-spans ML backend"):
            bp.stop_backend(tmp_path)
        assert proc.poll() is None and (tmp_path / bp.STATE_FILE).exists()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_stale_pid_file_is_cleaned_up_and_a_left_connection_named(tmp_path, capsys):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    write_state(tmp_path, pid=proc.pid, ready=True, url="http://127.0.0.1:1", label_studio="http://127.0.0.1:2", project="P", backend_id=7)
    assert main(["ls", "backend", "stop", "--state-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "was not running any more" in out and "connection 7 from project 'P'" in err and "Settings > Model" in err
    assert not (tmp_path / bp.STATE_FILE).exists()


def test_an_unreadable_state_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / bp.STATE_FILE).write_text("{not json", encoding="utf-8")
    assert main(["ls", "backend", "stop", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "[ls-backend]" in err and str(tmp_path / bp.STATE_FILE) in err
    assert (tmp_path / bp.STATE_FILE).read_text(encoding="utf-8") == "{not json"  # left for the user to look at


@pytest.mark.parametrize("action", ["start", "run"])
def test_start_and_run_need_a_model(tmp_path, capsys, action):
    assert main(["ls", "backend", action, "--state-dir", str(tmp_path / "b")]) == 1
    assert f"`ls backend {action}` needs --model" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_a_backend_that_exits_before_it_is_ready_is_reported_with_its_log(tmp_path, capsys):
    state = tmp_path / "b"
    assert main(["ls", "backend", "start", "--model", str(tmp_path / "no-model"), "--port", "0", "--state-dir", str(state), "--timeout", "120"]) == 1
    err = capsys.readouterr().err
    assert "exited with code 1 before it was ready" in err and "no-model" in err and str(state / bp.LOG_FILE) in err
    assert not (state / bp.STATE_FILE).exists()


# ---- ls annotators add: bad input is refused before the server is asked ------------------------------------------

@pytest.mark.parametrize("emails, fragment", [(["alice"], "not an email address"), (["a@x.org", "A@x.org"], "given twice")], ids=["not-an-email", "twice"])
def test_annotators_add_checks_the_emails_first(capsys, emails, fragment):
    assert main(["ls", "annotators", "add", "--url", "http://127.0.0.1:9", "--token", "t" * 40, *emails]) == 1
    err = capsys.readouterr().err
    assert "[ls-annotator]" in err and fragment in err and "ls-connect" not in err


# ---- blind overlap: assignment and project titles -------------------------------------------------------------

def test_assign_gives_each_document_overlap_annotators_and_balances_the_load():
    from conflict_spans.annotation.labelstudio.team import assign

    shares = assign(7, ["a", "b", "c"], 2)
    per_doc = {i: sorted(who for who, docs in shares.items() if i in docs) for i in range(7)}
    assert all(len(v) == 2 for v in per_doc.values())
    assert max(map(len, shares.values())) - min(map(len, shares.values())) <= 1
    assert assign(3, ["a", "b"], 2) == {"a": [0, 1, 2], "b": [0, 1, 2]}


@pytest.mark.parametrize("args, fragment", [(["--annotators", "a@x.org,b@x.org", "--overlap", "3"], "from 1 to the number of --annotators (2)"),
                                            (["--annotators", "a@x.org,b@x.org", "--overlap", "0"], "from 1 to the number of --annotators"),
                                            (["--overlap", "2"], "--overlap needs --annotators"),
                                            (["--annotators", "a@x.org,nope"], "not an email address"),
                                            (["--uncertainty-sampling"], "no --model was given")],
                         ids=["overlap-too-large", "overlap-zero", "overlap-alone", "bad-email", "sampling-without-model"])
def test_push_refuses_a_bad_overlap_before_the_server_is_asked(tmp_path, capsys, args, fragment):
    (tmp_path / "d.jsonl").write_text('{"id": "d1", "text": "Gunmen killed 12 people.", "spans": []}\n', encoding="utf-8")
    assert main(["ls", "push", "--url", "http://127.0.0.1:9", "--token", "t" * 40, "--project", "P", str(tmp_path / "d.jsonl"), *args]) == 1
    err = capsys.readouterr().err
    assert fragment in err and "ls-connect" not in err


def test_annotator_project_titles_fit_label_studio_and_stay_distinct():
    from conflict_spans.annotation.labelstudio.team import MAX_TITLE, annotator_project

    assert annotator_project("batch 1", "bob@example.com") == "batch 1 / bob@example.com"
    long = [annotator_project("a long project title for the whole team", f"{name}@a-long-domain.example.org") for name in ("annotator-one", "annotator-two")]
    assert all(len(t) <= MAX_TITLE for t in long) and long[0] != long[1]
    assert annotator_project("a long project title for the whole team", "annotator-one@a-long-domain.example.org") == long[0]


def test_adjudication_plan_sorts_agreed_disputed_and_single_versions():
    from conflict_spans.annotation.labelstudio.team import adjudication_plan
    from conflict_spans.document import Document, Relation, Span

    text = "Gunmen killed 12 people in Goma, officials said."
    actor, twelve, goma = Span(0, 6, "ACTOR"), Span(14, 23, "CASUALTY", "killed"), Span(27, 31, "LOCATION")
    injured = Span(14, 23, "CASUALTY", "injured")
    linked = Document("d3", text, [actor, twelve, goma], relations=[Relation(twelve, goma, "location")])
    versions = {"a@x.org": [Document("d1", text, [actor, twelve]), Document("d2", text, [actor, twelve]), linked, Document("d4", text, [goma])],
                "b@x.org": [Document("d1", text, [twelve, actor]), Document("d2", text, [actor, injured]),
                            Document("d3", text, [actor, twelve, goma])]}
    plan = adjudication_plan(versions)
    assert [d.id for d in plan.agreed] == ["d1"]  # span order does not matter
    assert sorted(plan.disputed) == ["d2", "d3"]  # a status differs; a link differs
    assert list(plan.single) == ["d4"] and list(plan.single["d4"]) == ["a@x.org"]
