"""A Label Studio ML backend that serves a trained model's spans as predictions.

It speaks the protocol Label Studio 1.23 uses (``label_studio/ml/api_connector.py``):

- ``GET /health`` (and ``GET /``): ``{"status": "UP", ...}``
- ``POST /setup`` ``{project, schema, hostname, access_token, extra_params}``:
  ``{"model_version": ...}``
- ``POST /predict`` ``{tasks, project, label_config, params}``:
  ``{"results": [{"result": [...], "score": s, "model_version": v}, ...]}``, one
  item per task, in order
- ``POST /webhook`` ``{action, project, ...}``: ``START_TRAINING`` (and the annotation events) queue a
  training job when the backend has a trainer (``--train``); other actions are acknowledged
- ``POST /train``: the same request in Label Studio's older form: ``{"job": N}``
- ``GET /versions``: ``{"versions": [model_version]}``

Training (``learning.OnlineTrainer``) runs in the background: ``/predict`` answers
with the served model meanwhile, and with the retrained one once it is swapped in.

Only the standard library: ``ThreadingHTTPServer`` bound to 127.0.0.1. Results
are shaped by ``results.spans_to_prediction`` with the names of the labeling
config Label Studio sends, so a renamed tag still works. With a linker (the
default linker of ``conflict_spans.records``) and a config with a
``<Relations>`` tag, each prediction also carries the links the linker finds
between the predicted spans.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conflict_spans.annotation.labelstudio.client import SpanPredictor, model_prediction
from conflict_spans.annotation.labelstudio.config import ConfigNames, config_names, schema_names
from conflict_spans.annotation.labelstudio.learning import TRAIN_ACTIONS
from conflict_spans.annotation.labelstudio.server import HOST
from conflict_spans.document import Document
from conflict_spans.problems import CorpusError

log = logging.getLogger(__name__)
DEFAULT_PORT = 9090
MAX_BODY = 64 * 1024 * 1024


class BackendError(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class SpanBackend:
    """The protocol, without HTTP: each method takes the request body and returns the response body."""

    def __init__(self, predictor: SpanPredictor, linker: Any = None):
        self.predictor = predictor
        self.linker = linker  # anything with link(Document) -> relations, or None for spans only
        self.trainer: Any = None  # a learning.OnlineTrainer, or None: a fixed model
        self._lock = threading.Lock()  # one prediction at a time: models are not thread-safe
        self._names: dict[str, ConfigNames] = {}

    def swap(self, predictor: SpanPredictor) -> None:
        """Serve ``predictor`` from the next prediction on (a retrained model)."""
        with self._lock:
            self.predictor = predictor

    def predict_text(self, text: str, names: ConfigNames) -> dict:
        """The served model's prediction of one text, shaped for Label Studio (with the linker's relations)."""
        link = (lambda spans: self.linker.link(Document("", text, spans))) if self.linker is not None and names.relation_values else None
        with self._lock:
            return model_prediction(self.predictor, text, names, link)

    @property
    def model_version(self) -> str:
        return str(self.predictor.model_version)

    def health(self) -> dict:
        body = {"status": "UP", "model_class": type(self.predictor).__name__, "model_version": self.model_version,
                "linker": getattr(self.linker, "name", None)}
        if self.trainer is not None:
            body["training"] = self.trainer.status()
        return body

    def names(self, label_config: str | None) -> ConfigNames:
        if not label_config:
            return schema_names()
        if label_config not in self._names:
            try:
                self._names[label_config] = config_names(label_config)
            except CorpusError as exc:
                raise BackendError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        return self._names[label_config]

    def setup(self, body: dict) -> dict:
        self.names(body.get("schema"))  # fail early on a config without the tags we need
        return {"model_version": self.model_version}

    def predict(self, body: dict) -> dict:
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise BackendError(HTTPStatus.BAD_REQUEST, "request has no 'tasks' list")
        names = self.names(body.get("label_config"))
        results = []
        for task in tasks:
            data = task.get("data") if isinstance(task, dict) else None
            text = data.get(names.text_key) if isinstance(data, dict) else None
            if not isinstance(text, str):
                tid = task.get("id") if isinstance(task, dict) else None
                raise BackendError(HTTPStatus.BAD_REQUEST, f"task {tid}: no string data.{names.text_key} to predict on; import tasks with a {names.text_key!r} field")
            results.append(self.predict_text(text, names))
        return {"results": results, "model_version": self.model_version}

    def webhook(self, body: dict) -> dict:
        action = body.get("action")
        if action not in TRAIN_ACTIONS:
            return {"status": "ignored", "action": action}
        if self.trainer is None:
            log.info("webhook %s ignored: this backend serves a fixed model (start it with --train to retrain)", action)
            return {"status": "ignored", "action": action, "reason": "this backend serves a fixed model; start it with --train to retrain"}
        project = body.get("project")
        project_id = project.get("id") if isinstance(project, dict) else None
        if project_id is not None and project_id != self.trainer.settings.project_id:
            return {"status": "ignored", "action": action, "reason": f"this backend trains on project {self.trainer.settings.project_id}, not {project_id}"}
        job = self._request_training(action)
        return {"status": "queued", "action": action, "job": str(job.job)}

    def train(self, body: dict) -> dict:
        """``POST /train``: Label Studio's older training request; its task list is not needed (the job exports the project)."""
        if self.trainer is None:
            raise BackendError(HTTPStatus.NOT_IMPLEMENTED, "this backend serves a fixed model; start it with `conflict-spans ls backend --train --project TITLE` "
                               "to retrain on submitted annotations")
        return {"job": str(self._request_training("train").job)}

    def _request_training(self, reason: str):
        try:
            return self.trainer.request(reason)
        except RuntimeError as exc:
            raise BackendError(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None

    def versions(self) -> dict:
        return {"versions": [self.model_version]}


def _handler(backend: SpanBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), fmt % args)

        def _send(self, status: HTTPStatus, body: dict) -> None:
            raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise BackendError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {MAX_BODY} bytes")
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw.decode("utf-8") or "{}")
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise BackendError(HTTPStatus.BAD_REQUEST, f"request body is not JSON: {exc}") from None
            if not isinstance(body, dict):
                raise BackendError(HTTPStatus.BAD_REQUEST, "request body must be a JSON object")
            return body

        def _dispatch(self, routes: dict) -> None:
            path = self.path.split("?", 1)[0].rstrip("/") or "/"
            route = routes.get(path)
            if route is None:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no route {self.command} {path}"})
                return
            try:
                status, body = route()
            except BackendError as exc:
                status, body = exc.status, {"error": exc.message}
            except Exception as exc:  # an HTTP server must answer; the traceback goes to the log
                log.exception("%s %s failed", self.command, path)
                status, body = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"}
            self._send(status, body)

        def do_GET(self) -> None:
            self._dispatch({
                "/": lambda: (HTTPStatus.OK, backend.health()),
                "/health": lambda: (HTTPStatus.OK, backend.health()),
                "/versions": lambda: (HTTPStatus.OK, backend.versions()),
                "/metrics": lambda: (HTTPStatus.OK, {}),
            })

        def do_POST(self) -> None:
            self._dispatch({
                "/setup": lambda: (HTTPStatus.OK, backend.setup(self._body())),
                "/predict": lambda: (HTTPStatus.OK, backend.predict(self._body())),
                "/webhook": lambda: (HTTPStatus.OK, backend.webhook(self._body())),
                "/train": lambda: (HTTPStatus.OK, backend.train(self._body())),
            })

    return Handler


def make_server(predictor: SpanPredictor, *, port: int = DEFAULT_PORT, linker: Any = None) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1:``port`` (0 picks a free port); call ``serve_forever()``. ``server.backend`` is its ``SpanBackend``."""
    backend = SpanBackend(predictor, linker)
    server = ThreadingHTTPServer((HOST, port), _handler(backend))
    server.daemon_threads = True
    server.backend = backend
    return server


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def serve_in_thread(predictor: SpanPredictor, *, port: int = 0, linker: Any = None) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start the backend in a daemon thread; stop it with ``server.shutdown(); server.server_close()``."""
    server = make_server(predictor, port=port, linker=linker)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="ls-ml-backend", daemon=True)
    thread.start()
    return server, thread
