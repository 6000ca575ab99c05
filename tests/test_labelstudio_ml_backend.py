"""The ML backend speaks Label Studio's protocol over HTTP (a stub model here; the real one in the integration test)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from conflict_spans.annotation.labelstudio.config import labeling_config_xml
from conflict_spans.annotation.labelstudio.ml_backend import serve_in_thread, server_url
from conflict_spans.document import Span


class StubPredictor:
    """Same interface as conflict_spans.model.predict.Predictor: the first word is an ACTOR, any "12 people" a CASUALTY."""

    model_version = "stub-1"

    def __init__(self):
        self.calls = []

    def predict_spans(self, text: str) -> list[Span]:
        self.calls.append(text)
        spans = [Span(0, text.index(" "), "ACTOR", None, 0.9)]
        if "12 people" in text:
            i = text.index("12 people")
            spans.append(Span(i, i + 9, "CASUALTY", "killed", 0.7))
        return spans


@pytest.fixture
def backend():
    stub = StubPredictor()
    server, thread = serve_in_thread(stub)
    yield server_url(server), stub
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def request(url, path, body=None, method=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url + path, data=data, method=method or ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_binds_loopback_only(backend):
    url, _ = backend
    assert url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("path", ["/", "/health"])
def test_health(backend, path):
    url, _ = backend
    assert request(url, path) == (200, {"status": "UP", "model_class": "StubPredictor", "model_version": "stub-1", "linker": None})


def test_setup_returns_the_model_version(backend):
    url, _ = backend
    body = {"project": "1.1700000000", "schema": labeling_config_xml(), "hostname": "http://127.0.0.1:8080", "access_token": "x"}
    assert request(url, "/setup", body) == (200, {"model_version": "stub-1"})


def test_predict_returns_one_prediction_per_task_in_order(backend):
    url, stub = backend
    tasks = [{"id": 1, "data": {"text": "Gunmen killed 12 people in Goma."}}, {"id": 2, "data": {"text": "Kyiv said nothing."}}]
    status, body = request(url, "/predict", {"tasks": tasks, "project": "1.1", "label_config": labeling_config_xml(), "params": {}})
    assert status == 200 and body["model_version"] == "stub-1"
    first, second = body["results"]
    assert first["model_version"] == "stub-1" and first["score"] == pytest.approx(0.8)
    assert [(r["type"], r["from_name"], r["value"]["text"]) for r in first["result"]] == [
        ("labels", "label", "Gunmen"), ("labels", "label", "12 people"), ("choices", "status", "12 people")]
    assert [r["value"]["text"] for r in second["result"]] == ["Kyiv"]
    assert stub.calls == [t["data"]["text"] for t in tasks]


def test_predict_uses_the_names_of_the_config_it_is_sent(backend):
    url, _ = backend
    config = labeling_config_xml().replace('name="label"', 'name="ents"').replace('whenTagName="label"', 'whenTagName="ents"').replace('value="$text"', 'value="$body"')
    status, body = request(url, "/predict", {"tasks": [{"id": 1, "data": {"body": "Army shelled Goma."}}], "label_config": config})
    assert status == 200 and body["results"][0]["result"][0]["from_name"] == "ents"


@pytest.mark.parametrize("payload, status, fragment", [
    ({"tasks": [{"id": 5, "data": {"other": "x"}}]}, 400, "task 5: no string data.text"),
    ({"nothing": 1}, 400, "no 'tasks' list"),
    (b"{not json", 400, "not JSON"),
    ({"tasks": [], "label_config": "<View><Text"}, 400, "cannot be read"),
])
def test_bad_predict_requests_get_clear_errors(backend, payload, status, fragment):
    url, _ = backend
    got_status, body = request(url, "/predict", payload)
    assert got_status == status and fragment in body["error"]


def test_without_a_trainer_webhooks_are_acknowledged_and_training_refused(backend):
    url, _ = backend
    status, body = request(url, "/webhook", {"action": "ANNOTATION_CREATED", "annotation": {}})
    assert status == 200 and body["status"] == "ignored" and "--train" in body["reason"]
    assert request(url, "/webhook", {"action": "PROJECT_UPDATED"}) == (200, {"status": "ignored", "action": "PROJECT_UPDATED"})
    status, body = request(url, "/train", {"annotations": []})
    assert status == 501 and "fixed model" in body["error"] and "--train --project" in body["error"]


def test_unknown_route(backend):
    url, _ = backend
    assert request(url, "/nope")[0] == 404


def test_predictions_carry_the_linkers_relations():
    """With the rule linker, a predicted CASUALTY and the ACTOR that killed them come back as a relation result."""
    from conflict_spans.records.linker import RuleLinker

    stub = StubPredictor()
    server, thread = serve_in_thread(stub, linker=RuleLinker())
    try:
        text = "Gunmen killed 12 people on Monday."
        status, body = request(server_url(server), "/predict", {"tasks": [{"id": 1, "data": {"text": text}}], "label_config": labeling_config_xml()})
        assert status == 200
        result = body["results"][0]["result"]
        regions = {r["id"]: r["value"]["text"] for r in result if r["type"] == "labels"}
        relations = [r for r in result if r["type"] == "relation"]
        assert [(regions[r["from_id"]], r["labels"], regions[r["to_id"]]) for r in relations] == [("12 people", ["perpetrator"], "Gunmen")]
        assert all(r["direction"] == "right" for r in relations)
        config_without_relations = labeling_config_xml().replace("<Relations>", "<!--").replace("</Relations>", "-->")
        status, body = request(server_url(server), "/predict", {"tasks": [{"id": 1, "data": {"text": text}}], "label_config": config_without_relations})
        assert status == 200 and not [r for r in body["results"][0]["result"] if r["type"] == "relation"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
