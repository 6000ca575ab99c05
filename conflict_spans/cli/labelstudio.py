"""``conflict-spans ls ...``: the Label Studio loop from the command line.

    ls server start|stop|template   a local Label Studio in .venv-ls, 127.0.0.1 only
    ls config                       write the labeling config generated from the schema
    ls push                         corpus documents or raw texts -> tasks (+ annotations / predictions)
    ls pull                         annotations -> corpus JSONL
    ls agreement                    pairwise span agreement between annotators
    ls backend                      serve a trained model as an ML backend
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from conflict_spans import problems as catalogue
from conflict_spans.problems import CorpusError


def _data_dir_arg(p: argparse.ArgumentParser) -> None:
    from conflict_spans.annotation.labelstudio.server import DEFAULT_DATA_DIR

    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help=f"server data dir: SQLite database, credentials.json, server.pid, server.log (default {DEFAULT_DATA_DIR})")


def _connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="Label Studio URL (default $LABEL_STUDIO_URL, else the server started from --data-dir)")
    p.add_argument("--token", help="API token (default $LABEL_STUDIO_API_KEY, else the data dir's credentials.json)")
    _data_dir_arg(p)


def _client(args: argparse.Namespace):
    from conflict_spans.annotation.labelstudio.client import connect, resolve_connection

    conn = resolve_connection(args.url, args.token, args.data_dir)
    args.url = conn.url
    return connect(conn)


def _info(*lines: str) -> None:
    for line in lines:
        print(line)


# ---- server -----------------------------------------------------------------------

def cmd_server_start(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.server import read_credentials, start_server

    t0 = time.monotonic()
    info = start_server(args.data_dir, port=args.port, venv=args.venv, template=args.template, timeout=args.timeout, database=args.database)
    creds = read_credentials(Path(info.data_dir))
    _info(f"Label Studio {info.url} (pid {info.pid}, data {info.data_dir}) up after {time.monotonic() - t0:.1f} s",
          *([f"database: PostgreSQL {info.database}"] if info.database else []),
          f"log in as {creds.username}; password and API token are in {Path(info.data_dir) / 'credentials.json'}",
          f"stop it with: conflict-spans ls server stop --data-dir {info.data_dir}")
    return 0


def cmd_server_stop(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.server import stop_server

    info = stop_server(args.data_dir)
    _info(f"stopped Label Studio pid {info.pid} ({info.url})" if info else f"no server running from {args.data_dir}")
    return 0


def cmd_server_template(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.server import make_template

    t0 = time.monotonic()
    path = make_template(args.template_dir, venv=args.venv, timeout=args.timeout)
    _info(f"template data dir ready: {path} ({time.monotonic() - t0:.1f} s)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.backup import backup

    info = backup(args.data_dir, Path(args.out), database=args.database)
    _info(f"backed up {info.kind} {info.source} ({', '.join(info.files)}) into {info.path} in {info.seconds:.1f} s")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.backup import restore

    info = restore(Path(args.backup), args.data_dir, database=args.database)
    _info(f"restored the {info.kind} backup of {info.source} ({info.created}) into {info.path} in {info.seconds:.1f} s",
          f"start it with: conflict-spans ls server start --data-dir {info.path}")
    return 0


# ---- config -------------------------------------------------------------------------

def cmd_config(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.config import labeling_config_xml
    from conflict_spans.corpus.io import atomic_write_text

    xml = labeling_config_xml()
    if args.output == "-":
        sys.stdout.write(xml)
        return 0
    path = Path(args.output)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != xml:
            raise CorpusError(catalogue.config_drift(path))
        _info(f"{path} matches the schema")
        return 0
    atomic_write_text(path, xml)
    _info(f"wrote {path}")
    return 0


# ---- push / pull ---------------------------------------------------------------------

def _read_texts(path: Path):
    from conflict_spans.annotation.labelstudio.tasks import text_document_id
    from conflict_spans.document import Document

    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            docs.append(Document(text_document_id(line), line, [], {"source": path.name}))
    return docs


def cmd_push(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.client import push_documents
    from conflict_spans.corpus.io import read_documents

    if bool(args.inputs) == bool(args.texts):
        raise CorpusError(catalogue.push_needs_input())
    annotators = _annotators_arg(args)
    if args.uncertainty_sampling and not args.model:
        raise CorpusError(catalogue.sampling_needs_model())
    if args.texts:
        docs, has_spans = _read_texts(Path(args.texts)), False
    else:
        docs = [d for p in args.inputs for d in read_documents(Path(p))]
        has_spans = True
    if args.limit is not None:
        docs = docs[: args.limit]
    predictor = None
    if args.model:
        from conflict_spans.model.predict import load_predictor

        predictor = load_predictor(args.model)
    ls = _client(args)
    targets = [(args.project, docs)]
    if annotators:
        from conflict_spans.annotation.labelstudio.team import annotator_project, assign

        shares = assign(len(docs), annotators, len(annotators) if args.overlap is None else args.overlap)
        targets = [(annotator_project(args.project, who), [docs[i] for i in shares[who]]) for who in annotators]
    for title, share in targets:
        report = push_documents(
            ls, title, share,
            annotations=has_spans and args.spans_as == "annotations",
            spans_model_version=args.model_version if has_spans and args.spans_as == "predictions" else None,
            predictor=predictor, on_existing=args.on_existing, update_config=args.update_config,
        )
        _info(f"{len(share)} documents -> project {title!r}", *report.summary(), f"open: {args.url}/projects/{report.project_id}/data")
        if args.uncertainty_sampling:
            from conflict_spans.annotation.labelstudio.client import call

            call("set uncertainty sampling", ls.projects.update, id=report.project_id, sampling="Uncertainty sampling",
                 model_version=predictor.model_version)
            _info(f"uncertainty sampling: 'Label All Tasks' serves the tasks whose {predictor.model_version!r} prediction is least confident first")
    if annotators:
        _info(f"blind overlap: each document in {len(annotators) if args.overlap is None else args.overlap} annotator project(s); tell each annotator to open only their own "
              "project (Label Studio's community edition shows every project of the organization to every member)")
    return 0


def _annotators_arg(args: argparse.Namespace) -> list[str]:
    from conflict_spans.annotation.labelstudio.team import assign, check_emails

    if not args.annotators:
        if args.overlap is not None:
            raise CorpusError(catalogue.overlap_without_annotators())
        return []
    annotators = check_emails([a.strip() for a in args.annotators.split(",") if a.strip()])
    assign(0, annotators, len(annotators) if args.overlap is None else args.overlap)  # checks --overlap before any work
    return annotators


def _safe_name(annotator: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", annotator) or "unknown"


def _pull(args: argparse.Namespace, policy: str, annotator: str | None = None):
    from conflict_spans.annotation.labelstudio.client import export_tasks, project_names, require_project, users_by_id
    from conflict_spans.annotation.labelstudio.tasks import pull_documents

    ls = _client(args)
    project = require_project(ls, args.project)
    tasks = export_tasks(ls, project["id"])
    return pull_documents(tasks, project_names(project), users_by_id(ls), policy=policy, annotator=annotator,
                          include_skipped=args.include_skipped, include_drafts=args.include_drafts, id_prefix=args.id_prefix,
                          skip_invalid=getattr(args, "skip_invalid", None) is not None)


def cmd_pull(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.io import atomic_write_many, check_output_file, check_output_folder, dumps_jsonl

    if args.annotator and args.policy == "all":
        raise CorpusError(catalogue.annotator_with_policy_all())
    policy = "annotator" if args.annotator else args.policy
    if policy == "adjudicated":  # the review project of `ls adjudicate`: its tasks with an annotation are the decided documents
        from conflict_spans.annotation.labelstudio.team import REVIEW, annotator_project

        args.project, policy = annotator_project(args.project, REVIEW), "latest"
    out = Path(args.output)
    # before the server is asked; with --policy all, --output is a folder of <annotator>.jsonl files
    if policy == "all":
        check_output_folder(out, option="--output")
    else:
        check_output_file(out, option="--output")
    report = Path(args.skip_invalid) if args.skip_invalid is not None else None
    if report is not None:
        check_output_file(report, option="--skip-invalid")
        if report.resolve() == out.resolve() or (policy == "all" and report.resolve().parent == out.resolve()):
            raise CorpusError(catalogue.report_is_output(report, out))
    pulled, counts = _pull(args, policy, args.annotator)
    report_file = {} if report is None else {report: "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in counts.rejected)}
    if policy == "all":
        by_annotator: dict[str, list] = {}
        for item in pulled:
            by_annotator.setdefault(item.annotator, []).append(item.document)
        by_file: dict[str, list[str]] = {}
        for who in sorted(by_annotator):
            by_file.setdefault(f"{_safe_name(who)}.jsonl", []).append(who)
        clashes = [catalogue.pull_files_clash(str(out / name), whos) for name, whos in by_file.items() if len(whos) > 1]
        if clashes:
            raise CorpusError(clashes)
        files = {out / f"{_safe_name(who)}.jsonl": dumps_jsonl(docs) for who, docs in sorted(by_annotator.items())}
        atomic_write_many({**files, **report_file})  # every annotator's file and the report, or none
        written = [str(path) for path in [*files, *report_file]]
    else:
        atomic_write_many({out: dumps_jsonl([item.document for item in pulled]), **report_file})
        written = [str(out), *map(str, report_file)]
    _info(*counts.summary(policy), "wrote " + ", ".join(written))
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from itertools import combinations

    from conflict_spans.corpus.agreement import format_agreement, pairwise_agreement
    from conflict_spans.corpus.io import check_output_file

    if args.json:
        check_output_file(Path(args.json), option="--json")
    by_annotator: dict[str, list] = {}
    if args.annotators:  # blind overlap: each annotator's own project (`ls push --annotators`)
        from conflict_spans.annotation.labelstudio.team import check_emails

        by_annotator = _annotator_versions(args, check_emails([a.strip() for a in args.annotators.split(",") if a.strip()]))
    else:
        pulled, counts = _pull(args, "all")
        for item in pulled:
            by_annotator.setdefault(item.annotator, []).append(item.document)
        _info(*counts.summary("all"))
    if len(by_annotator) < 2:
        raise CorpusError(catalogue.agreement_needs_two(args.project, sorted(by_annotator)))
    results = []
    for a, b in combinations(sorted(by_annotator), 2):
        result = pairwise_agreement(by_annotator[a], by_annotator[b])
        results.append({"a": a, "b": b, **result})
        print(format_agreement(result, title=f"A = {a}  vs  B = {b}"))
    if args.json:
        from conflict_spans.corpus.io import atomic_write_text

        atomic_write_text(Path(args.json), json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        _info(f"wrote {args.json}")
    return 0


# ---- ML backend -----------------------------------------------------------------------

def cmd_backend(args: argparse.Namespace) -> int:
    if args.action in ("start", "stop") and args.state_dir is None:
        from conflict_spans.annotation.labelstudio.backend_process import DEFAULT_STATE_DIR

        args.state_dir = DEFAULT_STATE_DIR
    if args.action == "start":
        return _backend_start(args)
    if args.action == "stop":
        return _backend_stop(args)
    return _backend_run(args)


def _backend_start(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.backend_process import start_backend

    if args.model is None:
        raise CorpusError(catalogue.backend_needs_model("start"))
    _check_train_arguments(args)
    run_args = ["--model", str(args.model), "--port", str(args.port), "--linker", args.linker, "--data-dir", str(args.data_dir)]
    run_args += ["--url", args.url] if args.url else []
    run_args += ["--project", args.project] if args.project else []
    run_args += ["--retrieve"] if args.retrieve else []
    if args.train:  # the run process gets --state-dir, so its default --train-dir is this one's too
        run_args += ["--train", "--train-every", str(args.train_every), "--train-epochs", str(args.train_epochs),
                     "--train-learning-rate", str(args.train_learning_rate), "--train-validation", str(args.train_validation)]
        run_args += ["--train-dir", str(args.train_dir)] if args.train_dir is not None else []
    env = {"LABEL_STUDIO_API_KEY": args.token} if args.token else None  # not on the command line, which `ps` shows
    info, already = start_backend(run_args, args.state_dir, timeout=args.timeout, env=env)
    connected = f", connected to project {info.project!r} of {info.label_studio} as ML backend {info.backend_id}" if info.project else ""
    _info(f"ML backend {'already running' if already else 'started'}: pid {info.pid} at {info.url}{connected}; log {info.log}",
          f"stop it with: conflict-spans ls backend stop --state-dir {args.state_dir}")
    return 0


def _backend_stop(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.backend_process import stop_backend

    stopped = stop_backend(args.state_dir)
    if stopped is None:
        _info(f"no ML backend running from {args.state_dir}")
        return 0
    info = stopped.info
    if not stopped.was_running:
        _info(f"the ML backend pid {info.pid} was not running any more; removed its stale pid file")
    else:
        removed = f"; its connection to project {info.project!r} removed" if info.project and not stopped.connection_left else ""
        _info(f"stopped ML backend pid {info.pid} ({info.url}){removed}")
    if stopped.connection_left:
        print(f"WARNING [ls-backend]: the backend ended before it could remove its connection {info.backend_id} from project "
              f"{info.project!r} of {info.label_studio}. Fix: remove it in the project's Settings > Model", file=sys.stderr)
    return 0


def _backend_run(args: argparse.Namespace) -> int:
    import signal

    from conflict_spans.annotation.labelstudio.ml_backend import serve_in_thread, server_url
    from conflict_spans.model.predict import load_predictor

    def _stop(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    if args.model is None:
        raise CorpusError(catalogue.backend_needs_model("run"))
    _check_train_arguments(args)
    # Ctrl-C and `kill PID` stop the backend even when it was started with SIGINT ignored
    # (a background job of a non-interactive shell inherits SIG_IGN, and Python then installs no handler)
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    predictor = load_predictor(args.model)
    linker = None
    if args.linker != "none":
        from conflict_spans.records.learned import load_linker

        linker = load_linker(args.linker)
    server, thread = serve_in_thread(predictor, port=args.port, linker=linker)
    ls = backend = trainer = None
    try:  # entered before the announcement: a signal right after it must still end in a clean stop
        url = server_url(server)
        _info(f"ML backend for model {predictor.model_version!r}" + (f" with the {linker.name} linker" if linker else "") + f" at {url} (Ctrl-C stops it)")
        if args.project:
            from conflict_spans.annotation.labelstudio.client import connect_ml_backend, require_project, retrieve_predictions

            ls = _client(args)
            project = require_project(ls, args.project)
            backend = connect_ml_backend(ls, project["id"], url)
            _info(f"connected to project {args.project!r} as ML backend {backend.get('id')}")
            if args.retrieve:
                retrieve_predictions(ls, project["id"])
                _info("asked Label Studio to retrieve predictions for every task")
            if args.train:
                trainer = _start_trainer(args, ls, server.backend, project)
        if args.state_dir is not None:  # started by `ls backend start`: ready
            from conflict_spans.annotation.labelstudio.backend_process import BackendInfo, write_backend_info

            write_backend_info(args.state_dir, BackendInfo(pid=os.getpid(), log=str(Path(args.state_dir) / "backend.log"), ready=True, url=url,
                                                           label_studio=args.url if args.project else None, project=args.project,
                                                           backend_id=backend.get("id") if backend else None))
        thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        if trainer is not None:  # a training process must not outlive the backend
            trainer.close()
        server.shutdown()
        server.server_close()
        if backend is not None:  # the project must not keep listing a backend that is gone
            from conflict_spans.annotation.labelstudio.client import disconnect_ml_backend

            disconnect_ml_backend(ls, backend["id"])
            _info(f"removed ML backend {backend['id']} from project {args.project!r}")
        if args.state_dir is not None:
            from conflict_spans.annotation.labelstudio.backend_process import STATE_FILE, read_backend_info

            state = read_backend_info(args.state_dir)
            if state is not None and state.pid == os.getpid():
                (Path(args.state_dir) / STATE_FILE).unlink(missing_ok=True)
    return 0


def _check_train_arguments(args: argparse.Namespace) -> None:
    """The --train options, checked before a model is loaded or a server asked."""
    from conflict_spans.paths import DATA_DIR, split_file

    if not args.train:
        return
    problems = []
    if not args.project:
        problems.append(catalogue.train_option("--train", None, "needs --project", "name the project whose annotations the backend trains on: --project TITLE"))
    if args.train_every < 0:
        problems.append(catalogue.train_option("--train-every", args.train_every, "is below 0", "give 1 or more, or 0 to leave the project's setting as it is"))
    if not args.train_epochs > 0:
        problems.append(catalogue.train_option("--train-epochs", args.train_epochs, "is not above 0", "give a number of epochs above 0"))
    if not args.train_learning_rate > 0:
        problems.append(catalogue.train_option("--train-learning-rate", args.train_learning_rate, "is not above 0", "give a learning rate above 0, e.g. 1e-4"))
    args.train_validation = Path(args.train_validation) if args.train_validation else split_file("validation", DATA_DIR)
    if not args.train_validation.is_file():
        problems.append(catalogue.train_option("--train-validation", str(args.train_validation), "names no file", "give a JSONL file of annotated documents "
                                               "(the corpus's corpus/data/validation.jsonl: run `conflict-spans build`)"))
    if problems:
        raise CorpusError(problems)
    from conflict_spans.corpus.io import read_documents

    read_documents(args.train_validation)  # a bad validation file is refused now, naming its line, not in a job later


def _start_trainer(args: argparse.Namespace, ls, span_backend, project: dict):
    from conflict_spans.annotation.labelstudio.learning import OnlineTrainer, TrainSettings

    if args.train_dir is None:
        from conflict_spans.annotation.labelstudio.backend_process import DEFAULT_STATE_DIR

        args.train_dir = (Path(args.state_dir) if args.state_dir is not None else DEFAULT_STATE_DIR) / "training"
    settings = TrainSettings(project_id=project["id"], work_dir=Path(args.train_dir).resolve(), validation=Path(args.train_validation).resolve(),
                             epochs=args.train_epochs, learning_rate=args.train_learning_rate)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    import logging

    handler = logging.StreamHandler(sys.stdout)  # each job's outcome in the backend's output (its log under `ls backend start`)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    job_log = logging.getLogger("conflict_spans.annotation.labelstudio.learning")
    job_log.addHandler(handler)
    job_log.setLevel(logging.INFO)
    trainer = OnlineTrainer(span_backend, lambda: _client(args), settings, args.model)
    span_backend.trainer = trainer
    if args.train_every:
        from conflict_spans.annotation.labelstudio.client import call

        call("set training on annotation submission", ls.projects.update, id=project["id"], min_annotations_to_start_training=args.train_every)
    every = f"every {args.train_every} annotations and " if args.train_every else ""
    _info(f"training: on {every}each Start Training request; jobs in {settings.work_dir}")
    return trainer


def _annotator_versions(args: argparse.Namespace, annotators: list[str]) -> dict[str, list]:
    """Each annotator's latest annotation of each document of their own project (`ls push --annotators`)."""
    from conflict_spans.annotation.labelstudio.team import annotator_project

    project, out = args.project, {}
    try:
        for who in annotators:
            args.project = annotator_project(project, who)
            pulled, counts = _pull(args, "latest")
            out[who] = [item.document for item in pulled]
            _info(f"{args.project!r}: " + "; ".join(counts.summary("latest")))
    finally:
        args.project = project
    return out


def cmd_adjudicate(args: argparse.Namespace) -> int:
    from itertools import combinations

    from conflict_spans.annotation.labelstudio.client import push_documents
    from conflict_spans.annotation.labelstudio.team import REVIEW, adjudication_plan, annotator_project, check_emails
    from conflict_spans.corpus.agreement import format_agreement, pairwise_agreement
    from conflict_spans.corpus.io import atomic_write_text, check_output_file

    annotators = check_emails([a.strip() for a in args.annotators.split(",") if a.strip()])
    if len(annotators) < 2:
        raise CorpusError(catalogue.agreement_needs_two(args.project, annotators))
    if args.json:
        check_output_file(Path(args.json), option="--json")
    versions = _annotator_versions(args, annotators)
    results = []
    for a, b in combinations(annotators, 2):  # agreement before adjudication
        result = pairwise_agreement(versions[a], versions[b])
        results.append({"a": a, "b": b, **result})
        print(format_agreement(result, title=f"before adjudication: A = {a}  vs  B = {b}"))
    plan = adjudication_plan(versions)
    ls = _client(args)
    review = annotator_project(args.project, REVIEW)
    if plan.agreed:  # decided: the agreed version is the review project's annotation
        push_documents(ls, review, plan.agreed, annotations=True, on_existing="skip")
    for who in annotators:  # to review: each annotator's version side by side, as a prediction named after them
        mine = [docs[who] for docs in [*plan.disputed.values(), *plan.single.values()] if who in docs]
        if mine:
            push_documents(ls, review, mine, annotations=False, spans_model_version=who, on_existing="update")
    if args.json:
        atomic_write_text(Path(args.json), json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    _info(f"{len(plan.agreed)} document(s) agreed (decided), {len(plan.disputed)} disputed and {len(plan.single)} with one version only "
          f"-> project {review!r}: the adjudicator opens each undecided task, picks or merges the versions (one prediction per annotator) "
          "and submits; `ls pull --policy adjudicated` then returns the decided documents")
    return 0


def cmd_annotators_add(args: argparse.Namespace) -> int:
    from conflict_spans.annotation.labelstudio.client import resolve_connection
    from conflict_spans.annotation.labelstudio.team import add_annotators, check_emails, invite_link

    check_emails(args.emails)  # before the server is asked
    ls = _client(args)
    conn = resolve_connection(args.url, args.token, args.data_dir)
    created = 0
    for person in add_annotators(ls, conn, args.emails):
        if person.created:
            created += 1
            _info(f"created {person.email}  password: {person.password}  API token: {person.token}")
        else:
            _info(f"exists  {person.email} (not changed)")
    _info(f"invite link for anyone else (they choose their own password): {invite_link(conn)}",
          f"log in at {conn.url}/user/login/" + ("; the passwords and tokens above are shown once: Label Studio keeps only the passwords' hashes"
                                                 if created else ""))
    return 0


# ---- registration ---------------------------------------------------------------------------

def register(sub) -> None:
    from conflict_spans.annotation.labelstudio.server import DEFAULT_PORT, DEFAULT_TEMPLATE_DIR, DEFAULT_VENV
    from conflict_spans.records.learned import LINKERS

    ls = sub.add_parser("ls", help="Label Studio: server, labeling config, push, pull, agreement, ML backend")
    ls_sub = ls.add_subparsers(dest="ls_command", required=True, metavar="LS_COMMAND")

    server = ls_sub.add_parser("server", help="start or stop a local Label Studio (127.0.0.1, own virtualenv .venv-ls)")
    server_sub = server.add_subparsers(dest="server_command", required=True, metavar="ACTION")
    p = server_sub.add_parser("start", help="start Label Studio in the background and wait until it answers")
    _data_dir_arg(p)
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="virtualenv with label-studio (scripts/labelstudio-venv.sh makes it)")
    p.add_argument("--template", type=Path, help="seed a new data dir from this migrated template (ls server template makes one)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds to wait for /health (default 300, 600 with PostgreSQL: the first start migrates the database)")
    p.add_argument("--database", metavar="URL", help="PostgreSQL instead of SQLite in the data dir: postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME; "
                   "wins over Label Studio's env form (DJANGO_DB=default + POSTGRE_*); the data dir remembers it")
    p.set_defaults(func=cmd_server_start)
    p = server_sub.add_parser("stop", help="stop the server by the pid in <data dir>/server.pid")
    _data_dir_arg(p)
    p.set_defaults(func=cmd_server_stop)
    p = server_sub.add_parser("template", help="create a migrated template data dir once (later starts copy it: seconds, not a minute)")
    p.add_argument("--template-dir", type=Path, default=DEFAULT_TEMPLATE_DIR, help=f"default {DEFAULT_TEMPLATE_DIR}")
    p.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    p.add_argument("--timeout", type=float, default=300.0)
    p.set_defaults(func=cmd_server_template)

    p = ls_sub.add_parser("backup", help="back up a data dir's database (SQLite or PostgreSQL), media and credentials into a new folder")
    p.add_argument("out", metavar="OUT", help="folder to create (must not exist); built beside it and renamed when complete")
    _data_dir_arg(p)
    p.add_argument("--database", metavar="URL", help="PostgreSQL database to dump, postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME "
                   "(default: the one the data dir's server was started on, else the data dir's SQLite file)")
    p.set_defaults(func=cmd_backup)
    p = ls_sub.add_parser("restore", help="restore a backup into a new (or empty) data dir; a PostgreSQL backup also into --database")
    p.add_argument("backup", metavar="BACKUP", help="folder written by `conflict-spans ls backup`")
    _data_dir_arg(p)
    p.add_argument("--database", metavar="URL", help="PostgreSQL backups only: the existing (best new, empty) database to restore into, "
                   "postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME; the data dir remembers it")
    p.set_defaults(func=cmd_restore)

    p = ls_sub.add_parser("config", help="write the labeling config generated from conflict_spans/schema.py")
    p.add_argument("--output", default="-", help="file to write, or - for stdout (default; the checkout keeps its copy in annotation/labeling_config.xml)")
    p.add_argument("--check", action="store_true", help="only check that --output matches the schema (exit 1 if not)")
    p.set_defaults(func=cmd_config)

    p = ls_sub.add_parser("push", help="import documents as tasks (create or update the project by title); pushing twice does not duplicate")
    _connection_args(p)
    p.add_argument("--project", required=True, help="project title (created with the schema's labeling config if missing)")
    p.add_argument("inputs", nargs="*", help="corpus JSONL files, authoring .txt sources or folders of them")
    p.add_argument("--texts", help="raw texts instead: a UTF-8 file with one document per line (ids text-<sha1>)")
    p.add_argument("--spans-as", choices=("annotations", "predictions", "none"), default="annotations",
                   help="the documents' spans become annotations (default), predictions (pre-annotations) or nothing")
    p.add_argument("--model-version", default="corpus", help="model_version of predictions made from the documents' spans (--spans-as predictions)")
    p.add_argument("--model", help="trained model folder: its predictions become pre-annotations (model_version from the model)")
    p.add_argument("--on-existing", choices=("skip", "update"), default="skip",
                   help="tasks already in the project (same document id): skip (default) or update metadata and replace predictions of the same model_version; annotations are never touched")
    p.add_argument("--update-config", action="store_true", help="replace a project's labeling config that differs from the schema's")
    p.add_argument("--limit", type=int, help="push only the first N documents")
    p.add_argument("--uncertainty-sampling", action="store_true",
                   help="with --model: each prediction's score is the model's confidence in the document (geometric mean of the chosen tags' "
                   "probabilities over its words), and the project serves the least confident task first (Label Studio's uncertainty sampling)")
    p.add_argument("--annotators", metavar="EMAIL,EMAIL,...",
                   help="blind overlap: a project of its own for each annotator, titled 'PROJECT / EMAIL', so that no one sees another's regions; "
                   "each starts from the same pre-annotations (--model or --spans-as predictions)")
    p.add_argument("--overlap", type=int, default=None,
                   help="with --annotators: how many annotators label each document (default all of them), spread round robin")
    p.set_defaults(func=cmd_push)

    def pull_options(p: argparse.ArgumentParser) -> None:
        _connection_args(p)
        p.add_argument("--project", required=True, help="project title")
        p.add_argument("--include-skipped", action="store_true", help="take skipped (cancelled) annotations as annotations (default: excluded and counted)")
        p.add_argument("--include-drafts", action="store_true", help="take unsubmitted drafts as annotations (default: excluded and counted)")
        p.add_argument("--id-prefix", help="name tasks that have no data.doc_id '<prefix><task id>' (default: such tasks are an error)")

    p = ls_sub.add_parser("pull", help="export annotations into corpus JSONL (atomic write; any problem stops it before writing, "
                          "unless --skip-invalid sets the bad annotations aside with a report)")
    pull_options(p)
    p.add_argument("--output", required=True, help="JSONL file to write; with --policy all a folder of <annotator>.jsonl files")
    p.add_argument("--policy", choices=("latest", "all", "adjudicated"), default="latest",
                   help="several annotations per task: the latest one (default), or all (one file per annotator, for agreement); "
                   "adjudicated: the decided documents of `ls adjudicate`'s review project ('PROJECT / review'), undecided ones counted")
    p.add_argument("--annotator", metavar="EMAIL", help="take this annotator's (latest) annotation of each task")
    p.add_argument("--skip-invalid", metavar="REPORT.jsonl", default=None,
                   help="write the valid documents and set aside each annotation (or task) with a problem, instead of writing nothing: "
                   "REPORT.jsonl gets one row per problem {task, document, annotator, annotation, code, problem, region, fix}; "
                   "the policy does not fall back to an older annotation of that task")
    p.set_defaults(func=cmd_pull)

    p = ls_sub.add_parser("agreement", help="pairwise span agreement (strict and overlap P/R/F1 per label) between the project's annotators")
    pull_options(p)
    p.add_argument("--annotators", metavar="EMAIL,EMAIL,...",
                   help="compare the annotators' own projects ('PROJECT / EMAIL', made by `ls push --annotators`) instead of one project's annotators")
    p.add_argument("--json", help="also write the full results as JSON here")
    p.set_defaults(func=cmd_agreement)

    p = ls_sub.add_parser("adjudicate", help="compare the annotators' own projects (`ls push --annotators`): report agreement, accept what "
                          "agrees, and push each disagreement into the review project 'PROJECT / review' with every version side by side")
    _connection_args(p)
    p.add_argument("--project", required=True, help="the project title given to `ls push --annotators`")
    p.add_argument("--annotators", required=True, metavar="EMAIL,EMAIL,...", help="the annotators whose projects are compared (two or more)")
    p.add_argument("--json", help="also write the agreement before adjudication as JSON here")
    p.add_argument("--include-skipped", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--include-drafts", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--id-prefix", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_adjudicate)

    team = ls_sub.add_parser("annotators", help="accounts for a team of annotators")
    team_sub = team.add_subparsers(dest="annotators_command", required=True, metavar="ACTION")
    p = team_sub.add_parser("add", help="create an account for each email (through the organization's invite link) and print its password and "
                            "API token once; existing accounts are left as they are")
    _connection_args(p)
    p.add_argument("emails", nargs="+", metavar="EMAIL")
    p.set_defaults(func=cmd_annotators_add)

    p = ls_sub.add_parser("backend", help="serve a trained model as a Label Studio ML backend on 127.0.0.1: run (foreground, the default), "
                          "start (in the background, by a pid file), stop")
    p.add_argument("action", nargs="?", choices=("run", "start", "stop"), default="run",
                   help="run: in the foreground until Ctrl-C or SIGTERM (default); start: in the background, returning once it is ready; "
                   "stop: the one `start` started. On stopping, the backend removes its connection from the project")
    _connection_args(p)
    p.add_argument("--model", help="trained model folder (run, start)")
    p.add_argument("--port", type=int, default=9090, help="port on 127.0.0.1 (default 9090; 0 picks a free one)")
    p.add_argument("--project", help="also connect the backend to this project")
    p.add_argument("--retrieve", action="store_true", help="with --project: ask Label Studio to fetch predictions for every task")
    p.add_argument("--linker", choices=(*LINKERS, "none"), default="auto",
                   help="link the predicted spans with this linker and send the links as relations (default auto: the shipped default; none: spans only)")
    p.add_argument("--state-dir", type=Path, default=None,
                   help="start, stop: the folder of the pid file (backend.json) and log (backend.log) (default .ls-data/backend)")
    p.add_argument("--timeout", type=float, default=180.0, help="start: seconds to wait until the backend is ready (default 180)")
    p.add_argument("--train", action="store_true",
                   help="with --project: retrain on the project's submitted annotations in the background when Label Studio asks (START_TRAINING, "
                   "/train), swap the new model in, and refresh the predictions of unannotated tasks")
    p.add_argument("--train-every", type=int, default=10, metavar="N",
                   help="with --train: set the project to ask for training every N annotations (Label Studio's 'Start model training on "
                   "annotation submission'; default 10; 0 leaves the project's setting as it is)")
    p.add_argument("--train-dir", type=Path, default=None,
                   help="with --train: where each job's data, log and model go (default <state dir>/training, or .ls-data/backend/training)")
    p.add_argument("--train-epochs", type=float, default=2.0, help="with --train: epochs per job over the annotated documents (default 2)")
    p.add_argument("--train-learning-rate", type=float, default=1e-4,
                   help="with --train: peak learning rate (default 1e-4, a quarter of train.py's: the job continues a trained model)")
    p.add_argument("--train-validation", type=Path, default=None,
                   help="with --train: JSONL each new model is scored on; its documents are never trained on (default the corpus's validation split)")
    p.set_defaults(func=cmd_backend)

