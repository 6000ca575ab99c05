"""Server and command-line checks that need no running Label Studio."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conflict_spans.annotation.labelstudio import server
from conflict_spans.annotation.labelstudio.client import resolve_connection
from conflict_spans.cli import main
from conflict_spans.problems import CorpusError


@pytest.fixture(autouse=True)
def no_ls_env(monkeypatch):
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", server.ENV_USERNAME, server.ENV_PASSWORD, server.ENV_TOKEN):
        monkeypatch.delenv(name, raising=False)


def test_missing_venv_is_a_clear_error(tmp_path, capsys):
    assert main(["ls", "server", "start", "--data-dir", str(tmp_path / "d"), "--venv", str(tmp_path / "no-venv")]) == 1
    assert "scripts/labelstudio-venv.sh" in capsys.readouterr().err


def test_stop_without_a_server(tmp_path, capsys):
    assert main(["ls", "server", "stop", "--data-dir", str(tmp_path)]) == 0
    assert "no server running" in capsys.readouterr().out


def test_stop_refuses_a_reused_pid(tmp_path):
    """A pid file whose process is not Label Studio (the pid was reused) is never killed."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        info = server.ServerInfo(pid=proc.pid, port=1, url="http://127.0.0.1:1", data_dir=str(tmp_path))
        (tmp_path / server.PID_FILE).write_text(json.dumps(info.__dict__), encoding="utf-8")
        with pytest.raises(CorpusError, match="is not Label Studio"):
            server.stop_server(tmp_path)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_stale_pid_file_is_cleaned_up(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    info = server.ServerInfo(pid=proc.pid, port=1, url="http://127.0.0.1:1", data_dir=str(tmp_path))
    (tmp_path / server.PID_FILE).write_text(json.dumps(info.__dict__), encoding="utf-8")
    assert server.stop_server(tmp_path) == info
    assert not (tmp_path / server.PID_FILE).exists()


def test_credentials_are_generated_once_and_private(tmp_path):
    first = server._resolve_credentials(tmp_path)
    assert server._resolve_credentials(tmp_path) == first
    assert len(first.token) == 40 and first.password
    assert (tmp_path / server.CREDENTIALS_FILE).stat().st_mode & 0o077 == 0


def test_credentials_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(server.ENV_USERNAME, "me@example.org")
    monkeypatch.setenv(server.ENV_TOKEN, "t" * 40)
    creds = server._resolve_credentials(tmp_path)
    assert (creds.username, creds.token) == ("me@example.org", "t" * 40)


def test_changed_token_after_creation_is_an_error(tmp_path, monkeypatch):
    server._resolve_credentials(tmp_path)
    monkeypatch.setenv(server.ENV_TOKEN, "x" * 40)
    with pytest.raises(CorpusError, match="LABEL_STUDIO_USER_TOKEN differs"):
        server._resolve_credentials(tmp_path)


def test_server_environment_is_quiet_and_local(tmp_path, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_HOST", "http://0.0.0.0:9999")  # stray settings of the caller do not leak in
    env = server.server_env(tmp_path, server.Credentials("u@example.org", "p", "t" * 40))
    assert "LABEL_STUDIO_HOST" not in env
    assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path)
    assert {k: env[k] for k in ("LATEST_VERSION_CHECK", "COLLECT_ANALYTICS", "SENTRY_DSN", "FRONTEND_SENTRY_DSN")} == \
        {"LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""}


def test_template_must_be_complete(tmp_path):
    with pytest.raises(CorpusError, match="ls server template"):
        server.copy_template(tmp_path / "missing", tmp_path / "data")


def test_connection_needs_a_server_or_url(tmp_path):
    with pytest.raises(CorpusError, match="no Label Studio URL"):
        resolve_connection(None, None, tmp_path)
    with pytest.raises(CorpusError, match="no API token"):
        resolve_connection("http://127.0.0.1:1", None, tmp_path)
    conn = resolve_connection("http://127.0.0.1:1/", "tok", tmp_path)
    assert (conn.url, conn.token) == ("http://127.0.0.1:1", "tok")


def test_unreachable_server_is_a_clear_error(tmp_path, capsys):
    url = f"http://127.0.0.1:{server.free_port()}"
    assert main(["ls", "pull", "--url", url, "--token", "t", "--project", "p", "--output", str(tmp_path / "o.jsonl")]) == 1
    assert f"cannot reach Label Studio at {url}" in capsys.readouterr().err


@pytest.mark.parametrize("argv, fragment", [
    (["ls", "push", "--url", "http://127.0.0.1:1", "--token", "t", "--project", "p"], "nothing to push"),
    (["ls", "pull", "--url", "http://127.0.0.1:1", "--token", "t", "--project", "p", "--output", "x", "--policy", "all", "--annotator", "a@b.org"], "--policy all"),
])
def test_argument_errors(argv, fragment, capsys):
    assert main(argv) == 1
    assert fragment in capsys.readouterr().err


def test_a_running_process_is_alive_and_its_command_line_read_a_zombie_is_not_alive():
    """is_alive and _cmdline (through psutil): a killed child that is not reaped yet is a zombie, so not alive."""
    import time

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "label-studio-lookalike"])
    try:
        assert server.is_alive(proc.pid)
        deadline = time.monotonic() + 10  # between fork and exec the child's command line reads empty (seen under load)
        while not server._cmdline(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server._cmdline(proc.pid).endswith("time.sleep(60) label-studio-lookalike")
        proc.kill()  # not waited for: it stays a zombie until reaped
        deadline = time.monotonic() + 10
        while server.is_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server.is_alive(proc.pid)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert not server.is_alive(proc.pid) and server._cmdline(proc.pid) == ""
