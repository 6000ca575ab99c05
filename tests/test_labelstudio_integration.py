"""The Label Studio loop against a real server: push, pull, round trip, policies, agreement, ML backend, server commands."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from conflict_spans.annotation.labelstudio import server as ls_server_mod
from conflict_spans.annotation.labelstudio.client import (connect_ml_backend, export_tasks, find_project, list_tasks, push_documents, require_project,
                                                          retrieve_predictions)
from conflict_spans.annotation.labelstudio.config import schema_names
from conflict_spans.annotation.labelstudio.ml_backend import serve_in_thread, server_url
from conflict_spans.annotation.labelstudio.results import spans_to_results
from conflict_spans.annotation.labelstudio.tasks import prediction_spans, text_document_id
from conflict_spans.cli import main
from conflict_spans.corpus.io import read_documents, write_jsonl
from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError

from ls_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]
NAMES = schema_names()


def conn_args(conn) -> list[str]:
    return ["--url", conn.url, "--token", conn.token]


def as_dicts(docs) -> dict[str, dict]:
    return {d.id: d.to_dict() for d in docs}


@pytest.fixture(scope="module")
def corpus_docs(tmp_path_factory) -> list[Document]:
    """The bundled corpus, built from corpus/src into a temporary folder (never into corpus/)."""
    out = tmp_path_factory.mktemp("corpus")
    assert main(["build", "--out", str(out / "data"), "--splits", str(out / "splits.json")]) == 0
    docs = read_documents(out / "data")
    assert docs, "the corpus build produced no documents"
    return docs


SYNTHETIC = [
    Document("synth-emoji", "🇺🇦 👩‍👩‍👧 Kyiv said 3 people died 😢 in Kharkiv.",
             [Span(9, 13, "ATTRIBUTION"), Span(19, 27, "CASUALTY", "killed"), Span(38, 45, "LOCATION")], {"conflict": "ukraine", "genre": "brief"}),
    Document("synth-combining", "Cafe\u0301 owners in Tigra\u0301y told Ame\u0301lie 2 were wounded by Fano\u0301 militia.",
             [Span(16, 23, "LOCATION"), Span(37, 38, "CASUALTY", "injured"), Span(55, 68, "ACTOR")], {"conflict": "ethiopia"}),
    Document("synth-crlf", "Headline in Goma\r\n\r\nThe army said 2 were hurt.\r\nM23 rebels denied it.",
             [Span(12, 16, "LOCATION"), Span(24, 28, "ATTRIBUTION"), Span(34, 35, "CASUALTY", "injured"), Span(48, 58, "ATTRIBUTION")], {}),
    Document("synth-empty", "Nothing was reported.", [], {"note": "a document with no spans survives too"}),
]


def test_synthetic_spans_point_at_their_words():
    surfaces = [[d.text[s.start:s.end] for s in d.spans] for d in SYNTHETIC]
    assert surfaces == [["Kyiv", "3 people", "Kharkiv"], ["Tigra\u0301y", "2", "Fano\u0301 militia"],
                        ["Goma", "army", "2", "M23 rebels"], []]


def test_corpus_round_trip_span_for_span(ls_connection, corpus_docs, project_title, tmp_path, capsys):
    """The whole bundled corpus pushed with the CLI and pulled back equals the original, and goes back
    through markup and build (the README's way into corpus/src) unchanged."""
    source = tmp_path / "corpus.jsonl"
    write_jsonl(source, corpus_docs)
    assert main(["ls", "push", *conn_args(ls_connection), "--project", project_title, str(source)]) == 0
    assert f"tasks: {len(corpus_docs)} new" in capsys.readouterr().out
    pulled = tmp_path / "pulled.jsonl"
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", project_title, "--output", str(pulled)]) == 0
    assert f"{len(corpus_docs)} documents pulled" in capsys.readouterr().out
    back = read_documents(pulled)
    assert len(back) == len(corpus_docs)
    assert as_dicts(back) == as_dicts(corpus_docs)

    assert main(["validate", str(pulled)]) == 0
    assert main(["markup", str(pulled), str(tmp_path / "src"), "--by-conflict"]) == 0
    assert main(["build", "--src", str(tmp_path / "src"), "--out", str(tmp_path / "data"), "--splits", str(tmp_path / "splits.json")]) == 0
    assert as_dicts(read_documents(tmp_path / "data")) == as_dicts(corpus_docs)


def test_push_ten_documents_as_pre_annotations(ls_client, ls_connection, corpus_docs, project_title, tmp_path, capsys):
    source = tmp_path / "corpus.jsonl"
    write_jsonl(source, corpus_docs)
    assert main(["ls", "push", *conn_args(ls_connection), "--project", project_title, str(source), "--limit", "10", "--spans-as", "predictions"]) == 0
    assert "predictions: 10 added" in capsys.readouterr().out
    tasks = list_tasks(ls_client, find_project(ls_client, project_title)["id"])
    assert len(tasks) == 10 and all(not t["annotations"] for t in tasks)
    by_id = {d.id: d for d in corpus_docs}
    for task in tasks:
        ((version, spans),) = prediction_spans(task, NAMES)
        assert version == "corpus" and spans == by_id[task["data"]["doc_id"]].spans


def test_synthetic_round_trip_emoji_combining_marks_crlf(ls_client, ls_connection, project_title, tmp_path):
    push_documents(ls_client, project_title, SYNTHETIC)
    stored = {t["data"]["doc_id"]: t for t in export_tasks(ls_client, find_project(ls_client, project_title)["id"])}
    assert stored["synth-crlf"]["data"]["text"] == SYNTHETIC[2].text  # CR LF kept as is
    out = tmp_path / "pulled.jsonl"
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", project_title, "--output", str(out)]) == 0
    assert as_dicts(read_documents(out)) == as_dicts(SYNTHETIC)


def test_push_twice_does_not_duplicate(ls_client, project_title):
    first = push_documents(ls_client, project_title, SYNTHETIC, spans_model_version="corpus")
    second = push_documents(ls_client, project_title, SYNTHETIC, spans_model_version="corpus")
    assert (first.created, second.created, second.skipped) == (4, 0, 4)
    changed = [Document(d.id, d.text, d.spans, {**d.meta, "genre": "wire"}) for d in SYNTHETIC]
    third = push_documents(ls_client, project_title, changed, spans_model_version="corpus", on_existing="update")
    assert (third.created, third.updated, third.predictions_replaced, third.annotations_kept) == (0, 4, 4, 4)
    tasks = list_tasks(ls_client, find_project(ls_client, project_title)["id"])
    assert len(tasks) == 4
    for task in tasks:
        assert task["data"]["meta"]["genre"] == "wire"
        assert len(task["annotations"]) == 1
        assert [p["model_version"] for p in task["predictions"]] == ["corpus"]


def test_push_raw_texts_with_the_cli(ls_client, ls_connection, project_title, tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("Gunmen killed 12 people in Goma.\n\nThe army said 2 were hurt in Bunia.\n", encoding="utf-8")
    for _ in range(2):
        assert main(["ls", "push", *conn_args(ls_connection), "--project", project_title, "--texts", str(texts)]) == 0
    assert "0 new" in capsys.readouterr().out.split("tasks: ")[-1]
    tasks = list_tasks(ls_client, find_project(ls_client, project_title)["id"])
    assert sorted(t["data"]["doc_id"] for t in tasks) == sorted(text_document_id(t) for t in ("Gunmen killed 12 people in Goma.", "The army said 2 were hurt in Bunia."))
    assert all(not t["annotations"] for t in tasks)


def test_changing_an_annotated_text_is_refused(ls_client, project_title):
    push_documents(ls_client, project_title, SYNTHETIC[:1])
    edited = Document(SYNTHETIC[0].id, SYNTHETIC[0].text + " More.", [], {})
    with pytest.raises(CorpusError) as err:
        push_documents(ls_client, project_title, [edited], on_existing="update")
    assert err.value.problems[0].path.startswith("task ") and "synth-emoji" in str(err.value)


def test_push_refuses_spans_that_could_not_come_back(ls_client, project_title):
    bad = Document("bad-1", "Gunmen killed 12 people.", [Span(14, 23, "CASUALTY")], {})
    with pytest.raises(CorpusError, match="needs a status"):
        push_documents(ls_client, project_title, [bad])
    assert find_project(ls_client, project_title) is None  # checked before anything was written


TEXT = "Gunmen killed 12 people in Goma, officials said."
GUNMEN, TWELVE, GOMA, OFFICIALS = Span(0, 6, "ACTOR"), Span(14, 23, "CASUALTY", "killed"), Span(27, 31, "LOCATION"), Span(33, 42, "ATTRIBUTION")


@pytest.fixture
def annotators(ls_client):
    """Two more annotators (created once per server; the admin is the third)."""
    existing = {u.email: u.id for u in ls_client.users.list()}
    out = {}
    for name in ("bob", "cy"):
        email = f"{name}@example.com"
        if email not in existing:
            existing[email] = ls_client.users.create(username=name, email=email, password=f"{name}-pass-123").id
        out[name] = (existing[email], email)
    return out


@pytest.fixture
def multi_project(ls_client, project_title, annotators):
    """Three documents; bob labels all three, cy labels two (differently) and skips the third."""
    docs = [Document(f"multi-{i}", TEXT, [], {"i": i}) for i in range(3)]
    report = push_documents(ls_client, project_title, docs, annotations=False)
    (bob, bob_email), (cy, cy_email) = annotators["bob"], annotators["cy"]
    ids = report.task_ids
    for doc_id in ids:
        ls_client.annotations.create(id=ids[doc_id], result=spans_to_results([GUNMEN, TWELVE, GOMA, OFFICIALS], TEXT, NAMES), completed_by=bob)
    ls_client.annotations.create(id=ids["multi-0"], result=spans_to_results([GUNMEN, TWELVE], TEXT, NAMES), completed_by=cy)
    ls_client.annotations.create(id=ids["multi-1"], result=spans_to_results([GUNMEN, Span(14, 16, "CASUALTY", "killed"), GOMA], TEXT, NAMES), completed_by=cy)
    ls_client.annotations.create(id=ids["multi-2"], result=[], completed_by=cy, was_cancelled=True)
    return project_title, ids, bob_email, cy_email


def test_pull_policies_skips_and_drafts(ls_client, ls_connection, multi_project, tmp_path, capsys):
    title, ids, bob, cy = multi_project
    out = tmp_path / "latest.jsonl"
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", title, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 skipped (cancelled) annotation(s) excluded" in printed
    latest = {d.id: d.spans for d in read_documents(out)}
    assert latest == {"multi-0": [GUNMEN, TWELVE], "multi-1": [GUNMEN, Span(14, 16, "CASUALTY", "killed"), GOMA], "multi-2": [GUNMEN, TWELVE, GOMA, OFFICIALS]}

    out = tmp_path / "bob.jsonl"
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", title, "--annotator", bob, "--output", str(out)]) == 0
    assert all(d.spans == [GUNMEN, TWELVE, GOMA, OFFICIALS] for d in read_documents(out)) and len(read_documents(out)) == 3

    folder = tmp_path / "all"
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", title, "--policy", "all", "--output", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{bob}.jsonl", f"{cy}.jsonl"])
    assert [d.id for d in read_documents(folder / f"{cy}.jsonl")] == ["multi-0", "multi-1"]

    # a draft (by the token's user) on multi-0, newer than everything: excluded and counted unless asked for
    import httpx

    resp = httpx.post(f"{ls_connection.url}/api/tasks/{ids['multi-0']}/drafts", headers={"Authorization": f"Token {ls_connection.token}"},
                      json={"result": spans_to_results([GOMA], TEXT, NAMES), "lead_time": 1.0}, timeout=30)
    assert resp.status_code == 201, resp.text
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", title, "--output", str(out)]) == 0
    assert "1 draft(s) excluded" in capsys.readouterr().out
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", title, "--include-drafts", "--output", str(out)]) == 0
    assert {d.id: d.spans for d in read_documents(out)}["multi-0"] == [GOMA]


def test_agreement_command(ls_connection, multi_project, tmp_path, capsys):
    title, _, bob, cy = multi_project
    report = tmp_path / "agreement.json"
    assert main(["ls", "agreement", *conn_args(ls_connection), "--project", title, "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert f"A = {bob}  vs  B = {cy}" in printed and "micro" in printed
    (pair,) = json.loads(report.read_text(encoding="utf-8"))
    assert pair["documents"] == 2  # cy skipped multi-2
    strict = pair["micro"]["strict"]
    # bob: 4 + 4 spans; cy: 2 + 3 spans; strict matches: GUNMEN, TWELVE on multi-0; GUNMEN, GOMA on multi-1
    assert (strict["n_a"], strict["n_b"], strict["agree_a"]) == (8, 5, 4)
    assert pair["micro"]["overlap"]["agree_b"] == 5


def test_agreement_needs_two_annotators(ls_client, ls_connection, project_title, capsys):
    push_documents(ls_client, project_title, SYNTHETIC)
    assert main(["ls", "agreement", *conn_args(ls_connection), "--project", project_title]) == 1
    assert "needs annotations of the same tasks by two people, found 1" in capsys.readouterr().err


def test_bad_annotation_stops_the_pull_naming_the_task(ls_client, ls_connection, project_title, tmp_path, capsys):
    report = push_documents(ls_client, project_title, [Document("bad-text", TEXT, [], {})], annotations=False)
    tid = report.task_ids["bad-text"]
    result = spans_to_results([GUNMEN, TWELVE], TEXT, NAMES)
    result[0]["value"]["text"] = "Gunman"
    result = [r for r in result if r["type"] != "choices"]  # and a CASUALTY without status
    ls_client.annotations.create(id=tid, result=result)
    out = tmp_path / "never.jsonl"
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", project_title, "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"ERROR [span-text] task {tid} record 'bad-text'" in err and "'Gunman'" in err
    assert f"ERROR [status] task {tid} record 'bad-text'" in err
    assert not out.exists()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """The real tiny trained model (support), made once per module."""
    from support import make_tiny_model

    return Path(make_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model"))


@pytest.fixture(scope="module")
def tiny_predictor(tiny_model):
    from conflict_spans.model.predict import load_predictor

    return load_predictor(tiny_model)


ML_DOCS = SYNTHETIC + [
    Document("plain", "Rebels attacked Goma and the army said 12 people were killed.", [], {}),
    Document("like-tiny-training", "GOMA — Gunmen killed at least 12 civilians in Goma on Sunday, the army said.", [], {}),  # the tiny model learnt this
]


def assert_predictions_are_the_models(tasks, predictor):
    """Every task holds exactly the model's spans (labels, offsets, status, score), and they are not all empty."""
    assert tasks
    regions = 0
    for task in tasks:
        ((version, spans),) = prediction_spans(task, NAMES)
        expected = sorted(predictor.predict_spans(task["data"]["text"]))
        assert version == predictor.model_version
        assert [(s.start, s.end, s.label, s.status) for s in spans] == [(s.start, s.end, s.label, s.status) for s in expected]
        assert [s.score for s in spans] == pytest.approx([round(s.score, 6) for s in expected])
        regions += len(spans)
    assert regions > 0, "the model predicted no span at all: the check above would be empty"


def test_uncertainty_sampling_serves_the_least_confident_task_first(ls_client, ls_connection, project_title, tiny_model, tiny_predictor, tmp_path,
                                                                   capsys):
    """`ls push --model M --uncertainty-sampling`: each prediction's score is the model's document confidence, the project samples by
    uncertainty, and Label Studio's next task (what 'Label All Tasks' opens) is the least confident one."""
    import httpx

    source = tmp_path / "docs.jsonl"
    write_jsonl(source, ML_DOCS)
    assert main(["ls", "push", *conn_args(ls_connection), "--project", project_title, str(source), "--spans-as", "none",
                 "--model", str(tiny_model), "--uncertainty-sampling"]) == 0
    assert "uncertainty sampling" in capsys.readouterr().out
    project = find_project(ls_client, project_title)
    assert project["sampling"] == "Uncertainty sampling" and project["model_version"] == tiny_predictor.model_version
    scores = {}
    for task in list_tasks(ls_client, project["id"]):
        (pred,) = task["predictions"]
        confidence = tiny_predictor.predict_spans_with_confidence(task["data"]["text"])[1]
        assert 0 < confidence <= 1 and pred["score"] == pytest.approx(round(confidence, 6))
        scores[task["id"]] = pred["score"]
    assert len(set(scores.values())) > 1, "all documents equally confident: the order below would prove nothing"
    resp = httpx.get(f"{ls_connection.url}/api/projects/{project['id']}/next", headers={"Authorization": f"Token {ls_connection.token}"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == min(scores, key=scores.get)


def test_ml_backend_serves_the_tiny_model_to_label_studio(ls_client, project_title, tiny_predictor):
    report = push_documents(ls_client, project_title, ML_DOCS, annotations=False)
    server, thread = serve_in_thread(tiny_predictor)
    try:
        project = require_project(ls_client, project_title)
        backend = connect_ml_backend(ls_client, project["id"], server_url(server))
        assert backend["url"] == server_url(server)
        assert connect_ml_backend(ls_client, project["id"], server_url(server))["id"] == backend["id"]  # once
        retrieve_predictions(ls_client, project["id"])
        tasks = list_tasks(ls_client, project["id"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert sorted(t["id"] for t in tasks) == sorted(report.task_ids.values())
    assert_predictions_are_the_models(tasks, tiny_predictor)


def test_push_with_model_predictions_from_the_cli(ls_client, ls_connection, project_title, tiny_model, tiny_predictor, tmp_path):
    source = tmp_path / "new.jsonl"
    write_jsonl(source, ML_DOCS)
    for _ in range(2):
        assert main(["ls", "push", *conn_args(ls_connection), "--project", project_title, str(source), "--spans-as", "none",
                     "--model", str(tiny_model), "--on-existing", "update"]) == 0
    tasks = list_tasks(ls_client, find_project(ls_client, project_title)["id"])
    assert len(tasks) == len(ML_DOCS)
    assert_predictions_are_the_models(tasks, tiny_predictor)  # replaced on the second push, not duplicated


def _read_line(proc, pattern: str, timeout: float) -> str:
    """The first stdout line containing ``pattern``, waiting at most ``timeout`` seconds."""
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if sel.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
            line = proc.stdout.readline()
            seen.append(line)
            if pattern in line:
                return line
    raise AssertionError(f"no line with {pattern!r} within {timeout} s; got {seen!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}")


def test_backend_command_connects_and_retrieves(ls_client, ls_connection, project_title, tiny_model, tiny_predictor):
    push_documents(ls_client, project_title, ML_DOCS, annotations=False)
    cmd = [sys.executable, "-u", "-m", "conflict_spans.cli", "ls", "backend", *conn_args(ls_connection), "--model", str(tiny_model),
           "--port", "0", "--project", project_title, "--retrieve"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        url = _read_line(proc, "ML backend for model", 120).split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        _read_line(proc, "retrieve predictions", 120)
        tasks = list_tasks(ls_client, find_project(ls_client, project_title)["id"])
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert_predictions_are_the_models(tasks, tiny_predictor)
    # stopped, the backend removed its connection: the project lists no backend that is gone
    assert list(ls_client.ml.list(project=find_project(ls_client, project_title)["id"])) == []


def test_annotators_add_creates_accounts_that_log_in_and_leaves_existing_ones(ls_connection, annotators, capsys):
    import re
    import secrets

    import httpx
    from label_studio_sdk import LabelStudio

    new = [f"ann-{secrets.token_hex(3)}@example.com", f"ann-{secrets.token_hex(3)}@example.com"]
    bob = annotators["bob"][1]
    assert main(["ls", "annotators", "add", *conn_args(ls_connection), new[0], bob, new[1]]) == 0
    out = capsys.readouterr().out
    assert f"exists  {bob} (not changed)" in out and "/user/signup/?token=" in out
    for email in new:
        password, token = re.search(rf"created {re.escape(email)}  password: (\S+)  API token: (\S+)", out).groups()
        with httpx.Client(base_url=ls_connection.url, follow_redirects=False, timeout=30) as browser:  # the password logs in
            browser.get("/user/login/")
            resp = browser.post("/user/login/", data={"email": email, "password": password, "csrfmiddlewaretoken": browser.cookies.get("csrftoken")},
                                headers={"Referer": f"{ls_connection.url}/user/login/"})
            assert resp.status_code == 302, resp.text[:500]
        assert LabelStudio(base_url=ls_connection.url, api_key=token).users.whoami().email == email  # the token works for the SDK
    assert main(["ls", "annotators", "add", *conn_args(ls_connection), new[0]]) == 0  # a second time: left alone
    assert f"exists  {new[0]} (not changed)" in capsys.readouterr().out


def test_blind_overlap_push_gives_each_annotator_a_project_and_agreement_compares_them(ls_client, ls_connection, project_title, annotators,
                                                                                       tmp_path, capsys):
    """`ls push --annotators B,C --overlap 2`: one project per annotator with the same pre-annotations and no one else's regions;
    `ls agreement --annotators` compares the two projects; --overlap 1 spreads the documents round robin."""
    from conflict_spans.annotation.labelstudio.team import annotator_project

    (bob, bob_email), (cy, cy_email) = annotators["bob"], annotators["cy"]
    docs = [Document(f"blind-{i}", TEXT, [GUNMEN, TWELVE], {"i": i}) for i in range(3)]
    source = tmp_path / "docs.jsonl"
    write_jsonl(source, docs)
    push = ["ls", "push", *conn_args(ls_connection), "--project", project_title, str(source), "--spans-as", "predictions",
            "--annotators", f"{bob_email},{cy_email}"]
    assert main([*push, "--overlap", "2"]) == 0
    assert "blind overlap: each document in 2 annotator project(s)" in capsys.readouterr().out
    for who, user in ((bob_email, bob), (cy_email, cy)):
        project = require_project(ls_client, annotator_project(project_title, who))
        tasks = list_tasks(ls_client, project["id"])
        assert sorted(t["data"]["doc_id"] for t in tasks) == ["blind-0", "blind-1", "blind-2"]
        assert all(not t.get("annotations") for t in tasks)  # nobody's regions but the model's
        assert all(prediction_spans(t, NAMES) == [("corpus", [GUNMEN, TWELVE])] for t in tasks)  # everyone starts from the same pre-annotations
        for t in tasks:  # bob keeps the pre-annotation; cy adds Goma
            spans = [GUNMEN, TWELVE] if who == bob_email else [GUNMEN, TWELVE, GOMA]
            ls_client.annotations.create(id=t["id"], result=spans_to_results(spans, TEXT, NAMES), completed_by=user)
    assert main(["ls", "agreement", *conn_args(ls_connection), "--project", project_title, "--annotators", f"{bob_email},{cy_email}",
                 "--json", str(tmp_path / "agreement.json")]) == 0
    (pair,) = json.loads((tmp_path / "agreement.json").read_text(encoding="utf-8"))
    assert (pair["a"], pair["b"]) == (bob_email, cy_email) and pair["documents"] == 3
    assert pair["labels"]["ACTOR"]["strict"]["f1"] == 1.0 and pair["labels"]["LOCATION"]["strict"]["f1"] == 0.0

    spread = f"{project_title}-spread"
    assert main(["ls", "push", *conn_args(ls_connection), "--project", spread, str(source), "--spans-as", "predictions",
                 "--annotators", f"{bob_email},{cy_email}", "--overlap", "1"]) == 0
    counts = {who: len(list_tasks(ls_client, require_project(ls_client, annotator_project(spread, who))["id"])) for who in (bob_email, cy_email)}
    assert counts == {bob_email: 2, cy_email: 1}


def team_flow(conn, title: str, tmp_path, capsys) -> None:
    """Two annotators and an adjudicator, each an SDK user with the token `ls annotators add` printed: blind projects, annotations,
    `ls adjudicate` (agreement before adjudication; agreed documents decided, the rest to 'TITLE / review' with each version as a
    prediction), `pull --policy adjudicated` (decided documents only), the adjudicator's submission, the pull again.
    Run on SQLite here and on PostgreSQL in test_labelstudio_postgres.py."""
    import re
    import secrets

    from label_studio_sdk import LabelStudio

    from conflict_spans.annotation.labelstudio.client import connect
    from conflict_spans.annotation.labelstudio.team import annotator_project

    tag = secrets.token_hex(3)
    ann, bob, judge = (f"{who}-{tag}@example.com" for who in ("ann", "bob", "judge"))
    assert main(["ls", "annotators", "add", *conn_args(conn), ann, bob, judge]) == 0
    tokens = dict(re.findall(r"created (\S+)  password: \S+  API token: (\S+)", capsys.readouterr().out))
    as_user = {who: LabelStudio(base_url=conn.url, api_key=tokens[who]) for who in (ann, bob, judge)}
    admin = connect(conn)

    source = tmp_path / "team.jsonl"
    write_jsonl(source, [Document(f"adj-{i}", TEXT, [GUNMEN, TWELVE], {"i": i}) for i in range(3)])
    assert main(["ls", "push", *conn_args(conn), "--project", title, str(source), "--spans-as", "predictions", "--annotators", f"{ann},{bob}"]) == 0
    labels = {ann: {"adj-0": [GUNMEN, TWELVE, GOMA], "adj-1": [GUNMEN, TWELVE, GOMA], "adj-2": [GUNMEN]},
              bob: {"adj-0": [GUNMEN, TWELVE, GOMA], "adj-1": [GUNMEN, TWELVE]}}  # adj-2: bob never submits
    for who in (ann, bob):  # each annotator submits through the SDK with their own token
        ids = {t["data"]["doc_id"]: t["id"] for t in list_tasks(as_user[who], require_project(as_user[who], annotator_project(title, who))["id"])}
        for doc_id, spans in labels[who].items():
            as_user[who].annotations.create(id=ids[doc_id], result=spans_to_results(spans, TEXT, NAMES))
    capsys.readouterr()
    assert main(["ls", "adjudicate", *conn_args(conn), "--project", title, "--annotators", f"{ann},{bob}", "--json", str(tmp_path / "before.json")]) == 0
    out = capsys.readouterr().out
    assert "before adjudication" in out and "1 document(s) agreed (decided), 1 disputed and 1 with one version only" in out
    (pair,) = json.loads((tmp_path / "before.json").read_text(encoding="utf-8"))
    assert pair["documents"] == 2 and pair["labels"]["CASUALTY"]["strict"]["f1"] == 1.0 and pair["labels"]["LOCATION"]["strict"]["f1"] < 1.0

    review = require_project(admin, annotator_project(title, "review"))
    tasks = {t["data"]["doc_id"]: t for t in list_tasks(admin, review["id"])}
    assert sorted(tasks) == ["adj-0", "adj-1", "adj-2"] and len(tasks["adj-0"]["annotations"]) == 1
    assert not tasks["adj-1"]["annotations"]
    assert dict(prediction_spans(tasks["adj-1"], NAMES)) == {ann: [GUNMEN, TWELVE, GOMA], bob: [GUNMEN, TWELVE]}
    assert dict(prediction_spans(tasks["adj-2"], NAMES)) == {ann: [GUNMEN]}

    decided = tmp_path / "decided.jsonl"
    pull = ["ls", "pull", *conn_args(conn), "--project", title, "--policy", "adjudicated", "--output", str(decided)]
    assert main(pull) == 0
    assert {d.id: d.spans for d in read_documents(decided)} == {"adj-0": [GUNMEN, TWELVE, GOMA]}
    assert "2 task(s) without a usable annotation" in capsys.readouterr().out
    as_user[judge].annotations.create(id=tasks["adj-1"]["id"], result=spans_to_results([GUNMEN, TWELVE], TEXT, NAMES))  # the adjudicator decides
    assert main(pull) == 0
    assert {d.id: d.spans for d in read_documents(decided)} == {"adj-0": [GUNMEN, TWELVE, GOMA], "adj-1": [GUNMEN, TWELVE]}


def test_two_annotators_and_an_adjudicator_from_push_to_adjudicated_pull(ls_connection, project_title, tmp_path, capsys):
    team_flow(ls_connection, project_title, tmp_path, capsys)


def test_backend_start_and_stop_by_pid_file(ls_client, ls_connection, project_title, tiny_model, tmp_path, capsys):
    """`ls backend start` returns once the backend serves and is connected; `stop` ends it by its pid and its connection goes."""
    from conflict_spans.annotation.labelstudio.backend_process import STATE_FILE, read_backend_info

    push_documents(ls_client, project_title, ML_DOCS, annotations=False)
    state = tmp_path / "backend"
    start = ["ls", "backend", "start", *conn_args(ls_connection), "--model", str(tiny_model), "--port", "0", "--project", project_title,
             "--state-dir", str(state)]
    assert main(start) == 0
    info = read_backend_info(state)
    try:
        assert info.ready and ls_server_mod.is_alive(info.pid) and info.url.startswith("http://127.0.0.1:")
        assert ls_connection.token not in " ".join(psutil.Process(info.pid).cmdline())  # the token travels in the environment
        with urllib.request.urlopen(f"{info.url}/health", timeout=10) as resp:
            assert json.loads(resp.read())["status"] == "UP"
        project_id = find_project(ls_client, project_title)["id"]
        assert [b.id for b in ls_client.ml.list(project=project_id)] == [info.backend_id]
        assert main(start) == 0 and "already running" in capsys.readouterr().out
    finally:
        assert main(["ls", "backend", "stop", "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert f"stopped ML backend pid {info.pid}" in out and f"connection to project {project_title!r} removed" in out
    assert not ls_server_mod.is_alive(info.pid) and not (state / STATE_FILE).exists()
    assert list(ls_client.ml.list(project=project_id)) == []
    assert main(["ls", "backend", "stop", "--state-dir", str(state)]) == 0 and "no ML backend running" in capsys.readouterr().out


def test_backend_retrains_on_a_submitted_annotation_and_refreshes_the_other_tasks(ls_client, ls_connection, project_title, tiny_model, tiny_predictor,
                                                                                  tmp_path, capsys):
    """`ls backend start --train --train-every 1`: an annotation submitted through the SDK makes Label Studio ask the backend to
    train (START_TRAINING); the job fine-tunes on that annotation, the backend serves the new model, every task nobody annotated
    gets the new model's prediction in place of the old one, and the project's model version follows (uncertainty sampling with it)."""
    from conflict_spans.annotation.labelstudio.backend_process import read_backend_info
    from conflict_spans.annotation.labelstudio.results import spans_to_annotation
    from conflict_spans.model.predict import load_predictor

    from support import tiny_documents

    source = tmp_path / "docs.jsonl"
    write_jsonl(source, ML_DOCS)
    assert main(["ls", "push", *conn_args(ls_connection), "--project", project_title, str(source), "--spans-as", "none",
                 "--model", str(tiny_model), "--uncertainty-sampling"]) == 0
    validation = tmp_path / "validation.jsonl"
    write_jsonl(validation, tiny_documents()[3:])
    state = tmp_path / "backend"
    assert main(["ls", "backend", "start", *conn_args(ls_connection), "--model", str(tiny_model), "--port", "0", "--project", project_title,
                 "--state-dir", str(state), "--train", "--train-every", "1", "--train-epochs", "1", "--train-validation", str(validation)]) == 0
    info = read_backend_info(state)
    try:
        project = find_project(ls_client, project_title)
        assert project["min_annotations_to_start_training"] == 1
        plain = next(t for t in list_tasks(ls_client, project["id"]) if t["data"]["doc_id"] == "plain")
        text = plain["data"]["text"]
        spans = [Span(0, 6, "ACTOR"), Span(16, 20, "LOCATION"), Span(25, 33, "ATTRIBUTION"), Span(39, 48, "CASUALTY", "killed")]
        ls_client.annotations.create(id=plain["id"], result=spans_to_annotation(spans, text, NAMES)["result"], was_cancelled=False)
        deadline, health = time.monotonic() + 300, {}
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{info.url}/health", timeout=10) as resp:
                health = json.loads(resp.read())
            jobs = health.get("training", {}).get("jobs", [])
            if jobs and jobs[-1]["state"] in ("done", "failed", "skipped") and health["training"]["state"] == "idle":
                break
            time.sleep(1)
        (job,) = [j for j in health["training"]["jobs"] if j["state"] != "skipped"]
        assert job["state"] == "done", job
        # Label Studio asks twice for one submission; a second job on the same documents is skipped
        assert all("those encoder-casing-seed42+train1 was trained on" in j["error"] for j in health["training"]["jobs"] if j["state"] == "skipped")
        assert job["documents"] == 1 and job["model_version"] == health["model_version"] == f"{tiny_predictor.model_version}+train1"
        trained = read_documents(state / "training" / "job0001" / "data" / "train.jsonl")
        assert [(d.id, d.spans) for d in trained] == [("plain", spans)]
        new = load_predictor(job["model_dir"])
        project = find_project(ls_client, project_title)
        assert project["model_version"] == new.model_version and project["sampling"] == "Uncertainty sampling"
        tasks = list_tasks(ls_client, project["id"])
        others = [t for t in tasks if t["id"] != plain["id"]]
        assert len(others) == len(ML_DOCS) - 1
        assert_predictions_are_the_models(others, new)  # the old model's prediction of each was replaced
        (annotated,) = [t for t in tasks if t["id"] == plain["id"]]
        assert [p["model_version"] for p in annotated["predictions"]] == [tiny_predictor.model_version]  # an annotated task is left alone
    finally:
        assert main(["ls", "backend", "stop", "--state-dir", str(state)]) == 0
    assert not ls_server_mod.is_alive(info.pid)


def _listening_addresses(pid: int) -> set[str]:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return {c.laddr.ip for p in procs for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}


def test_server_commands_start_on_loopback_and_stop_by_pid(tmp_path, capsys):
    data_dir = tmp_path / "server"
    template = ls_server_mod.make_template(ls_server_mod.DEFAULT_TEMPLATE_DIR)
    assert main(["ls", "server", "start", "--data-dir", str(data_dir), "--port", "0", "--template", str(template)]) == 0
    assert "http://127.0.0.1:" in capsys.readouterr().out
    info = ls_server_mod.read_server_info(data_dir)
    try:
        with urllib.request.urlopen(f"{info.url}/health", timeout=10) as resp:
            assert json.loads(resp.read())["status"] == "UP"
        assert _listening_addresses(info.pid) == {"127.0.0.1"}
        assert main(["ls", "server", "start", "--data-dir", str(data_dir), "--port", "0"]) == 0  # already running: same server
        assert ls_server_mod.read_server_info(data_dir) == info
    finally:
        assert main(["ls", "server", "stop", "--data-dir", str(data_dir)]) == 0
    assert f"stopped Label Studio pid {info.pid}" in capsys.readouterr().out
    assert not ls_server_mod.is_alive(info.pid) and not (data_dir / "server.pid").exists()
    assert main(["ls", "server", "stop", "--data-dir", str(data_dir)]) == 0
    assert "no server running" in capsys.readouterr().out


def test_venv_script_is_idempotent():
    done = subprocess.run([str(REPO_ROOT / "scripts" / "labelstudio-venv.sh")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"label-studio {ls_server_mod.LS_VERSION} already installed" in done.stdout


def test_template_command_is_idempotent(capsys):
    assert main(["ls", "server", "template"]) == 0
    assert f"template data dir ready: {ls_server_mod.DEFAULT_TEMPLATE_DIR}" in capsys.readouterr().out


def test_server_runs_with_outbound_calls_switched_off(ls_server):
    info, _ = ls_server
    env = psutil.Process(info.pid).environ()
    assert {k: env.get(k) for k in ("LATEST_VERSION_CHECK", "COLLECT_ANALYTICS", "SENTRY_DSN", "FRONTEND_SENTRY_DSN")} == \
        {"LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""}
    procs = [psutil.Process(info.pid), *psutil.Process(info.pid).children(recursive=True)]
    remote = {c.raddr.ip for p in procs for c in p.net_connections(kind="inet") if c.raddr}
    assert remote <= {"127.0.0.1"}, remote


def test_missing_project_is_a_clear_error(ls_connection, tmp_path, capsys):
    assert main(["ls", "pull", *conn_args(ls_connection), "--project", "no-such-project-x", "--output", str(tmp_path / "x.jsonl")]) == 1
    assert "no project titled 'no-such-project-x'" in capsys.readouterr().err


def test_wrong_token_is_a_clear_error(ls_connection, tmp_path, capsys):
    assert main(["ls", "pull", "--url", ls_connection.url, "--token", "0" * 40, "--project", "x", "--output", str(tmp_path / "x.jsonl")]) == 1
    assert "refused the API token" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_backend_stops_on_a_signal_even_when_started_with_sigint_ignored(tiny_model, sig):
    # a background job of a non-interactive shell starts with SIGINT ignored; the backend must still stop
    cmd = [sys.executable, "-u", "-m", "conflict_spans.cli", "ls", "backend", "--model", str(tiny_model), "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        _read_line(proc, "ML backend for model", 120)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class ClauseStub:
    """A stand-in model with fixed spans: "Gunmen" (ACTOR) killed "12 people" (CASUALTY), "the army" said so (ATTRIBUTION)."""

    model_version = "clause-stub"

    def predict_spans(self, text: str) -> list[Span]:
        out = []
        for surface, label, status in (("Gunmen", "ACTOR", None), ("12 people", "CASUALTY", "killed"), ("army", "ATTRIBUTION", None), ("Goma", "LOCATION", None)):
            at = text.find(surface)
            if at >= 0:
                out.append(Span(at, at + len(surface), label, status, 0.9))
        return out


def test_ml_backend_sends_the_linkers_relations_to_label_studio(ls_client, project_title):
    """The backend's relations reach the server and read back as the linker's links between the predicted spans."""
    from conflict_spans.annotation.labelstudio.results import results_to_document
    from conflict_spans.records.linker import RuleLinker

    doc = Document("linked", "Gunmen killed 12 people in Goma on Sunday, the army said.", [], {})
    push_documents(ls_client, project_title, [doc], annotations=False)
    stub, linker = ClauseStub(), RuleLinker()
    server, thread = serve_in_thread(stub, linker=linker)
    try:
        project = require_project(ls_client, project_title)
        connect_ml_backend(ls_client, project["id"], server_url(server))
        retrieve_predictions(ls_client, project["id"])
        tasks = [t for t in list_tasks(ls_client, project["id"]) if t["data"].get("doc_id") == "linked"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    (task,) = tasks
    (pred,) = [p for p in task["predictions"] if p.get("model_version") == stub.model_version]
    spans, relations, problems = results_to_document(pred["result"], doc.text, NAMES, task_id=task["id"], record="linked", keep_scores=True, require_status=False)
    assert problems == []
    expected = linker.link(Document("linked", doc.text, stub.predict_spans(doc.text)))
    as_text = lambda rels: sorted((r.head.text_in(doc.text), r.type, r.tail.text_in(doc.text)) for r in rels)  # noqa: E731
    assert as_text(relations) == as_text(expected) == [("12 people", "location", "Goma"), ("12 people", "perpetrator", "Gunmen"), ("12 people", "source", "army")]
