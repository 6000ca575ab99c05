"""Online learning for the ML backend: retrain on a project's submitted annotations in the background.

Label Studio 1.23 asks a backend to train in two ways, both accepted:

- ``POST /webhook {"action": "START_TRAINING", "project": {...}}``: sent when
  "Start model training on annotation submission" is on (the project's
  ``min_annotations_to_start_training``: every N-th annotation of the project)
  and by the Start Training button of the project's Model settings;
- ``POST /train`` (Label Studio builds without the webhook flag), and the
  ``ANNOTATION_CREATED`` / ``ANNOTATION_UPDATED`` / ``ANNOTATIONS_CREATED``
  webhooks of a project webhook pointed at ``/webhook``.

A request only queues a job and answers at once. One job runs at a time, in a
background thread; requests that arrive while it runs are merged into one next
job (a burst of submissions trains once more, not once per submission). A job:

1. exports the project and takes each task's latest annotation, as
   ``ls pull --policy latest --skip-invalid`` does (invalid annotations are set
   aside and counted; documents whose id is in the validation file are left out);
2. fine-tunes the model the backend was started with on all those documents
   (not the last job's model, so that early annotations are not trained on
   again and again) with ``train.py`` in a child
   process (``python -m conflict_spans.model.train``: its own memory and
   threads), selecting nothing and scoring on the validation file. A job whose
   documents are exactly those the last model was trained on is skipped (Label
   Studio asks twice for one submission: it saves the annotation twice);
3. swaps the new model in: ``/predict`` goes on answering with the old model
   throughout and uses the new one from the next request;
4. refreshes the predictions of the tasks nobody has annotated (the served
   model's earlier prediction of each is replaced) and sets the project's
   ``model_version`` to the new one, so that pre-annotations and uncertainty
   sampling follow the new model.

Each job's data, log and model are kept in ``WORK_DIR/jobNNNN``; ``/health``
reports the state and the last jobs. A failed job leaves the served model as it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from conflict_spans.annotation.labelstudio.backend_process import _log_tail
from conflict_spans.annotation.labelstudio.client import _dump, call, export_tasks, list_tasks, project_names, users_by_id
from conflict_spans.annotation.labelstudio.tasks import pull_documents
from conflict_spans.corpus.io import atomic_write_text, dumps_jsonl, read_documents

log = logging.getLogger(__name__)
TRAIN_ACTIONS = ("START_TRAINING", "ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED")
VERSION_MARK = "+train"  # model_version of job N: <the first served model's version>+train<N>
KEEP_JOBS = 20  # job records /health reports


@dataclass
class TrainSettings:
    """How the backend retrains; the CLI's ``--train-*`` options."""

    project_id: int
    work_dir: Path
    validation: Path  # JSONL scored after each job (train.py's validation split); its documents are never trained on
    epochs: float = 2.0
    learning_rate: float = 1e-4  # a quarter of train.py's from-the-encoder default: this continues a trained model
    seed: int = 42


@dataclass
class Job:
    job: int
    reason: str
    state: str = "queued"  # queued, running, done, skipped, failed
    started: float | None = None
    seconds: float | None = None
    documents: int | None = None  # trained on
    rejected: int | None = None  # annotations set aside as invalid (see the job's rejected.jsonl)
    held_out: int | None = None  # annotated documents left out because the validation file has them
    validation_micro_f1: float | None = None
    model_dir: str | None = None
    model_version: str | None = None
    refreshed: int | None = None  # unlabelled tasks whose prediction was replaced
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class OnlineTrainer:
    """Background retraining for a ``SpanBackend`` (``backend.trainer``); ``client()`` makes a Label Studio SDK client."""

    def __init__(self, backend, client: Callable[[], Any], settings: TrainSettings, model_dir: str | Path):
        self.backend = backend
        self.client = client
        self.settings = settings
        self.base_dir = Path(model_dir)  # every job starts from the model the backend was started with
        self.model_dir = Path(model_dir)  # the model served now
        self.root_version = str(backend.model_version).split(VERSION_MARK)[0]
        self.jobs: list[Job] = []
        self._cond = threading.Condition()
        self._queued: Job | None = None
        self._running: Job | None = None
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen | None = None
        self._closed = False
        self._next = self._first_job_number()
        self._trained_on: tuple[str, str] | None = None  # (digest of the last job's train.jsonl, the version it made)

    def _first_job_number(self) -> int:
        """After the last job folder of an earlier run in the same work dir: a restarted backend never overwrites a model."""
        numbers = [int(p.name[3:]) for p in self.settings.work_dir.glob("job[0-9]*") if p.name[3:].isdigit()]
        return max(numbers, default=0) + 1

    # ---- requests -------------------------------------------------------------------

    def request(self, reason: str) -> Job:
        """Queue a job and return at once: the queued job, or the one already waiting (requests merge)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the backend is stopping")
            if self._queued is None:
                self._queued = Job(self._next, reason)
                self._next += 1
                self.jobs.append(self._queued)
                del self.jobs[:-KEEP_JOBS]
            elif reason not in self._queued.reason.split(", "):
                self._queued.reason += f", {reason}"
            job = self._queued
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="ls-backend-training", daemon=True)
                self._thread.start()
            return job

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._queued is None or self._closed:
                    self._thread = None
                    self._cond.notify_all()
                    return
                job, self._queued = self._queued, None
                self._running = job
            try:
                self.run(job)
            except Exception as exc:  # a failed job must not end the loop: the backend keeps serving the model it has
                log.exception("training job %d failed", job.job)
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                job.seconds = round(time.time() - (job.started or time.time()), 1)
                with self._cond:
                    self._running = None
                log.info("training job %d %s: %s", job.job, job.state, json.dumps(job.summary()))

    def status(self) -> dict[str, Any]:
        with self._cond:
            state = "training" if self._running is not None else ("queued" if self._queued is not None else "idle")
            return {"state": state, "model_dir": str(self.model_dir), "work_dir": str(self.settings.work_dir),
                    "jobs": [j.summary() for j in self.jobs]}

    def wait_idle(self, timeout: float) -> bool:
        """True once no job runs or waits (for tests and for a clean stop); False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking jobs, end a running training process, wait for the thread."""
        with self._cond:
            self._closed = True
            self._queued = None
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.wait_idle(timeout)

    # ---- one job ----------------------------------------------------------------------

    def run(self, job: Job) -> None:
        job.state, job.started = "running", time.time()
        folder = self.settings.work_dir / f"job{job.job:04d}"
        if folder.exists():  # a job folder is never reused: a number taken by another backend in the same work dir
            shutil.rmtree(folder)
        data = folder / "data"
        data.mkdir(parents=True)
        ls = self.client()
        project = _dump(call("read the project", ls.projects.get, id=self.settings.project_id))
        names = project_names(project)
        pulled, counts = pull_documents(export_tasks(ls, project["id"]), names, users_by_id(ls), policy="latest", skip_invalid=True)
        if counts.rejected:
            (folder / "rejected.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in counts.rejected), encoding="utf-8")
        held = {d.id for d in read_documents(self.settings.validation)}
        docs = [p.document for p in pulled if p.document.id not in held]
        job.rejected, job.held_out, job.documents = len(counts.rejected), len(pulled) - len(docs), len(docs)
        if not docs:
            job.state = "skipped"
            job.error = "no annotated document to train on" + (f" ({job.held_out} held out: in the validation file)" if job.held_out else "")
            return
        train_jsonl = dumps_jsonl(docs)
        digest = hashlib.sha256(train_jsonl.encode("utf-8")).hexdigest()
        if self._trained_on is not None and self._trained_on[0] == digest:
            # Label Studio asks more than once per submission (the annotation is saved twice), and Start Training may be pressed twice
            job.state, job.error = "skipped", f"the annotated documents are those {self._trained_on[1]} was trained on"
            shutil.rmtree(folder)
            return
        atomic_write_text(data / "train.jsonl", train_jsonl)
        shutil.copyfile(self.settings.validation, data / "validation.jsonl")
        out = folder / "model"
        self.train(data, out, folder / "train.log")
        version = f"{self.root_version}{VERSION_MARK}{job.job}"
        settings_file = out / "predict_config.json"
        predict_settings = json.loads(settings_file.read_text(encoding="utf-8"))
        settings_file.write_text(json.dumps({**predict_settings, "model_version": version}, indent=1) + "\n", encoding="utf-8")
        job.validation_micro_f1 = json.loads((out / "metrics.json").read_text(encoding="utf-8")).get("validation_micro_f1")

        from conflict_spans.model.predict import load_predictor

        old_version = self.backend.model_version
        self.backend.swap(load_predictor(out))
        self.model_dir, job.model_dir, job.model_version = out, str(out), version
        self._trained_on = (digest, version)
        job.refreshed = self.refresh(ls, project, names, old_version)
        job.state = "done"

    def train_command(self, data: Path, out: Path) -> list[str]:
        """train.py continuing from the model the backend was started with (not the last job's: every job's model is that
        model plus all the annotations so far, so early annotations are not trained on again job after job), with its
        windows, casing and decoding."""
        settings = json.loads((self.base_dir / "predict_config.json").read_text(encoding="utf-8"))
        config = json.loads((self.base_dir / "config.json").read_text(encoding="utf-8"))
        s = self.settings
        return [sys.executable, "-m", "conflict_spans.model.train", "--model-name-or-path", str(self.base_dir), "--data-dir", str(data),
                "--output-dir", str(out), "--casing-features", str(bool(config.get("casing_features"))).lower(),
                "--max-length", str(settings.get("max_length", 128)), "--predict-stride", str(settings.get("stride", 8)),
                "--decoding", str(settings.get("decoding", "viterbi")), "--num-train-epochs", str(s.epochs), "--learning-rate", str(s.learning_rate),
                "--seed", str(s.seed), "--eval-strategy", "no", "--save-strategy", "no", "--load-best-model-at-end", "false",
                "--disable-tqdm", "true"]

    def train(self, data: Path, out: Path, log_file: Path) -> None:
        cmd = self.train_command(data, out)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        with open(log_file, "wb") as sink, self._cond:
            if self._closed:
                raise RuntimeError("the backend is stopping")
            self._proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            code = self._proc.wait()
        finally:
            self._proc = None
        if code:
            raise RuntimeError(f"train.py exited with code {code}; last lines of {log_file}:\n{_log_tail(log_file, 15)}")

    def refresh(self, ls, project: dict, names, old_version: str) -> int:
        """Replace the served model's earlier prediction of every task without an annotation; point the project at the new version."""
        refreshed = 0
        for task in list_tasks(ls, project["id"]):
            if task.get("annotations") or task.get("total_annotations"):
                continue
            text = (task.get("data") or {}).get(names.text_key)
            if not isinstance(text, str):
                continue
            prediction = self.backend.predict_text(text, names)
            for old in task.get("predictions") or []:
                if isinstance(old, dict) and old.get("model_version") == old_version:
                    call(f"delete prediction {old.get('id')}", ls.predictions.delete, id=old["id"])
            call(f"add a prediction to task {task['id']}", ls.predictions.create, task=task["id"], result=prediction["result"],
                 score=prediction.get("score"), model_version=prediction["model_version"])
            refreshed += 1
        call("set the project's model version", ls.projects.update, id=project["id"], model_version=self.backend.model_version)
        return refreshed


__all__ = ["OnlineTrainer", "TrainSettings", "Job", "TRAIN_ACTIONS"]
