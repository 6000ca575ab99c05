"""Start and stop a local Label Studio server in its own virtualenv.

The server always binds 127.0.0.1, keeps its data (SQLite, media) in one data
directory, and is stopped by the process id written to ``<data_dir>/server.pid``.
With ``database="postgresql://USER:PASSWORD@HOST:PORT/NAME"`` (or Label Studio's
own env form ``DJANGO_DB=default`` + ``POSTGRE_*``) the database is PostgreSQL
instead; media, credentials and the pid file stay in the data directory.
Every outbound call Label Studio would make (version check, analytics, Sentry)
is switched off through the environment.

The user and API token are created on the data directory's first start from
``LABEL_STUDIO_USERNAME`` / ``LABEL_STUDIO_PASSWORD`` / ``LABEL_STUDIO_USER_TOKEN``;
where these are unset, random ones are generated. Either way they are written to
``<data_dir>/credentials.json`` (mode 600), where ``conflict-spans ls`` finds them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from conflict_spans import problems as catalogue
from conflict_spans.paths import WORK_DIR

LS_VERSION = "1.23.2"
HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_VENV = Path(os.environ.get("LABEL_STUDIO_VENV", WORK_DIR / ".venv-ls"))
DEFAULT_DATA_DIR = WORK_DIR / ".ls-data" / "server"
DEFAULT_TEMPLATE_DIR = WORK_DIR / ".ls-data" / "template"
PID_FILE = "server.pid"
LOG_FILE = "server.log"
CREDENTIALS_FILE = "credentials.json"
DATABASE_FILE = "label_studio.sqlite3"
DATABASE_RECORD = "database.json"  # PostgreSQL data dirs: the database URL (with its password; mode 600)
ENV_USERNAME = "LABEL_STUDIO_USERNAME"
ENV_PASSWORD = "LABEL_STUDIO_PASSWORD"
ENV_TOKEN = "LABEL_STUDIO_USER_TOKEN"
DEFAULT_USERNAME = "annotator@example.com"

# No outbound traffic: every setting Label Studio reads to phone home.
QUIET_ENV = {
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    # An ML backend on 127.0.0.1 (conflict-spans ls backend) may connect. Label
    # Studio 1.23 also creates a webhook to the backend's /webhook and validates
    # that URL under SSRF protection, which bans 127.0.0.0/8; the server itself
    # only listens on 127.0.0.1, so the protection is switched off for it.
    "ML_BLOCK_LOCAL_IP": "false",
    "SSRF_PROTECTION_ENABLED": "false",
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
    "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
}


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    token: str

    @classmethod
    def from_env_or_new(cls) -> Credentials:
        return cls(
            username=os.environ.get(ENV_USERNAME) or DEFAULT_USERNAME,
            password=os.environ.get(ENV_PASSWORD) or secrets.token_urlsafe(12),
            token=os.environ.get(ENV_TOKEN) or secrets.token_hex(20),
        )


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    port: int
    url: str
    data_dir: str
    database: str | None = None  # PostgreSQL URL without the password; None: SQLite in data_dir


# ---- the database: SQLite in the data dir, or PostgreSQL ---------------------------------------

POSTGRES_SCHEMES = ("postgresql", "postgres")
POSTGRES_DEFAULT_PORT = 5432
# Label Studio's env form (label_studio/core/settings/base.py): DJANGO_DB=default selects PostgreSQL
ENV_DJANGO_DB = "DJANGO_DB"
ENV_POSTGRES = ("POSTGRE_NAME", "POSTGRE_USER", "POSTGRE_PASSWORD", "POSTGRE_HOST", "POSTGRE_PORT")
POSTGRES_DJANGO_DB = ("default", "postgresql")


@dataclass(frozen=True)
class PostgresDatabase:
    """A PostgreSQL database for Label Studio: what ``postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME`` says."""

    user: str
    password: str
    host: str
    port: int
    name: str

    @property
    def url(self) -> str:
        """The URL with the password (percent-encoded): keep it out of logs and pid files."""
        auth = urllib.parse.quote(self.user, safe="")
        if self.password:
            auth += ":" + urllib.parse.quote(self.password, safe="")
        return f"postgresql://{auth}@{self._host_port()}/{urllib.parse.quote(self.name, safe='')}"

    @property
    def display_url(self) -> str:
        """The URL without the password: safe to print and to write into server.pid."""
        return f"postgresql://{urllib.parse.quote(self.user, safe='')}@{self._host_port()}/{urllib.parse.quote(self.name, safe='')}"

    def _host_port(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Label Studio's own settings for it (DJANGO_DB=default and POSTGRE_*)."""
        return {ENV_DJANGO_DB: "default", "POSTGRE_NAME": self.name, "POSTGRE_USER": self.user, "POSTGRE_PASSWORD": self.password,
                "POSTGRE_HOST": self.host, "POSTGRE_PORT": str(self.port)}

    def libpq_env(self) -> dict[str, str]:
        """The same database for pg_dump / pg_restore / psql (PGPASSWORD: never on a command line)."""
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user, "PGPASSWORD": self.password, "PGDATABASE": self.name}


def parse_database_url(value: str) -> PostgresDatabase:
    """``postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME`` (user, password and name percent-decoded; port 5432 when left out)."""
    def bad(what: str) -> catalogue.CorpusError:
        return catalogue.error(catalogue.database_url_invalid(value, what))

    if not isinstance(value, str) or not value.strip():
        raise bad("it is empty")
    try:
        parts = urllib.parse.urlsplit(value.strip())
    except ValueError as exc:
        raise bad(str(exc)) from None
    if parts.scheme not in POSTGRES_SCHEMES:
        raise catalogue.error(catalogue.database_scheme(value, parts.scheme))
    if parts.query or parts.fragment:
        raise bad("it has ?options or a #fragment, which Label Studio cannot pass on to PostgreSQL")
    if not parts.username:
        raise bad("it names no user (USER@ before the host)")
    if not parts.hostname:
        raise bad("it names no host")
    try:
        port = parts.port
    except ValueError:
        raise bad("its port is not a number from 1 to 65535") from None
    if port == 0:
        raise bad("its port is not a number from 1 to 65535")
    name = urllib.parse.unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if not name or "/" in name:
        raise bad("it names no database (/NAME after the host)" if not name else "its path is more than one database name")
    return PostgresDatabase(user=urllib.parse.unquote(parts.username), password=urllib.parse.unquote(parts.password or ""),
                            host=parts.hostname, port=port or POSTGRES_DEFAULT_PORT, name=name)


def database_from_env(environ: dict[str, str] | None = None) -> PostgresDatabase | None:
    """PostgreSQL as Label Studio's env form selects it (``DJANGO_DB=default`` or ``postgresql`` with ``POSTGRE_*``; Label
    Studio's defaults for the ones left out); None when the environment does not select PostgreSQL."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_DJANGO_DB, "").strip() not in POSTGRES_DJANGO_DB:
        return None
    port = environ.get("POSTGRE_PORT", "5432")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise catalogue.error(catalogue.database_env_invalid("POSTGRE_PORT", port))
    return PostgresDatabase(user=environ.get("POSTGRE_USER", "postgres"), password=environ.get("POSTGRE_PASSWORD", "postgres"),
                            host=environ.get("POSTGRE_HOST", "localhost"), port=int(port), name=environ.get("POSTGRE_NAME", "postgres"))


def read_database_record(data_dir: Path) -> PostgresDatabase | None:
    """The PostgreSQL database a data dir was last started on; None for an SQLite data dir."""
    path = data_dir / DATABASE_RECORD
    if not path.exists():
        return None
    return parse_database_url(json.loads(path.read_text(encoding="utf-8"))["url"])


def write_database_record(data_dir: Path, database: PostgresDatabase) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{DATABASE_RECORD}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"url": database.url}, fh)
    os.replace(tmp, data_dir / DATABASE_RECORD)


def resolve_database(data_dir: Path, database: str | PostgresDatabase | None = None) -> PostgresDatabase | None:
    """Which database a server from ``data_dir`` uses: PostgreSQL, or None for SQLite in the data dir.

    The first that says something wins: the ``database`` argument (a URL); Label Studio's env form
    (``DJANGO_DB=default`` + ``POSTGRE_*``); the data dir's record of an earlier PostgreSQL start; else SQLite.
    """
    if isinstance(database, PostgresDatabase):
        return database
    if database is not None:
        return parse_database_url(database)
    return database_from_env() or read_database_record(data_dir)


def read_credentials(data_dir: Path) -> Credentials | None:
    path = data_dir / CREDENTIALS_FILE
    if not path.exists():
        return None
    return Credentials(**json.loads(path.read_text(encoding="utf-8")))


def write_credentials(data_dir: Path, credentials: Credentials) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(credentials), fh, indent=1)


def read_server_info(data_dir: Path) -> ServerInfo | None:
    path = data_dir / PID_FILE
    if not path.exists():
        return None
    return ServerInfo(**json.loads(path.read_text(encoding="utf-8")))


def label_studio_executable(venv: Path) -> Path:
    exe = venv / "bin" / "label-studio"
    if not exe.exists():
        raise catalogue.error(catalogue.server_venv_missing(venv))
    return exe


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _resolve_credentials(data_dir: Path) -> Credentials:
    """The credentials the data dir was created with; new ones for a new data dir."""
    stored = read_credentials(data_dir)
    if stored is None:
        if (data_dir / DATABASE_FILE).exists():
            raise catalogue.error(catalogue.credentials_missing(data_dir))
        credentials = Credentials.from_env_or_new()
        write_credentials(data_dir, credentials)
        return credentials
    for env, field in ((ENV_USERNAME, "username"), (ENV_TOKEN, "token")):
        wanted = os.environ.get(env)
        if wanted and wanted != getattr(stored, field):
            raise catalogue.error(catalogue.credentials_changed(env, data_dir))
    return stored


def server_env(data_dir: Path, credentials: Credentials, database: PostgresDatabase | None = None) -> dict[str, str]:
    """The server's environment: the caller's, less stray Label Studio settings, with outbound calls off.

    With ``database`` the PostgreSQL settings (DJANGO_DB, POSTGRE_*) are set from it, replacing the caller's; without it
    DJANGO_DB=sqlite is forced, so a stray DJANGO_DB cannot move an SQLite data dir's server to another database.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "HEARTEX_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(QUIET_ENV)
    for name in ENV_POSTGRES:
        env.pop(name, None)
    env.update(database.env() if database is not None else {ENV_DJANGO_DB: "sqlite"})
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        ENV_USERNAME: credentials.username,
        ENV_PASSWORD: credentials.password,
        ENV_TOKEN: credentials.token,
    })
    return env


def is_alive(pid: int) -> bool:
    """Whether ``pid`` is a running process: a zombie (exited, not yet reaped) is not."""
    try:
        return psutil.Process(pid).status() not in {psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD}
    except psutil.NoSuchProcess:  # ZombieProcess included
        return False
    except psutil.AccessDenied:  # another user's process: it exists
        return True


def _cmdline(pid: int) -> str:
    """The process's command line, arguments joined by spaces; empty when it is gone or unreadable."""
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return ""


def health(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as resp:
            return resp.status == 200 and json.loads(resp.read() or b"{}").get("status") == "UP"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _log_tail(data_dir: Path, lines: int = 25) -> str:
    path = data_dir / LOG_FILE
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def copy_template(template_dir: Path, data_dir: Path) -> None:
    """Seed a new data dir from a pre-migrated template (seconds instead of ~20 s of migrations)."""
    if not (template_dir / DATABASE_FILE).exists() or read_credentials(template_dir) is None:
        raise catalogue.error(catalogue.template_missing(template_dir))
    if (data_dir / DATABASE_FILE).exists():
        raise catalogue.error(catalogue.data_dir_not_empty(data_dir))
    shutil.copytree(template_dir, data_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(PID_FILE, LOG_FILE))


SQLITE = "sqlite"  # database=SQLITE: SQLite in the data dir, whatever the environment says
SQLITE_TIMEOUT = 300.0  # the CLI's --timeout default; the first start on SQLite migrates it (about a minute)
POSTGRES_TIMEOUT = 600.0  # the first start on a new PostgreSQL database migrates it (measured in annotation/README.md)


def start_server(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    port: int = DEFAULT_PORT,
    venv: Path = DEFAULT_VENV,
    template: Path | None = None,
    timeout: float | None = None,
    database: str | PostgresDatabase | None = None,
) -> ServerInfo:
    """Start Label Studio on 127.0.0.1 and wait until /health answers; return its pid and URL.

    A server already running from ``data_dir`` is returned as is; when ``database`` names another database than the
    one it runs on, that is an error (nothing is stopped).

    The database, the first that says something winning:

    1. ``database``: ``postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME`` (port 5432 when left out; user, password and
       name percent-encoded), or ``"sqlite"`` for SQLite in the data dir whatever the environment says;
    2. Label Studio's env form, when the caller set ``DJANGO_DB=default`` (or ``postgresql``): ``POSTGRE_NAME``,
       ``POSTGRE_USER``, ``POSTGRE_PASSWORD``, ``POSTGRE_HOST``, ``POSTGRE_PORT`` (Label Studio's defaults for the
       ones left out). The argument replaces all of them: they are never mixed;
    3. the PostgreSQL database this data dir was last started on (``<data_dir>/database.json``, mode 600);
    4. SQLite: ``<data_dir>/label_studio.sqlite3``.

    With PostgreSQL, ``template`` is refused (it is an SQLite copy), the URL is recorded in the data dir once the server
    answers (for later starts and ``backup``), and the first start on a new database migrates it: ``timeout`` defaults to 600 s instead of 300 s.
    Any host is accepted; the web server itself still listens on 127.0.0.1 only.
    """
    data_dir = data_dir.resolve()
    running = read_server_info(data_dir)
    if running is not None:
        if is_alive(running.pid) and health(running.url):
            if database is not None:  # asked for a database by name: the running server must be on it
                wanted = None if database == SQLITE else resolve_database(data_dir, database).display_url
                if wanted != running.database:
                    raise catalogue.error(catalogue.server_on_other_database(data_dir, running.url, running.database or "SQLite", wanted or "SQLite"))
            return running
        (data_dir / PID_FILE).unlink()  # stale: the process is gone
    exe = label_studio_executable(venv)
    postgres = None if database == SQLITE else resolve_database(data_dir, database)
    if timeout is None:
        timeout = SQLITE_TIMEOUT if postgres is None else POSTGRES_TIMEOUT
    if postgres is not None:
        if template is not None:
            raise catalogue.error(catalogue.template_with_postgres(template, postgres.display_url))
    elif template is not None and not (data_dir / DATABASE_FILE).exists():
        copy_template(template, data_dir)
    credentials = _resolve_credentials(data_dir)
    if port == 0:
        port = free_port()
    url = f"http://{HOST}:{port}"
    if health(url):
        raise catalogue.error(catalogue.port_taken(port))
    cmd = [str(exe), "start", "--no-browser", "--internal-host", HOST, "--port", str(port),
           "--data-dir", str(data_dir), "--enable-legacy-api-token"]
    with open(data_dir / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(cmd, env=server_env(data_dir, credentials, postgres), cwd=data_dir, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    info = ServerInfo(pid=proc.pid, port=port, url=url, data_dir=str(data_dir), database=postgres.display_url if postgres else None)
    (data_dir / PID_FILE).write_text(json.dumps(asdict(info)) + "\n", encoding="utf-8")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            (data_dir / PID_FILE).unlink(missing_ok=True)
            if postgres is not None:
                raise catalogue.error(catalogue.server_exited_postgres(proc.returncode, data_dir / LOG_FILE, _log_tail(data_dir), postgres.display_url))
            raise catalogue.error(catalogue.server_exited(proc.returncode, data_dir / LOG_FILE, _log_tail(data_dir)))
        if health(url):
            if postgres is not None:
                write_database_record(data_dir, postgres)  # only a database that worked is remembered
            return info
        time.sleep(0.5)
    _terminate_group(proc.pid, grace=10.0)
    (data_dir / PID_FILE).unlink(missing_ok=True)
    raise catalogue.error(catalogue.server_timeout(timeout, data_dir / LOG_FILE, _log_tail(data_dir)))


def _terminate_group(pid: int, grace: float) -> None:
    """SIGTERM the server's process group (its pid: it was started in a new session), SIGKILL after ``grace``."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not is_alive(pid):
            return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and is_alive(pid):
        _reap(pid)
        time.sleep(0.1)


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (tests start it in-process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_server(data_dir: Path = DEFAULT_DATA_DIR, *, grace: float = 20.0) -> ServerInfo | None:
    """Stop the server started from ``data_dir`` by the pid in its pid file; None when none was running."""
    data_dir = data_dir.resolve()
    info = read_server_info(data_dir)
    if info is None:
        return None
    if is_alive(info.pid):
        if "label-studio" not in _cmdline(info.pid) and "label_studio" not in _cmdline(info.pid):
            raise catalogue.error(catalogue.pid_not_label_studio(info.pid, data_dir / PID_FILE))
        _terminate_group(info.pid, grace)
        if is_alive(info.pid):
            raise catalogue.error(catalogue.server_would_not_stop(info.pid))
    (data_dir / PID_FILE).unlink(missing_ok=True)
    return info


def make_template(template_dir: Path = DEFAULT_TEMPLATE_DIR, *, venv: Path = DEFAULT_VENV, timeout: float = 300.0) -> Path:
    """Create a migrated data dir (user, token, organisation) once; later servers copy it.

    Idempotent: an existing template is kept. Built in a sibling folder and renamed,
    so a half-made template never exists.
    """
    template_dir = template_dir.resolve()
    if (template_dir / DATABASE_FILE).exists() and read_credentials(template_dir) is not None:
        return template_dir
    building = template_dir.with_name(template_dir.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    start_server(building, port=0, venv=venv, timeout=timeout, database=SQLITE)
    stop_server(building)
    for name in (LOG_FILE,):
        (building / name).unlink(missing_ok=True)
    try:
        building.rename(template_dir)
    except OSError:
        # another process made the template meanwhile: keep theirs
        shutil.rmtree(building, ignore_errors=True)
        if not (template_dir / DATABASE_FILE).exists():
            raise
    return template_dir
