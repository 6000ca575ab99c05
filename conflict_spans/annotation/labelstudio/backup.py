"""Back up and restore a Label Studio data dir: its database, media, credentials and secret key.

A backup is one folder::

    backup.json              what it is: kind (sqlite | postgresql), source, Label Studio version, files
    label_studio.sqlite3     SQLite: a consistent copy (sqlite3's online backup API, safe while the server runs)
    database.dump            PostgreSQL: ``pg_dump -Fc`` (custom format)
    media/                   uploads and other files Label Studio keeps in the data dir
    credentials.json, .env   the admin user and API token (conflict-spans), Django's SECRET_KEY (Label Studio)

Which database: the ``database`` URL when given, else the PostgreSQL database recorded in the data dir by
``start_server`` (``database.json``), else the data dir's SQLite file. The password is never written into
the backup (``backup.json`` holds the URL without it).

Both are atomic: the backup is built in a hidden sibling folder (``.<name>.partial-*``) and renamed to ``out``
only when complete; a restore builds the new data dir the same way, and ``pg_restore --single-transaction``
either restores every object or none. Nothing existing is overwritten: ``out`` must not exist, and the restore's
data dir must be new or empty (the PostgreSQL database itself is cleaned with ``--clean --if-exists``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from conflict_spans import problems as catalogue
from conflict_spans.annotation.labelstudio import server as ls_server

MANIFEST = "backup.json"
FORMAT = 1
SQLITE_FILE = ls_server.DATABASE_FILE
POSTGRES_DUMP = "database.dump"
KEPT_FILES = (ls_server.CREDENTIALS_FILE, ".env")  # .env: Label Studio's SECRET_KEY (sessions survive a restore)
KEPT_FOLDERS = ("media",)
SQLITE, POSTGRESQL = "sqlite", "postgresql"
PG_TOOL_TIMEOUT = 3600.0
DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class BackupInfo:
    path: str
    kind: str  # "sqlite" | "postgresql"
    source: str  # the SQLite file, or the PostgreSQL URL without its password
    label_studio: str
    created: str
    files: tuple[str, ...]
    seconds: float = 0.0


# ---- PostgreSQL client tools -----------------------------------------------------------------------

def _version_key(path: Path) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.]", path.name))


def find_pg_tool(name: str) -> Path:
    """``pg_dump`` / ``pg_restore``: from $PG_BIN, else PATH, else the newest /usr/lib/postgresql/*/bin (Debian)."""
    searched = []
    if os.environ.get("PG_BIN"):
        candidate = Path(os.environ["PG_BIN"]) / name
        searched.append(f"$PG_BIN={os.environ['PG_BIN']}")
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    searched.append("PATH")
    if found:
        return Path(found)
    debian = sorted(DEBIAN_PG_ROOT.glob("*/bin"), key=lambda p: _version_key(p.parent), reverse=True)
    searched.append(f"{DEBIAN_PG_ROOT}/*/bin")
    for folder in debian:
        if (folder / name).exists():
            return folder / name
    raise catalogue.error(catalogue.backup_tool_missing(name, "searched " + ", ".join(searched)))


def _run_pg_tool(tool: str, args: list[str], database: ls_server.PostgresDatabase) -> None:
    """Run a libpq tool on ``database``: the password goes through $PGPASSWORD, never the command line; no prompt (-w)."""
    exe = find_pg_tool(tool)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(database.libpq_env())
    done = subprocess.run([str(exe), "-w", *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=PG_TOOL_TIMEOUT)
    if done.returncode != 0:
        raise catalogue.error(catalogue.backup_tool_failed(tool, done.returncode, done.stderr or done.stdout, database.display_url))


# ---- shared helpers ----------------------------------------------------------------------------------

def _partial_sibling(path: Path) -> Path:
    return path.parent / f".{path.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"


def _make_parents(path: Path) -> list[Path]:
    """Create ``path``'s missing parent folders; the ones created, outermost first (removed again on failure)."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    if not parent.is_dir():
        raise catalogue.error(catalogue.output_parent_not_folder(path, parent, str(path)))
    created = []
    for folder in reversed(missing):
        folder.mkdir()
        created.append(folder)
    return created


def _undo(tmp: Path, created: list[Path]) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            pass


def _copy_kept(src: Path, dst: Path) -> list[str]:
    """Copy the data dir's credentials, secret key and media from ``src`` to ``dst``; the names copied."""
    copied = []
    for name in KEPT_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)
            copied.append(name)
    for name in KEPT_FOLDERS:
        if (src / name).is_dir():
            shutil.copytree(src / name, dst / name, symlinks=True)
            copied.append(name + "/")
    return copied


def _sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of an SQLite database, even while Label Studio writes to it (the online backup API)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=60)
    try:
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
            check = target.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            target.close()
    finally:
        source.close()
    if check != "ok":
        raise catalogue.error(catalogue.backup_not_a_backup(dst, f"the copied database fails SQLite's quick_check: {check}"))


def _running_pid(data_dir: Path) -> int | None:
    info = ls_server.read_server_info(data_dir)
    if info is not None and ls_server.is_alive(info.pid):
        return info.pid
    return None


# ---- backup ----------------------------------------------------------------------------------------------

def backup(data_dir: Path, out: Path, *, database: str | None = None) -> BackupInfo:
    """Back up the data dir's database (SQLite file or PostgreSQL database, see the module docstring) into the new folder ``out``.

    The server may keep running: sqlite3's backup API and pg_dump both take a consistent snapshot.
    """
    t0 = time.monotonic()
    data_dir = Path(data_dir).resolve()
    out = Path(out).absolute()
    if os.path.lexists(out):
        raise catalogue.error(catalogue.backup_output_exists(out))
    postgres = ls_server.parse_database_url(database) if database is not None else None
    if not data_dir.is_dir():
        raise catalogue.error(catalogue.backup_data_dir_missing(data_dir))
    if postgres is None:
        postgres = ls_server.read_database_record(data_dir)
    if postgres is None and not (data_dir / SQLITE_FILE).is_file():
        raise catalogue.error(catalogue.backup_data_dir_missing(data_dir))
    if postgres is not None:
        find_pg_tool("pg_dump")  # before anything is written
    created = _make_parents(out)
    tmp = _partial_sibling(out)
    try:
        tmp.mkdir()
        if postgres is None:
            _sqlite_copy(data_dir / SQLITE_FILE, tmp / SQLITE_FILE)
            kind, source, files = SQLITE, str(data_dir / SQLITE_FILE), [SQLITE_FILE]
        else:
            _run_pg_tool("pg_dump", ["-Fc", "-f", str(tmp / POSTGRES_DUMP)], postgres)
            kind, source, files = POSTGRESQL, postgres.display_url, [POSTGRES_DUMP]
        files += _copy_kept(data_dir, tmp)
        info = BackupInfo(path=str(out), kind=kind, source=source, label_studio=ls_server.LS_VERSION,
                          created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), files=tuple(files))
        manifest = {"format": FORMAT, "kind": info.kind, "source": info.source, "label_studio": info.label_studio,
                    "created": info.created, "files": list(info.files)}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        if os.path.lexists(out):
            raise catalogue.error(catalogue.backup_output_exists(out))
        os.rename(tmp, out)
    except BaseException:
        _undo(tmp, created)
        raise
    return BackupInfo(**{**info.__dict__, "seconds": time.monotonic() - t0})


# ---- restore ---------------------------------------------------------------------------------------------

def read_backup(path: Path) -> BackupInfo:
    """The backup's manifest, checked: a folder with backup.json naming a known kind and files that are there."""
    path = Path(path).absolute()
    if not (path / MANIFEST).is_file():
        raise catalogue.error(catalogue.backup_not_a_backup(path, f"no {MANIFEST} in it" if path.is_dir() else "no such folder"))
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        info = BackupInfo(path=str(path), kind=manifest["kind"], source=manifest["source"], label_studio=manifest["label_studio"],
                          created=manifest["created"], files=tuple(manifest["files"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise catalogue.error(catalogue.backup_not_a_backup(path, f"{MANIFEST} is unreadable ({exc})")) from None
    if info.kind not in (SQLITE, POSTGRESQL):
        raise catalogue.error(catalogue.backup_not_a_backup(path, f"unknown kind {info.kind!r}"))
    missing = [f for f in info.files if not (path / f.rstrip("/")).exists()]
    needed = SQLITE_FILE if info.kind == SQLITE else POSTGRES_DUMP
    if needed not in info.files:
        missing.append(needed)
    if missing:
        raise catalogue.error(catalogue.backup_not_a_backup(path, f"missing {', '.join(missing)}"))
    return info


def restore(backup_dir: Path, data_dir: Path, *, database: str | None = None) -> BackupInfo:
    """Restore a backup into the new (or empty) data dir ``data_dir``; a PostgreSQL backup also into ``database``.

    A PostgreSQL backup needs ``database`` (an existing, preferably empty, database: ``pg_restore --clean --if-exists
    --no-owner --single-transaction`` replaces the objects the dump has). Start the server on it afterwards with
    ``start_server(data_dir)``: the data dir records the database.
    """
    t0 = time.monotonic()
    info = read_backup(Path(backup_dir))
    data_dir = Path(data_dir).absolute()
    pid = _running_pid(data_dir) if data_dir.is_dir() else None
    if pid is not None:
        raise catalogue.error(catalogue.server_still_running(data_dir, pid, "a restore"))
    if os.path.lexists(data_dir) and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise catalogue.error(catalogue.restore_target_not_empty(data_dir))
    postgres = None
    if info.kind == POSTGRESQL:
        if database is None:
            raise catalogue.error(catalogue.restore_needs_database(Path(info.path), info.source))
        postgres = ls_server.parse_database_url(database)
        find_pg_tool("pg_restore")
    elif database is not None:
        raise catalogue.error(catalogue.restore_sqlite_with_database(Path(info.path)))
    src = Path(info.path)
    created = _make_parents(data_dir)
    tmp = _partial_sibling(data_dir)
    try:
        tmp.mkdir(mode=0o700)
        if postgres is None:
            _sqlite_copy(src / SQLITE_FILE, tmp / SQLITE_FILE)
        else:
            ls_server.write_database_record(tmp, postgres)
        _copy_kept(src, tmp)
        if postgres is not None:
            _run_pg_tool("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                                        "-d", postgres.name, str(src / POSTGRES_DUMP)], postgres)
        if data_dir.is_dir():
            data_dir.rmdir()  # empty (checked above); rmdir refuses if something appeared meanwhile
        os.rename(tmp, data_dir)
    except BaseException:
        _undo(tmp, created)
        raise
    return BackupInfo(**{**info.__dict__, "path": str(data_dir), "seconds": time.monotonic() - t0})
