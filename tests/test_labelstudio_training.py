"""The ML backend's online learning without a Label Studio server: jobs queue without blocking /predict, requests merge,
a job trains on the project's latest annotations, swaps the model in and refreshes unannotated tasks; bad --train options.

The same loop against a real server (an annotation submitted through the SDK starts it) is in test_labelstudio_integration.py.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from conflict_spans.annotation.labelstudio import learning
from conflict_spans.annotation.labelstudio.config import labeling_config_xml, schema_names
from conflict_spans.annotation.labelstudio.learning import OnlineTrainer, TrainSettings
from conflict_spans.annotation.labelstudio.ml_backend import serve_in_thread, server_url
from conflict_spans.annotation.labelstudio.results import spans_to_annotation
from conflict_spans.cli import main
from conflict_spans.corpus.io import read_documents, write_jsonl
from conflict_spans.document import Document, Span

from test_labelstudio_ml_backend import request

NAMES = schema_names()
PROJECT_ID = 7


class StubPredictor:
    def __init__(self, version: str = "stub-1"):
        self.model_version = version

    def predict_spans(self, text: str) -> list[Span]:
        return [Span(0, text.index(" "), "ACTOR", None, 0.9)]


class GatedTrainer(OnlineTrainer):
    """A trainer whose job waits for the test's go (no model is trained): what the backend does while a job runs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started = threading.Event()
        self.go = threading.Event()
        self.ran: list[str] = []
        self.fail = False

    def run(self, job):
        job.state = "running"
        self.ran.append(job.reason)
        self.started.set()
        assert self.go.wait(30)
        if self.fail:
            raise RuntimeError("train.py exited with code 1")
        self.backend.swap(StubPredictor(f"stub-1+train{job.job}"))
        job.state = "done"


@pytest.fixture
def gated(tmp_path):
    server, thread = serve_in_thread(StubPredictor())
    settings = TrainSettings(project_id=PROJECT_ID, work_dir=tmp_path / "training", validation=tmp_path / "validation.jsonl")
    trainer = GatedTrainer(server.backend, lambda: None, settings, tmp_path / "model")
    server.backend.trainer = trainer
    yield server_url(server), trainer
    trainer.go.set()
    trainer.close()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def start_training(url):
    return request(url, "/webhook", {"action": "START_TRAINING", "project": {"id": PROJECT_ID, "title": "p"}})


def test_predict_answers_while_a_job_runs_and_requests_merge_into_one_next_job(gated):
    url, trainer = gated
    assert start_training(url) == (200, {"status": "queued", "action": "START_TRAINING", "job": "1"})
    assert trainer.started.wait(30)
    # the job runs: /predict still answers, with the model served before the job
    status, body = request(url, "/predict", {"tasks": [{"id": 1, "data": {"text": "Gunmen killed 12 people."}}], "label_config": labeling_config_xml()})
    assert status == 200 and body["results"][0]["model_version"] == "stub-1"
    assert request(url, "/health")[1]["training"]["state"] == "training"
    # three more requests while it runs become one next job
    assert start_training(url)[1]["job"] == "2"
    assert request(url, "/train", {"annotations": []}) == (200, {"job": "2"})
    assert request(url, "/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": PROJECT_ID}})[1]["job"] == "2"
    trainer.go.set()
    assert trainer.wait_idle(30)
    assert trainer.ran == ["START_TRAINING", "START_TRAINING, train, ANNOTATION_CREATED"]
    health = request(url, "/health")[1]
    assert health["model_version"] == "stub-1+train2" and health["training"]["state"] == "idle"
    assert [(j["job"], j["state"]) for j in health["training"]["jobs"]] == [(1, "done"), (2, "done")]
    status, body = request(url, "/predict", {"tasks": [{"id": 1, "data": {"text": "Gunmen killed 12 people."}}], "label_config": labeling_config_xml()})
    assert body["results"][0]["model_version"] == "stub-1+train2"


def test_a_failed_job_keeps_the_served_model_and_the_next_request_runs(gated):
    url, trainer = gated
    trainer.fail = True
    start_training(url)
    trainer.go.set()
    assert trainer.wait_idle(30)
    health = request(url, "/health")[1]
    assert health["model_version"] == "stub-1"
    assert health["training"]["jobs"][0]["state"] == "failed" and "exited with code 1" in health["training"]["jobs"][0]["error"]
    trainer.fail = False
    start_training(url)
    assert trainer.wait_idle(30) and request(url, "/health")[1]["model_version"] == "stub-1+train2"


def test_requests_for_another_project_or_other_events_are_ignored(gated):
    url, trainer = gated
    status, body = request(url, "/webhook", {"action": "START_TRAINING", "project": {"id": PROJECT_ID + 1}})
    assert status == 200 and body["status"] == "ignored" and f"project {PROJECT_ID}, not {PROJECT_ID + 1}" in body["reason"]
    assert request(url, "/webhook", {"action": "TASKS_DELETED", "project": {"id": PROJECT_ID}})[1]["status"] == "ignored"
    assert trainer.jobs == [] and not trainer.started.is_set()


def test_a_stopping_backend_refuses_new_jobs(gated):
    url, trainer = gated
    trainer.close()
    status, body = start_training(url)
    assert status == 503 and "stopping" in body["error"]


def test_job_numbers_continue_after_an_earlier_run_in_the_same_folder(tmp_path):
    (tmp_path / "training" / "job0004").mkdir(parents=True)
    server, thread = serve_in_thread(StubPredictor())
    try:
        trainer = OnlineTrainer(server.backend, lambda: None, TrainSettings(PROJECT_ID, tmp_path / "training", tmp_path / "v.jsonl"), tmp_path)
        assert trainer._next == 5
    finally:
        server.shutdown()
        server.server_close()


# ---- one real job on the tiny model, with a stand-in for the Label Studio client --------------------------------------

class FakeLabelStudio:
    """The few SDK calls a job makes, over task dicts in Label Studio's export layout."""

    def __init__(self, tasks: list[dict]):
        self.tasks = tasks
        self.created: list[dict] = []
        self.deleted: list[int] = []
        self.project_updates: list[dict] = []
        self.projects = SimpleNamespace(get=lambda id: {"id": id, "title": "p", "label_config": labeling_config_xml()},
                                        update=lambda id, **kw: self.project_updates.append({"id": id, **kw}))
        self.predictions = SimpleNamespace(create=lambda **kw: self.created.append(kw), delete=lambda id: self.deleted.append(id))


def task(tid: int, doc: Document, annotated: bool, prediction_version: str) -> dict:
    t = {"id": tid, "data": {"text": doc.text, "doc_id": doc.id, "meta": {}}, "annotations": [], "total_annotations": 0,
         "predictions": [{"id": 100 + tid, "model_version": prediction_version, "result": []}, {"id": 200 + tid, "model_version": "someone-else", "result": []}]}
    if annotated:
        t["annotations"] = [{"id": 10 + tid, "completed_by": 1, "updated_at": "2026-12-04T10:00:00Z", **spans_to_annotation(doc.spans, doc.text, NAMES)}]
        t["total_annotations"] = 1
    return t


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from support import make_tiny_model

    return Path(make_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model", epochs=5))


def test_a_job_trains_on_the_latest_annotations_swaps_the_model_and_refreshes_unannotated_tasks(tiny_model, tmp_path, monkeypatch):
    from conflict_spans.model.predict import load_predictor

    from support import tiny_documents

    docs = tiny_documents()
    validation = tmp_path / "validation.jsonl"
    write_jsonl(validation, docs[3:])
    served = load_predictor(tiny_model)
    tasks = [task(1, docs[0], True, served.model_version), task(2, docs[1], False, served.model_version),
             task(3, docs[3], True, served.model_version)]  # docs[3] is in the validation file: held out
    fake = FakeLabelStudio(tasks)
    monkeypatch.setattr(learning, "export_tasks", lambda ls, pid: fake.tasks)
    monkeypatch.setattr(learning, "list_tasks", lambda ls, pid: fake.tasks)
    monkeypatch.setattr(learning, "users_by_id", lambda ls: {1: "ann@example.org"})
    server, thread = serve_in_thread(served)
    try:
        settings = TrainSettings(PROJECT_ID, tmp_path / "training", validation, epochs=1)
        trainer = OnlineTrainer(server.backend, lambda: fake, settings, tiny_model)
        server.backend.trainer = trainer
        assert "--model-name-or-path" in (cmd := trainer.train_command(tmp_path, tmp_path / "out")) and cmd[cmd.index("--model-name-or-path") + 1] == str(tiny_model)
        assert cmd[cmd.index("--max-length") + 1] == "64" and cmd[cmd.index("--casing-features") + 1] == "true"
        trainer.request("START_TRAINING")
        assert trainer.wait_idle(300)
        job = trainer.jobs[0]
        assert job.state == "done", job.error
        version = f"{served.model_version}+train1"
        assert (job.documents, job.held_out, job.rejected, job.refreshed) == (1, 1, 0, 1)
        assert [d.id for d in read_documents(tmp_path / "training" / "job0001" / "data" / "train.jsonl")] == [docs[0].id]
        assert request(server_url(server), "/health")[1]["model_version"] == version == job.model_version
        assert trainer.model_dir == tmp_path / "training" / "job0001" / "model"
        cmd = trainer.train_command(tmp_path, tmp_path / "out")  # the next job starts from the first model again, not from job 1's
        assert cmd[cmd.index("--model-name-or-path") + 1] == str(tiny_model)
        # the unannotated task's prediction by the served model is replaced; the other model's prediction is kept
        assert fake.deleted == [102]
        assert [(c["task"], c["model_version"]) for c in fake.created] == [(2, version)]
        assert fake.project_updates == [{"id": PROJECT_ID, "model_version": version}]
        assert 0 <= job.validation_micro_f1 <= 1
        # asked again with the same annotations (Label Studio asks twice per submission): nothing is retrained
        trainer.request("START_TRAINING")
        assert trainer.wait_idle(60)
        assert trainer.jobs[1].state == "skipped" and f"those {version} was trained on" in trainer.jobs[1].error
        assert len(fake.created) == 1 and server.backend.model_version == version and not (tmp_path / "training" / "job0002").exists()
    finally:
        trainer.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_job_with_nothing_annotated_is_skipped(tiny_model, tmp_path, monkeypatch):
    from conflict_spans.model.predict import load_predictor

    from support import tiny_documents

    docs = tiny_documents()
    write_jsonl(tmp_path / "validation.jsonl", docs[3:])
    fake = FakeLabelStudio([task(1, docs[0], False, "x")])
    monkeypatch.setattr(learning, "export_tasks", lambda ls, pid: fake.tasks)
    monkeypatch.setattr(learning, "users_by_id", lambda ls: {})
    server, thread = serve_in_thread(load_predictor(tiny_model))
    try:
        trainer = OnlineTrainer(server.backend, lambda: fake, TrainSettings(PROJECT_ID, tmp_path / "t", tmp_path / "validation.jsonl"), tiny_model)
        trainer.request("START_TRAINING")
        assert trainer.wait_idle(60)
        assert trainer.jobs[0].state == "skipped" and "no annotated document" in trainer.jobs[0].error
        assert fake.created == [] and fake.project_updates == []
    finally:
        server.shutdown()
        server.server_close()


# ---- bad --train options: refused before a model is loaded or a server is asked ----------------------------------------

def run_backend(args, capsys):
    code = main(["ls", "backend", "--model", "no-such-model", "--url", "http://127.0.0.1:9", "--token", "t", *args])
    return code, capsys.readouterr().err


def test_train_without_a_project_is_refused(capsys):
    code, err = run_backend(["--train"], capsys)
    assert code != 0 and "`ls backend --train` needs --project" in err and "--project TITLE" in err


@pytest.mark.parametrize("option, value, fragment", [("--train-epochs", "0.0", "is not above 0"), ("--train-learning-rate", "-1.0", "is not above 0"),
                                                     ("--train-every", "-2", "is below 0")])
def test_train_numbers_out_of_range_are_refused(option, value, fragment, capsys):
    code, err = run_backend(["--train", "--project", "p", option, value], capsys)
    assert code != 0 and f"`ls backend {option}` {fragment}" in err and repr(value) in err


def test_train_validation_that_is_missing_is_refused(tmp_path, capsys):
    missing = tmp_path / "nope.jsonl"
    code, err = run_backend(["--train", "--project", "p", "--train-validation", str(missing)], capsys)
    assert code != 0 and "names no file" in err and str(missing) in err


def test_train_validation_with_a_bad_record_is_refused_naming_its_line(tmp_path, capsys):
    bad = tmp_path / "validation.jsonl"
    bad.write_text('{"id": "a", "text": "x", "spans": []}\nnot json\n', encoding="utf-8")
    code, err = run_backend(["--train", "--project", "p", "--train-validation", str(bad)], capsys)
    assert code != 0 and f"{bad}:2" in err
