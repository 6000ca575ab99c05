"""`ls backend start|stop` by its pid file, where no Label Studio is needed (the real-server run is in test_labelstudio_integration.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict

import pytest

from conflict_spans.annotation.labelstudio import backend_process as bp
from conflict_spans.cli import main
from conflict_spans.problems import CorpusError


def write_state(folder, **fields) -> bp.BackendInfo:
    folder.mkdir(parents=True, exist_ok=True)
    info = bp.BackendInfo(**{"log": str(folder / bp.LOG_FILE), **fields})
    (folder / bp.STATE_FILE).write_text(json.dumps(asdict(info)), encoding="utf-8")
    return info


def test_stop_without_a_backend(tmp_path, capsys):
    assert main(["ls", "backend", "stop", "--state-dir", str(tmp_path)]) == 0
    assert "no ML backend running" in capsys.readouterr().out


def test_stop_refuses_a_reused_pid(tmp_path):
    """A pid file whose process is not a conflict-spans backend (the pid was reused) is never killed."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_state(tmp_path, pid=proc.pid, ready=True, url="http://127.0.0.1:1")
        with pytest.raises(CorpusError, match="not a conflict-spans ML backend"):
            bp.stop_backend(tmp_path)
        assert proc.poll() is None and (tmp_path / bp.STATE_FILE).exists()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_stale_pid_file_is_cleaned_up_and_a_left_connection_named(tmp_path, capsys):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    write_state(tmp_path, pid=proc.pid, ready=True, url="http://127.0.0.1:1", label_studio="http://127.0.0.1:2", project="P", backend_id=7)
    assert main(["ls", "backend", "stop", "--state-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "was not running any more" in out and "connection 7 from project 'P'" in err and "Settings > Model" in err
    assert not (tmp_path / bp.STATE_FILE).exists()


def test_an_unreadable_state_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / bp.STATE_FILE).write_text("{not json", encoding="utf-8")
    assert main(["ls", "backend", "stop", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "[ls-backend]" in err and str(tmp_path / bp.STATE_FILE) in err
    assert (tmp_path / bp.STATE_FILE).read_text(encoding="utf-8") == "{not json"  # left for the user to look at


@pytest.mark.parametrize("action", ["start", "run"])
def test_start_and_run_need_a_model(tmp_path, capsys, action):
    assert main(["ls", "backend", action, "--state-dir", str(tmp_path / "b")]) == 1
    assert f"`ls backend {action}` needs --model" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_a_backend_that_exits_before_it_is_ready_is_reported_with_its_log(tmp_path, capsys):
    state = tmp_path / "b"
    assert main(["ls", "backend", "start", "--model", str(tmp_path / "no-model"), "--port", "0", "--state-dir", str(state), "--timeout", "120"]) == 1
    err = capsys.readouterr().err
    assert "exited with code 1 before it was ready" in err and "no-model" in err and str(state / bp.LOG_FILE) in err
    assert not (state / bp.STATE_FILE).exists()


# ---- ls annotators add: bad input is refused before the server is asked ------------------------------------------

@pytest.mark.parametrize("emails, fragment", [(["alice"], "not an email address"), (["a@x.org", "A@x.org"], "given twice")], ids=["not-an-email", "twice"])
def test_annotators_add_checks_the_emails_first(capsys, emails, fragment):
    assert main(["ls", "annotators", "add", "--url", "http://127.0.0.1:9", "--token", "t" * 40, *emails]) == 1
    err = capsys.readouterr().err
    assert "[ls-annotator]" in err and fragment in err and "ls-connect" not in err
