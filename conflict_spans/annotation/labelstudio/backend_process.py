"""``conflict-spans ls backend start|stop``: the ML backend as a background process, known by its pid file.

``start`` runs ``conflict-spans ls backend run ... --state-dir DIR`` in a new
session, its output in ``DIR/backend.log``, and waits until the backend reports
itself ready in ``DIR/backend.json`` (its URL and, with ``--project``, the
Label Studio connection it made). ``stop`` sends SIGTERM to that pid, after
checking that the pid is still a conflict-spans backend; the backend then
removes its connection from the project and deletes the pid file, so the
project no longer lists a backend that is gone ("Disconnected" in the UI).
A backend killed without that chance (SIGKILL after the grace period) leaves
the connection: ``stop`` says which one, and how to remove it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from conflict_spans import problems as catalogue
from conflict_spans.annotation.labelstudio.server import _cmdline, _reap, _terminate_group, is_alive
from conflict_spans.paths import WORK_DIR
from conflict_spans.problems import CorpusError

DEFAULT_STATE_DIR = WORK_DIR / ".ls-data" / "backend"
STATE_FILE = "backend.json"
LOG_FILE = "backend.log"
MARKERS = ("conflict_spans", "backend", "run")  # every one is in a backend's command line


@dataclass
class BackendInfo:
    pid: int
    log: str
    ready: bool = False
    url: str | None = None
    label_studio: str | None = None  # the server it connected to
    project: str | None = None
    backend_id: int | None = None  # its ML backend (connection) id in that project


def read_backend_info(state_dir: Path) -> BackendInfo | None:
    path = Path(state_dir) / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return BackendInfo(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise CorpusError(catalogue.backend_state_unreadable(path, str(exc))) from None


def write_backend_info(state_dir: Path, info: BackendInfo) -> None:
    """Written whole into a temporary file and renamed: a reader never sees half a file."""
    state_dir = Path(state_dir)
    tmp = state_dir / f".{STATE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(info)) + "\n", encoding="utf-8")
    os.replace(tmp, state_dir / STATE_FILE)


def is_backend(pid: int) -> bool:
    line = _cmdline(pid)
    return all(marker in line for marker in MARKERS)


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_backend(run_args: list[str], state_dir: Path = DEFAULT_STATE_DIR, *, timeout: float = 180.0,
                  env: dict[str, str] | None = None) -> tuple[BackendInfo, bool]:
    """Start ``ls backend run RUN_ARGS`` in the background; (its info, whether it was already running).

    Returns when the backend has written ``ready`` into its state file: it is
    serving, and connected to its project when one was named. A backend that
    exits first, or is not ready within ``timeout`` seconds, is an error quoting
    the end of its log (and is stopped). ``env`` is added to the process's
    environment (an API token goes there, not on its command line, which ``ps`` shows).
    """
    state_dir = Path(state_dir).resolve()
    running = read_backend_info(state_dir)
    if running is not None:
        if is_alive(running.pid) and is_backend(running.pid):
            return running, True
        (state_dir / STATE_FILE).unlink()  # stale: the process is gone
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / LOG_FILE
    cmd = [sys.executable, "-u", "-m", "conflict_spans.cli", "ls", "backend", "run", *run_args, "--state-dir", str(state_dir)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, **(env or {})})
    write_backend_info(state_dir, BackendInfo(pid=proc.pid, log=str(log)))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            (state_dir / STATE_FILE).unlink(missing_ok=True)
            raise CorpusError(catalogue.backend_exited(proc.returncode, log, _log_tail(log)))
        info = read_backend_info(state_dir)
        if info is not None and info.ready:
            return info, False
        time.sleep(0.2)
    _terminate_group(proc.pid, grace=10.0)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    raise CorpusError(catalogue.backend_timeout(timeout, log, _log_tail(log)))


@dataclass
class Stopped:
    info: BackendInfo
    was_running: bool  # False: the process was already gone (a stale pid file)
    connection_left: bool  # the backend ended without removing its project connection (killed, or crashed)


def stop_backend(state_dir: Path = DEFAULT_STATE_DIR, *, grace: float = 30.0) -> Stopped | None:
    """Stop the backend started from ``state_dir`` by the pid in its state file; None when there is no state file.

    The backend deletes its state file after removing its connection from the
    project; a state file that outlives the process therefore means that the
    connection may be left (``connection_left``, when it had one).
    """
    state_dir = Path(state_dir).resolve()
    info = read_backend_info(state_dir)
    if info is None:
        return None
    running = is_alive(info.pid)
    if running:
        if not is_backend(info.pid):
            raise CorpusError(catalogue.pid_not_backend(info.pid, state_dir / STATE_FILE))
        _terminate_group(info.pid, grace)
        _reap(info.pid)
        if is_alive(info.pid):
            raise CorpusError(catalogue.backend_would_not_stop(info.pid))
    left = (state_dir / STATE_FILE).exists() and info.backend_id is not None
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return Stopped(info, running, left)


__all__ = ["BackendInfo", "Stopped", "DEFAULT_STATE_DIR", "read_backend_info", "write_backend_info", "start_backend", "stop_backend"]
