"""Talking to a Label Studio server through the SDK: projects, push, export, ML backends.

Every SDK failure is turned into a ``CorpusError`` that says what was refused
and what to do (``conflict_spans.problems``); nothing here prints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from conflict_spans import problems as catalogue
from conflict_spans.annotation.labelstudio.config import ConfigNames, config_names, labeling_config_xml
from conflict_spans.annotation.labelstudio.results import spans_to_annotation, spans_to_prediction
from conflict_spans.annotation.labelstudio.server import DEFAULT_DATA_DIR, read_credentials, read_server_info
from conflict_spans.annotation.labelstudio.tasks import document_to_task_data, task_doc_id
from conflict_spans.document import Document, Span, check_spans
from conflict_spans.problems import CorpusError, Problem

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
IMPORT_BATCH = 200
# Problems a pushed document may not have: pulling it back would fail on them.
BLOCKING_SPAN_PROBLEMS = frozenset({"unknown-label", "status", "overlap", "line-break"})  # line-break: spec G10


class SpanPredictor(Protocol):
    model_version: str

    def predict_spans(self, text: str) -> list[Span]: ...


@dataclass(frozen=True)
class Connection:
    url: str
    token: str


def resolve_connection(url: str | None = None, token: str | None = None, data_dir: Path = DEFAULT_DATA_DIR) -> Connection:
    """--url/--token, else $LABEL_STUDIO_URL/$LABEL_STUDIO_API_KEY, else the server started from ``data_dir``."""
    url = url or os.environ.get(ENV_URL)
    if not url:
        info = read_server_info(data_dir)
        if info is None:
            raise CorpusError(catalogue.no_server_url())
        url = info.url
    token = token or os.environ.get(ENV_API_KEY)
    if not token:
        stored = read_credentials(data_dir)
        if stored is None:
            raise CorpusError(catalogue.no_token(url))
        token = stored.token
    return Connection(url.rstrip("/"), token)


def call(action: str, fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Run one SDK call; turn its failure into an error that names the action and the server's answer."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        return fn(*args, **kwargs)
    except ApiError as exc:
        body = exc.body if isinstance(exc.body, str) else json.dumps(exc.body, ensure_ascii=False, default=str)
        raise CorpusError(catalogue.api_failed(action, exc.status_code, body)) from None
    except httpx.HTTPError as exc:
        raise CorpusError(catalogue.api_failed(action, "-", f"{type(exc).__name__}: {exc}")) from None


def connect(conn: Connection):
    """An SDK client whose server answers and accepts the token."""
    import httpx
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    try:
        httpx.get(f"{conn.url}/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise CorpusError(catalogue.unreachable(conn.url, f"{type(exc).__name__}: {exc}")) from None
    client = LabelStudio(base_url=conn.url, api_key=conn.token, timeout=300)
    try:
        client.users.whoami()
    except ApiError as exc:
        if exc.status_code in (401, 403):
            raise CorpusError(catalogue.unauthorized(conn.url, exc.status_code)) from None
        raise CorpusError(catalogue.api_failed("read the current user", exc.status_code, str(exc.body))) from None
    return client


def _dump(obj: Any) -> dict:
    return obj if isinstance(obj, dict) else obj.model_dump(mode="json")


# ---- projects ----------------------------------------------------------------------

def find_project(ls, title: str) -> dict | None:
    found = [_dump(p) for p in call("list projects", lambda: list(ls.projects.list(title=title))) if p.title == title]
    if len(found) > 1:
        raise CorpusError(catalogue.project_ambiguous(title, [p["id"] for p in found]))
    return found[0] if found else None


def require_project(ls, title: str) -> dict:
    project = find_project(ls, title)
    if project is None:
        raise CorpusError(catalogue.project_not_found(title))
    return call("read the project", lambda: _dump(ls.projects.get(id=project["id"])))


def project_names(project: dict) -> ConfigNames:
    return config_names(project.get("label_config") or "")


def ensure_project(ls, title: str, *, description: str = "", update_config: bool = False) -> tuple[dict, bool]:
    """The project titled ``title`` with the schema's labeling config; created when missing."""
    xml = labeling_config_xml()
    project = find_project(ls, title)
    if project is None:
        created = call("create the project", ls.projects.create, title=title, description=description, label_config=xml)
        return _dump(created), True
    project = call("read the project", lambda: _dump(ls.projects.get(id=project["id"])))
    current = project.get("label_config") or ""
    if current.strip() != xml.strip():
        try:
            theirs = config_names(current)
        except CorpusError:
            theirs = None
        if theirs != config_names(xml):
            if not update_config:
                raise CorpusError(catalogue.config_mismatch(title, "tag names, labels or status values differ"))
            call("update the labeling config", ls.projects.update, id=project["id"], label_config=xml)
            project["label_config"] = xml
    return project, False


def list_tasks(ls, project_id: int) -> list[dict]:
    """All tasks of a project with annotations and predictions."""
    return [_dump(t) for t in call("list tasks", lambda: list(ls.tasks.list(project=project_id, fields="all", page_size=500)))]


def export_tasks(ls, project_id: int) -> list[dict]:
    """Every task (annotated or not) in Label Studio's JSON export: annotations, expanded drafts, prediction ids."""
    raw = call("export the project", lambda: b"".join(ls.projects.exports.download_sync(project_id, export_type="JSON", download_all_tasks=True)))
    return json.loads(raw.decode("utf-8"))


def users_by_id(ls) -> dict[int, str]:
    return {u.id: (u.email or u.username) for u in call("list users", lambda: list(ls.users.list()))}


# ---- push --------------------------------------------------------------------------

@dataclass
class PushReport:
    project_id: int = 0
    project_created: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    annotations_added: int = 0
    annotations_kept: int = 0  # existing tasks whose annotations were left untouched
    predictions_added: int = 0
    predictions_replaced: int = 0
    task_ids: dict[str, int] = field(default_factory=dict)

    def summary(self) -> list[str]:
        verb = "created" if self.project_created else "found"
        return [
            f"project {self.project_id} {verb}",
            f"tasks: {self.created} new, {self.updated} updated, {self.unchanged} unchanged, {self.skipped} skipped (already there; --on-existing update refreshes them)",
            f"annotations: {self.annotations_added} added, {self.annotations_kept} task(s) kept their existing annotations",
            f"predictions: {self.predictions_added} added, {self.predictions_replaced} replaced (same model_version)",
        ]


def check_push_documents(docs: list[Document], *, with_spans: bool) -> None:
    """Refuse input that could not come back: duplicate ids, and (with spans) unknown labels, bad status, overlaps."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            problems.append(catalogue.duplicate_input(doc.id))
        seen.add(doc.id)
        if with_spans:
            problems += [p for p in check_spans(doc) if p.code in BLOCKING_SPAN_PROBLEMS]
    if problems:
        raise CorpusError(problems)


def model_prediction(predictor: SpanPredictor, text: str, names: ConfigNames, relations_of=None) -> dict:
    """The model's prediction of ``text``; its ``score`` is the document's confidence where the predictor gives one
    (``predict_spans_with_confidence``: low means unsure, and Label Studio's uncertainty sampling serves the lowest first),
    else the mean span score. ``relations_of(spans)`` links the spans (the ML backend's linker)."""
    confidence = None
    if hasattr(predictor, "predict_spans_with_confidence"):
        spans, confidence = predictor.predict_spans_with_confidence(text)
    else:
        spans = predictor.predict_spans(text)
    prediction = spans_to_prediction(spans, text, names, predictor.model_version, relations_of(spans) if relations_of else ())
    if confidence is not None:
        prediction["score"] = round(float(confidence), 6)
    return prediction


def _predictions_for(doc: Document, names: ConfigNames, predictor: SpanPredictor | None, spans_model_version: str | None) -> list[dict]:
    out = []
    if spans_model_version is not None:
        out.append(spans_to_prediction(doc.spans, doc.text, names, spans_model_version, doc.relations))
    if predictor is not None:
        out.append(model_prediction(predictor, doc.text, names))
    return out


def push_documents(
    ls,
    title: str,
    docs: Iterable[Document],
    *,
    annotations: bool = True,
    spans_model_version: str | None = None,
    predictor: SpanPredictor | None = None,
    on_existing: str = "skip",
    update_config: bool = False,
    description: str = "",
) -> PushReport:
    """Create or update the project ``title`` and import ``docs`` as tasks, keyed by document id.

    ``annotations``: the documents' spans become an annotation of each new task.
    ``spans_model_version``: the documents' spans become a prediction with this model_version.
    ``predictor``: its spans become a prediction with its model_version.
    Existing tasks (same ``data.doc_id``) are skipped, or with ``on_existing="update"``
    get the new metadata and their predictions of the same model_version replaced;
    their annotations are never touched. Every check runs before the first write.
    """
    if on_existing not in ("skip", "update"):
        raise ValueError(f"on_existing must be 'skip' or 'update', not {on_existing!r}")
    docs = list(docs)
    check_push_documents(docs, with_spans=annotations or spans_model_version is not None)
    project, created = ensure_project(ls, title, description=description, update_config=update_config)
    names = project_names(project)
    report = PushReport(project_id=project["id"], project_created=created)
    existing: dict[str, list[dict]] = {}
    for task in ([] if created else list_tasks(ls, project["id"])):
        doc_id = task_doc_id(task)
        if doc_id is not None:
            existing.setdefault(doc_id, []).append(task)

    # plan: every check before the first write
    problems: list[Problem] = []
    new_docs: list[Document] = []
    updates: list[tuple[Document, dict]] = []
    for doc in docs:
        tasks = existing.get(doc.id, [])
        if len(tasks) > 1:
            problems.append(catalogue.duplicate_document(doc.id, [t["id"] for t in tasks]))
        elif not tasks:
            new_docs.append(doc)
        elif on_existing == "skip":
            report.skipped += 1
            report.task_ids[doc.id] = tasks[0]["id"]
        else:
            task = tasks[0]
            n_ann = len(task.get("annotations") or [])
            if task["data"].get(names.text_key) != doc.text and n_ann:
                problems.append(catalogue.text_changed(task["id"], doc.id, n_ann))
            updates.append((doc, task))
    if problems:
        raise CorpusError(problems)

    for i in range(0, len(new_docs), IMPORT_BATCH):
        batch = new_docs[i:i + IMPORT_BATCH]
        items = []
        for doc in batch:
            item: dict[str, Any] = {"data": document_to_task_data(doc, names)}
            if annotations:
                item["annotations"] = [spans_to_annotation(doc.spans, doc.text, names, doc.relations)]
            preds = _predictions_for(doc, names, predictor, spans_model_version)
            if preds:
                item["predictions"] = preds
            items.append(item)
        result = _dump(call("import tasks", ls.projects.import_tasks, id=project["id"], request=items, return_task_ids=True))
        ids = result.get("task_ids") or []
        if len(ids) != len(batch):
            raise CorpusError(catalogue.api_failed("import tasks", "-", f"asked for {len(batch)} tasks, got ids {ids}"))
        for doc, tid in zip(batch, ids):
            report.task_ids[doc.id] = tid
        report.created += len(batch)
        report.annotations_added += len(batch) if annotations else 0
        report.predictions_added += sum(len(it.get("predictions", [])) for it in items)

    for doc, task in updates:
        report.task_ids[doc.id] = task["id"]
        data = document_to_task_data(doc, names)
        text_changed = task["data"].get(names.text_key) != doc.text
        changed = any(task["data"].get(k) != v for k, v in data.items())
        if changed:
            call(f"update task {task['id']}", ls.tasks.update, id=str(task["id"]), data={**task["data"], **data})
        preds = _predictions_for(doc, names, predictor, spans_model_version)
        replaced_versions = {p["model_version"] for p in preds}
        for old in task.get("predictions") or []:
            # a new text makes every stored prediction's offsets stale
            if isinstance(old, dict) and (text_changed or old.get("model_version") in replaced_versions):
                call(f"delete prediction {old.get('id')}", ls.predictions.delete, id=old["id"])
                report.predictions_replaced += 1
        for pred in preds:
            call(f"add a prediction to task {task['id']}", ls.predictions.create, task=task["id"], result=pred["result"],
                 score=pred.get("score"), model_version=pred["model_version"])
            report.predictions_added += 1
        if annotations and not task.get("annotations"):
            ann = spans_to_annotation(doc.spans, doc.text, names, doc.relations)
            call(f"add an annotation to task {task['id']}", ls.annotations.create, id=task["id"], result=ann["result"], was_cancelled=False)
            report.annotations_added += 1
        elif annotations:
            report.annotations_kept += 1
        if changed or preds or (annotations and not task.get("annotations")):
            report.updated += 1
        else:
            report.unchanged += 1
    return report


# ---- ML backend -----------------------------------------------------------------------

def connect_ml_backend(ls, project_id: int, url: str, *, title: str = "conflict-spans") -> dict:
    """Attach the ML backend at ``url`` to the project, once.

    A backend with this URL is kept; one with this title but another URL (an
    earlier run on another port) is pointed to ``url``. Label Studio asks only a
    project's first backend for predictions, so a foreign backend attached
    before ours is an error.
    """
    backends = sorted((_dump(b) for b in call("list ML backends", lambda: list(ls.ml.list(project=project_id)))), key=lambda b: b["id"])
    ours = next((b for b in backends if (b.get("url") or "").rstrip("/") == url.rstrip("/")), None)
    if ours is None:
        ours = next((b for b in backends if b.get("title") == title), None)
        if ours is not None:
            ours = _dump(call("update the ML backend", ls.ml.update, id=ours["id"], url=url, project=project_id, title=title))
    if ours is None:
        ours = _dump(call("connect the ML backend", ls.ml.create, project=project_id, url=url, title=title, is_interactive=False))
        backends.append(ours)
    first = backends[0]
    if first["id"] != ours["id"]:
        raise CorpusError(catalogue.foreign_ml_backend(project_id, first.get("title") or "", first.get("url") or ""))
    return ours


def disconnect_ml_backend(ls, backend_id: int) -> None:
    """Remove the ML backend connection ``backend_id`` (its project then lists no backend that is gone)."""
    call("remove the ML backend", ls.ml.delete, id=backend_id)


def retrieve_predictions(ls, project_id: int) -> None:
    """Ask Label Studio to fetch predictions from the project's ML backends for every task."""
    call("retrieve predictions", ls.actions.create, id="retrieve_tasks_predictions", project=project_id,
         selected_items={"all": True, "excluded": []})
