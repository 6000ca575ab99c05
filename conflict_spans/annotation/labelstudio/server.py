"""Start and stop a local Label Studio server in its own virtualenv.

The server always binds 127.0.0.1, keeps its data (SQLite, media) in one data
directory, and is stopped by the process id written to ``<data_dir>/server.pid``.
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


def server_env(data_dir: Path, credentials: Credentials) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "HEARTEX_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(QUIET_ENV)
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


def start_server(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    port: int = DEFAULT_PORT,
    venv: Path = DEFAULT_VENV,
    template: Path | None = None,
    timeout: float = 180.0,
) -> ServerInfo:
    """Start Label Studio on 127.0.0.1 and wait until /health answers; return its pid and URL.

    A server already running from ``data_dir`` is returned as is.
    """
    data_dir = data_dir.resolve()
    running = read_server_info(data_dir)
    if running is not None:
        if is_alive(running.pid) and health(running.url):
            return running
        (data_dir / PID_FILE).unlink()  # stale: the process is gone
    exe = label_studio_executable(venv)
    if template is not None and not (data_dir / DATABASE_FILE).exists():
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
        proc = subprocess.Popen(cmd, env=server_env(data_dir, credentials), cwd=data_dir, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    info = ServerInfo(pid=proc.pid, port=port, url=url, data_dir=str(data_dir))
    (data_dir / PID_FILE).write_text(json.dumps(asdict(info)) + "\n", encoding="utf-8")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            (data_dir / PID_FILE).unlink(missing_ok=True)
            raise catalogue.error(catalogue.server_exited(proc.returncode, data_dir / LOG_FILE, _log_tail(data_dir)))
        if health(url):
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
    start_server(building, port=0, venv=venv, timeout=timeout)
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
