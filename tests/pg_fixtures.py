"""A throwaway PostgreSQL 15 cluster for tests marked ``postgres``.

Import the fixtures into a test module with ``from pg_fixtures import *``.

``pg_cluster`` (session) creates a cluster with ``initdb`` in a temporary folder,
starts it with ``pg_ctl`` on 127.0.0.1 and a free port (its unix socket in the
same private folder), and makes a login role with a password. ``pg_url`` is a
new database owned by that role, as ``postgresql://USER:PASSWORD@127.0.0.1:PORT/NAME``;
``pg_cluster.new_database()`` makes more. At the end the cluster is stopped by
the postmaster's pid (``postmaster.pid``), checked to be gone, and deleted.
Nothing leaves the machine: no package index, no outbound connection.

As root the cluster runs as the ``postgres`` user (``runuser``): PostgreSQL
refuses to run as root. Missing binaries FAIL the tests (run ``.ci/postgres.sh``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"  # the OS user that runs the cluster when the tests run as root
ROLE = "cs_ls"

__all__ = ["pg_cluster", "pg_url", "PgCluster", "PG_BIN", "require_postgres"]


def require_postgres() -> None:
    """Fail (not skip) when PostgreSQL's server binaries are missing, saying how to install them."""
    missing = [name for name in ("initdb", "pg_ctl", "postgres", "psql", "pg_dump", "pg_restore") if not (PG_BIN / name).exists()]
    if missing:
        pytest.fail(f"PostgreSQL 15 is not installed ({', '.join(missing)} missing in {PG_BIN}): run .ci/postgres.sh "
                    "(or set PG_BIN to a PostgreSQL bin folder), or deselect these tests with -m 'not postgres'")


def _as_pg_user(root: Path) -> list[str]:
    """The prefix that runs a command as the cluster's OS user.

    Some containers make /dev/null root-only (mode 600), which initdb and pg_ctl need to write. There the command runs
    in a private mount namespace (unshare -m) in which a world-writable null device from the cluster folder is mounted
    on /dev/null; the machine's own /dev/null is left as it is.
    """
    if os.geteuid() != 0:
        return []
    prefix = ["runuser", "-u", PG_USER, "--"]
    if subprocess.run([*prefix, "sh", "-c", ": > /dev/null"], capture_output=True).returncode == 0:
        return prefix
    devnull = root / "devnull"
    if not devnull.exists():
        try:
            os.mknod(devnull, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except OSError:  # no CAP_MKNOD: an ordinary file takes what is written to it
            devnull.touch()
        os.chmod(devnull, 0o666)
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /dev/null && exec "$@"', str(devnull), *prefix]


def _clean_env() -> dict[str, str]:
    """The environment without the caller's PG* settings (a stray PGHOST must not redirect the fixture)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PgCluster:
    root: Path
    port: int
    password: str
    role: str = ROLE
    pid: int | None = None
    databases: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def run(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        done = subprocess.run([*_as_pg_user(self.root), *cmd], capture_output=True, text=True, env=_clean_env(), cwd=self.root, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stdout}\n{done.stderr}")
        return done

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the cluster's superuser over its private unix socket."""
        return self.run(str(PG_BIN / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.root), "-p", str(self.port),
                        "-U", PG_USER, "-d", database, "-c", sql).stdout

    def new_database(self, name: str | None = None) -> str:
        """A new, empty database owned by the login role; its URL (with the password)."""
        name = name or f"ls_{secrets.token_hex(4)}"
        self.psql(f'CREATE DATABASE "{name}" OWNER "{self.role}"')
        self.databases.append(name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql://{self.role}:{self.password}@127.0.0.1:{self.port}/{name}"

    def tables(self, name: str) -> int:
        return int(self.psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", database=name).strip())

    def postmaster_pid(self) -> int | None:
        path = self.data / "postmaster.pid"
        if not path.exists():
            return None
        return int(path.read_text(encoding="utf-8").splitlines()[0])

    def start(self) -> None:
        opts = (f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -p {self.port} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")  # a throwaway cluster: speed over durability
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-o", opts, "-w", "-t", "60", "start", timeout=90)
        self.pid = self.postmaster_pid()
        assert self.pid and psutil.pid_exists(self.pid), f"no postmaster after pg_ctl start; log:\n{(self.root / 'postgres.log').read_text()}"

    def stop(self, grace: float = 30.0) -> None:
        """Stop the postmaster by its pid (fast shutdown: SIGINT; SIGKILL after ``grace``) and check it is gone."""
        pid = self.postmaster_pid() or self.pid
        if pid is None:
            return
        for sig in (signal.SIGINT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if not _alive(pid):
                break
        assert not _alive(pid), f"PostgreSQL postmaster {pid} survived SIGINT and SIGKILL"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() not in {psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD}
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="session")
def pg_cluster():
    """A running PostgreSQL 15 cluster on 127.0.0.1 (see the module docstring); stopped by its pid at the end."""
    require_postgres()
    root = Path(tempfile.mkdtemp(prefix="cs-pg-"))  # directly under /tmp: the postgres user must reach it
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER, PG_USER)
    os.chmod(root, 0o700)
    cluster = PgCluster(root=root, port=_free_port(), password=secrets.token_urlsafe(16))
    pwfile = root / "superuser.pw"
    try:
        pwfile.write_text(secrets.token_urlsafe(16) + "\n", encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(pwfile, PG_USER, PG_USER)
        os.chmod(pwfile, 0o600)
        # local (socket, private folder): trust; TCP on 127.0.0.1: passwords only
        cluster.run(str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", PG_USER, "--pwfile", str(pwfile), "--auth-local=trust",
                    "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", timeout=120)
        cluster.start()
        cluster.psql(f"CREATE ROLE \"{cluster.role}\" LOGIN PASSWORD '{cluster.password}'")
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(pg_cluster) -> str:
    """A new database on the cluster, owned by a password role: postgresql://USER:PASSWORD@127.0.0.1:PORT/NAME."""
    return pg_cluster.new_database("labelstudio")
