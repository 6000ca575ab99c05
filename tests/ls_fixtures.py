"""Pytest fixtures for tests against a real Label Studio server.

Import them into a test module with ``from ls_fixtures import *``.

The first server of a run migrates a template data dir (about a minute, once:
``.ls-data/template``, reused by later runs); every test session then copies the
template into a temporary data dir and starts from it on a free port
(seconds). The server is stopped by its pid when the last module using it is
done. ``.ci/labelstudio.sh`` installs what these tests need.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from conflict_spans.annotation.labelstudio import server as ls_server_mod
from conflict_spans.annotation.labelstudio.client import Connection, connect

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

__all__ = ["ls_server", "ls_connection", "ls_client", "project_title", "ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS", "REPO_ROOT"]


class _SharedServer:
    """One server per test session, shared by every module that imports these fixtures."""

    def __init__(self) -> None:
        self.users = 0
        self.info: ls_server_mod.ServerInfo | None = None
        self.credentials: ls_server_mod.Credentials | None = None
        self.data_dir: Path | None = None

    def acquire(self, tmp_root: Path) -> tuple[ls_server_mod.ServerInfo, ls_server_mod.Credentials]:
        if self.info is None:
            if not (ls_server_mod.DEFAULT_VENV / "bin" / "label-studio").exists():
                pytest.fail(f"Label Studio is not installed in {ls_server_mod.DEFAULT_VENV}: run scripts/labelstudio-venv.sh "
                            "(or .ci/labelstudio.sh), or deselect these tests with -m 'not labelstudio'")
            template = ls_server_mod.make_template(ls_server_mod.DEFAULT_TEMPLATE_DIR)
            self.data_dir = tmp_root / "ls-data"
            self.info = ls_server_mod.start_server(self.data_dir, port=0, template=template, timeout=180)
            self.credentials = ls_server_mod.read_credentials(self.data_dir)
        self.users += 1
        return self.info, self.credentials

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.info is not None:
            stopped = ls_server_mod.stop_server(self.data_dir)
            pid = self.info.pid
            self.info = None
            assert stopped is not None and not ls_server_mod.is_alive(pid), f"Label Studio pid {pid} survived stop_server"
            shutil.rmtree(self.data_dir, ignore_errors=True)


_shared = _SharedServer()


@pytest.fixture(scope="session")
def ls_server(tmp_path_factory):
    """(ServerInfo, Credentials) of a running Label Studio on 127.0.0.1."""
    pair = _shared.acquire(tmp_path_factory.mktemp("labelstudio"))
    yield pair
    _shared.release()


@pytest.fixture(scope="session")
def ls_connection(ls_server) -> Connection:
    info, creds = ls_server
    return Connection(info.url, creds.token)


@pytest.fixture(scope="session")
def ls_client(ls_connection):
    return connect(ls_connection)


@pytest.fixture
def project_title(request) -> str:
    """A project title unique to the test (projects are never shared between tests)."""
    return f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"  # Label Studio allows 50 characters
