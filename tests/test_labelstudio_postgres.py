"""Label Studio on PostgreSQL, and backup / restore (issue 13).

The database URL and env form, the backup's and restore's bad inputs: no server needed. Then, against real
servers (markers labelstudio, postgres): the push / pull round trip on PostgreSQL, backup, a fresh server on a
new database restored from it, the same documents pulled again; and the same backup / restore on SQLite.
Every server started here is stopped by its pid.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from conflict_spans.annotation.labelstudio import backup as ls_backup
from conflict_spans.annotation.labelstudio import server as ls_server_mod
from conflict_spans.annotation.labelstudio.client import Connection, push_documents
from conflict_spans.cli import main
from conflict_spans.corpus.io import read_documents, write_jsonl
from conflict_spans.problems import CorpusError

import test_labelstudio_integration as sqlite_loop  # the SQLite round trip's documents and helpers
from ls_fixtures import *  # noqa: F403
from pg_fixtures import *  # noqa: F403

SYNTHETIC, as_dicts, conn_args = sqlite_loop.SYNTHETIC, sqlite_loop.as_dicts, sqlite_loop.conn_args
corpus_docs = sqlite_loop.corpus_docs  # the fixture: the bundled corpus, built into a temporary folder
PG_ENV = ("DJANGO_DB", *ls_server_mod.ENV_POSTGRES)


@pytest.fixture(autouse=True)
def no_database_env(monkeypatch):
    for name in PG_ENV:
        monkeypatch.delenv(name, raising=False)


# ---- the database URL ------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("postgresql://ls:secret@127.0.0.1:5433/labelstudio", ("ls", "secret", "127.0.0.1", 5433, "labelstudio")),
    ("postgres://ls@localhost/labelstudio", ("ls", "", "localhost", 5432, "labelstudio")),  # no password, default port
    ("postgresql://ls:p%40ss%3Aw%2Fd@db.internal:6000/my%20db", ("ls", "p@ss:w/d", "db.internal", 6000, "my db")),  # percent-encoded
    ("postgresql://ls:x@[::1]:5432/ls", ("ls", "x", "::1", 5432, "ls")),
])
def test_database_url_is_parsed(url, expected):
    db = ls_server_mod.parse_database_url(url)
    assert (db.user, db.password, db.host, db.port, db.name) == expected
    assert ls_server_mod.parse_database_url(db.url) == db  # the URL written back parses to the same database
    assert db.password == "" or db.password not in db.display_url
    assert db.env() == {"DJANGO_DB": "default", "POSTGRE_NAME": expected[4], "POSTGRE_USER": "ls", "POSTGRE_PASSWORD": expected[1],
                        "POSTGRE_HOST": expected[2], "POSTGRE_PORT": str(expected[3])}


@pytest.mark.parametrize("url, fragment", [
    ("", "it is empty"),
    ("mysql://ls:secret@127.0.0.1:3306/ls", "only PostgreSQL database URLs are supported, this one is mysql"),
    ("sqlite:///tmp/ls.sqlite3", "only PostgreSQL database URLs are supported, this one is sqlite"),
    ("127.0.0.1:5432/labelstudio", "only PostgreSQL"),
    ("postgresql://127.0.0.1:5432/labelstudio", "names no user"),
    ("postgresql://ls:secret@:5432/labelstudio", "names no host"),
    ("postgresql://ls:secret@127.0.0.1:fivefour/labelstudio", "port is not a number"),
    ("postgresql://ls:secret@127.0.0.1:70000/labelstudio", "port is not a number"),
    ("postgresql://ls:secret@127.0.0.1:0/labelstudio", "port is not a number"),
    ("postgresql://ls:secret@127.0.0.1:5432", "names no database"),
    ("postgresql://ls:secret@127.0.0.1:5432/", "names no database"),
    ("postgresql://ls:secret@127.0.0.1:5432/a/b", "more than one database name"),
    ("postgresql://ls:secret@127.0.0.1:5432/ls?sslmode=require", "?options"),
], ids=["empty", "mysql", "sqlite", "no-scheme", "no-user", "no-host", "port-not-a-number", "port-too-big", "port-zero",
        "no-name", "empty-name", "nested-name", "options"])
def test_bad_database_url_is_a_clear_error(url, fragment):
    with pytest.raises(CorpusError) as err:
        ls_server_mod.parse_database_url(url)
    (problem,) = err.value.problems
    assert problem.code == "ls-database" and fragment in problem.message
    assert "postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME" in problem.fix
    assert "secret" not in str(err.value)  # the value is named, its password masked
    if url:
        assert problem.value == url.replace(":secret@", ":***@")


def test_env_form_is_label_studios_own(monkeypatch):
    assert ls_server_mod.database_from_env({}) is None
    assert ls_server_mod.database_from_env({"DJANGO_DB": "sqlite", "POSTGRE_NAME": "x"}) is None
    env = {"DJANGO_DB": "default", "POSTGRE_NAME": "ls", "POSTGRE_USER": "u", "POSTGRE_PASSWORD": "pw", "POSTGRE_HOST": "127.0.0.1", "POSTGRE_PORT": "5433"}
    assert ls_server_mod.database_from_env(env) == ls_server_mod.PostgresDatabase("u", "pw", "127.0.0.1", 5433, "ls")
    # Label Studio's defaults (core/settings/base.py) for the ones left out
    assert ls_server_mod.database_from_env({"DJANGO_DB": "default"}) == ls_server_mod.PostgresDatabase("postgres", "postgres", "localhost", 5432, "postgres")
    with pytest.raises(CorpusError, match=r"\$POSTGRE_PORT is not a port number"):
        ls_server_mod.database_from_env({"DJANGO_DB": "default", "POSTGRE_PORT": "x"})


def test_argument_beats_env_beats_the_data_dirs_record(tmp_path, monkeypatch):
    recorded = ls_server_mod.parse_database_url("postgresql://rec:r@127.0.0.1:5001/recorded")
    ls_server_mod.write_database_record(tmp_path, recorded)
    assert (tmp_path / ls_server_mod.DATABASE_RECORD).stat().st_mode & 0o077 == 0  # it holds the password
    assert ls_server_mod.resolve_database(tmp_path) == recorded
    monkeypatch.setenv("DJANGO_DB", "default")
    monkeypatch.setenv("POSTGRE_NAME", "from_env")
    assert ls_server_mod.resolve_database(tmp_path).name == "from_env"
    assert ls_server_mod.resolve_database(tmp_path, "postgresql://arg:a@127.0.0.1:5002/from_arg").name == "from_arg"
    assert ls_server_mod.resolve_database(tmp_path / "new").name == "from_env"
    monkeypatch.delenv("DJANGO_DB")
    assert ls_server_mod.resolve_database(tmp_path / "new") is None  # SQLite


def test_server_env_sets_postgres_and_never_mixes_the_callers(tmp_path, monkeypatch):
    creds = ls_server_mod.Credentials("u@example.org", "p", "t" * 40)
    monkeypatch.setenv("POSTGRE_HOST", "db.elsewhere")
    monkeypatch.setenv("POSTGRE_PASSWORD", "callers")
    db = ls_server_mod.parse_database_url("postgresql://ls:pw@127.0.0.1:5433/ls")
    env = ls_server_mod.server_env(tmp_path, creds, db)
    assert {k: env[k] for k in PG_ENV} == db.env()
    sqlite_env = ls_server_mod.server_env(tmp_path, creds)
    assert sqlite_env["DJANGO_DB"] == "sqlite" and not any(k in sqlite_env for k in ls_server_mod.ENV_POSTGRES)


@pytest.fixture
def fake_venv(tmp_path) -> Path:
    """A venv whose label-studio exists (the checks before a start pass) but is never run by these tests."""
    exe = tmp_path / "venv" / "bin" / "label-studio"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    exe.chmod(0o755)
    return tmp_path / "venv"


def test_template_with_postgres_is_refused(tmp_path, fake_venv):
    with pytest.raises(CorpusError, match="drop --template") as err:
        ls_server_mod.start_server(tmp_path / "d", port=0, venv=fake_venv, template=tmp_path / "t",
                                   database="postgresql://ls:pw@127.0.0.1:5433/ls")
    assert err.value.problems[0].code == "ls-template"


def test_a_malformed_url_stops_the_start_before_anything_is_written(tmp_path, fake_venv):
    with pytest.raises(CorpusError, match="names no database"):
        ls_server_mod.start_server(tmp_path / "d", port=0, venv=fake_venv, database="postgresql://ls:pw@127.0.0.1:5433")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("running, asked, ok", [(None, "sqlite", True), (None, "postgresql://ls:pw@127.0.0.1:5433/ls", False),
                                                 ("postgresql://ls@127.0.0.1:5433/ls", "postgresql://ls:pw@127.0.0.1:5433/ls", True),
                                                 ("postgresql://ls@127.0.0.1:5433/ls", "sqlite", False),
                                                 ("postgresql://ls@127.0.0.1:5433/ls", "postgresql://ls:pw@127.0.0.1:5433/other", False),
                                                 ("postgresql://ls@127.0.0.1:5433/ls", None, True)])
def test_a_running_server_is_reused_only_on_the_database_asked_for(tmp_path, fake_venv, monkeypatch, running, asked, ok):
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    info = ls_server_mod.ServerInfo(pid=os.getpid(), port=1, url="http://127.0.0.1:1", data_dir=str(data_dir), database=running)
    (data_dir / ls_server_mod.PID_FILE).write_text(json.dumps(info.__dict__), encoding="utf-8")
    monkeypatch.setattr(ls_server_mod, "health", lambda url: True)  # it answers
    if ok:
        assert ls_server_mod.start_server(data_dir, venv=fake_venv, database=asked) == info
        return
    with pytest.raises(CorpusError, match="already runs from this data dir") as err:
        ls_server_mod.start_server(data_dir, venv=fake_venv, database=asked)
    problem = err.value.problems[0]
    assert problem.code == "ls-database" and (running or "SQLite") in problem.message and "ls server stop" in problem.fix
    assert (data_dir / ls_server_mod.PID_FILE).exists()  # nothing stopped, nothing removed


def test_postgres_server_that_exits_names_the_database(tmp_path, fake_venv):
    with pytest.raises(CorpusError) as err:
        ls_server_mod.start_server(tmp_path / "d", port=0, venv=fake_venv, database="postgresql://ls:pw@127.0.0.1:5433/ls")
    assert "on PostgreSQL postgresql://ls@127.0.0.1:5433/ls exited with code 3" in str(err.value) and "pw" not in str(err.value)
    assert not (tmp_path / "d" / "database.json").exists()  # a database that did not work is not remembered


# ---- backup and restore: bad inputs ---------------------------------------------------------------------

@pytest.fixture
def sqlite_data_dir(tmp_path) -> Path:
    """A data dir with a small SQLite database, credentials and media, as a stopped server leaves it."""
    import sqlite3

    d = tmp_path / "data"
    (d / "media" / "upload").mkdir(parents=True)
    (d / "media" / "upload" / "a.txt").write_text("uploaded", encoding="utf-8")
    ls_server_mod.write_credentials(d, ls_server_mod.Credentials("u@example.org", "p", "t" * 40))
    (d / ".env").write_text("SECRET_KEY=abc\n", encoding="utf-8")
    with sqlite3.connect(d / ls_server_mod.DATABASE_FILE) as con:
        con.execute("CREATE TABLE t (x TEXT)")
        con.execute("INSERT INTO t VALUES ('kept')")
    con.close()
    (d / "server.log").write_text("not backed up", encoding="utf-8")
    return d


def test_sqlite_backup_and_restore_of_files(sqlite_data_dir, tmp_path):
    import sqlite3

    out = tmp_path / "backups" / "b1"  # missing parents are made
    info = ls_backup.backup(sqlite_data_dir, out)
    assert info.kind == "sqlite" and sorted(os.listdir(out)) == sorted([".env", "backup.json", "credentials.json", "label_studio.sqlite3", "media"])
    assert [p.name for p in out.parent.iterdir()] == ["b1"]  # no partial folder left beside it
    restored = tmp_path / "restored"
    ls_backup.restore(out, restored)
    con = sqlite3.connect(restored / ls_server_mod.DATABASE_FILE)
    assert con.execute("SELECT x FROM t").fetchall() == [("kept",)]
    con.close()
    assert (restored / "media" / "upload" / "a.txt").read_text() == "uploaded"
    assert ls_server_mod.read_credentials(restored) == ls_server_mod.read_credentials(sqlite_data_dir)
    assert (restored / "credentials.json").stat().st_mode & 0o077 == 0 and not (restored / "server.log").exists()


def test_backup_of_a_missing_data_dir(tmp_path):
    with pytest.raises(CorpusError, match="does not exist or holds no Label Studio database"):
        ls_backup.backup(tmp_path / "nope", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_backup_of_a_data_dir_without_database(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds no Label Studio database"):
        ls_backup.backup(tmp_path / "empty", tmp_path / "out")


def test_backup_never_overwrites(sqlite_data_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CorpusError, match="already exists; a backup never overwrites anything"):
        ls_backup.backup(sqlite_data_dir, out)
    assert list(out.iterdir()) == []


def test_backup_with_pg_dump_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PG_BIN", raising=False)
    monkeypatch.setattr(ls_backup, "DEBIAN_PG_ROOT", tmp_path / "no-postgresql")
    data_dir = tmp_path / "data"
    ls_server_mod.write_database_record(data_dir, ls_server_mod.parse_database_url("postgresql://ls:pw@127.0.0.1:5433/ls"))
    with pytest.raises(CorpusError, match="pg_dump was not found") as err:
        ls_backup.backup(data_dir, tmp_path / "out")
    assert ".ci/postgres.sh" in err.value.problems[0].fix
    assert not (tmp_path / "out").exists()


def test_failed_pg_dump_leaves_nothing(tmp_path):
    port = ls_server_mod.free_port()  # nothing listens there
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with pytest.raises(CorpusError, match="pg_dump on postgresql://ls@127.0.0.1:.* failed"):
        ls_backup.backup(data_dir, tmp_path / "out", database=f"postgresql://ls:pw@127.0.0.1:{port}/ls")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_restore_of_something_that_is_not_a_backup(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(CorpusError, match="no backup.json in it"):
        ls_backup.restore(tmp_path / "folder", tmp_path / "d")
    with pytest.raises(CorpusError, match="no such folder"):
        ls_backup.restore(tmp_path / "missing", tmp_path / "d")


def test_restore_of_an_incomplete_backup(sqlite_data_dir, tmp_path):
    ls_backup.backup(sqlite_data_dir, tmp_path / "b")
    (tmp_path / "b" / "label_studio.sqlite3").unlink()
    with pytest.raises(CorpusError, match="missing label_studio.sqlite3"):
        ls_backup.restore(tmp_path / "b", tmp_path / "d")


def test_restore_into_a_data_dir_that_is_not_empty(sqlite_data_dir, tmp_path):
    ls_backup.backup(sqlite_data_dir, tmp_path / "b")
    with pytest.raises(CorpusError, match="exists and is not empty"):
        ls_backup.restore(tmp_path / "b", sqlite_data_dir)
    (tmp_path / "empty").mkdir()
    ls_backup.restore(tmp_path / "b", tmp_path / "empty")  # an empty folder is fine
    assert (tmp_path / "empty" / "label_studio.sqlite3").exists()


def test_sqlite_backup_restores_without_a_database_url(sqlite_data_dir, tmp_path):
    ls_backup.backup(sqlite_data_dir, tmp_path / "b")
    with pytest.raises(CorpusError, match="drop --database"):
        ls_backup.restore(tmp_path / "b", tmp_path / "d", database="postgresql://ls:pw@127.0.0.1:5433/ls")
    assert not (tmp_path / "d").exists()


def test_postgres_backup_needs_a_database_url(tmp_path):
    fake = tmp_path / "b"
    fake.mkdir()
    (fake / "database.dump").write_bytes(b"PGDMP")
    (fake / "backup.json").write_text(json.dumps({"format": 1, "kind": "postgresql", "source": "postgresql://ls@127.0.0.1:5433/ls",
                                                  "label_studio": "1.23.2", "created": "x", "files": ["database.dump"]}))
    with pytest.raises(CorpusError, match="needs the database to restore into"):
        ls_backup.restore(fake, tmp_path / "d")
    assert not (tmp_path / "d").exists()


# ---- real servers -----------------------------------------------------------------------------------------

def _pull(conn: Connection, title: str, out: Path) -> dict[str, dict]:
    assert main(["ls", "pull", *conn_args(conn), "--project", title, "--output", str(out)]) == 0
    return as_dicts(read_documents(out))


def _listening_addresses(pid: int) -> set[str]:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return {c.laddr.ip for p in procs for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}


def _stop(data_dir: Path, pid: int) -> None:
    stopped = ls_server_mod.stop_server(data_dir)
    assert stopped is not None and stopped.pid == pid and not ls_server_mod.is_alive(pid), f"Label Studio pid {pid} survived stop_server"


@pytest.mark.labelstudio
@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_round_trip_backup_and_restore_into_a_fresh_server(pg_cluster, pg_url, corpus_docs, tmp_path, monkeypatch, capsys):
    """Push and pull on PostgreSQL, and the team loop (two annotators, an adjudicator); back up; a fresh server on a new database
    restored from it pulls the same documents."""
    data_dir = tmp_path / "ls-pg"
    timings: dict[str, float] = {}  # seconds, printed at the end (pytest -s shows them; annotation/README.md quotes them)
    t0 = time.monotonic()
    info = ls_server_mod.start_server(data_dir, port=0, database=pg_url)
    timings["first_start_s"] = round(time.monotonic() - t0, 1)
    try:
        assert info.database == pg_url.replace(f":{pg_cluster.password}@", "@")  # no password in server.pid
        assert pg_cluster.password not in (data_dir / "server.pid").read_text()
        assert ls_server_mod.read_database_record(data_dir) == ls_server_mod.parse_database_url(pg_url)
        env = psutil.Process(info.pid).environ()
        assert env["DJANGO_DB"] == "default" and env["POSTGRE_HOST"] == "127.0.0.1" and env["POSTGRE_NAME"] == "labelstudio"
        assert _listening_addresses(info.pid) == {"127.0.0.1"}
        assert not (data_dir / ls_server_mod.DATABASE_FILE).exists(), "Label Studio wrote SQLite, not PostgreSQL"
        assert pg_cluster.tables("labelstudio") > 50  # Label Studio's schema is in PostgreSQL
        conn = Connection(info.url, ls_server_mod.read_credentials(data_dir).token)

        t1 = time.monotonic()
        source = tmp_path / "corpus.jsonl"
        write_jsonl(source, corpus_docs)
        assert main(["ls", "push", *conn_args(conn), "--project", "corpus on postgres", str(source)]) == 0
        from conflict_spans.annotation.labelstudio.client import connect

        push_documents(connect(conn), "synthetic on postgres", SYNTHETIC)
        corpus_back = _pull(conn, "corpus on postgres", tmp_path / "corpus-pulled.jsonl")
        synthetic_back = _pull(conn, "synthetic on postgres", tmp_path / "synthetic-pulled.jsonl")
        timings["round_trip_s"] = round(time.monotonic() - t1, 1)
        assert corpus_back == as_dicts(corpus_docs) and len(corpus_back) == len(corpus_docs)
        assert synthetic_back == as_dicts(SYNTHETIC)

        # the team loop on PostgreSQL: two annotators and an adjudicator, from push to adjudicated pull
        team_dir = tmp_path / "team"
        team_dir.mkdir()
        sqlite_loop.team_flow(conn, "team on postgres", team_dir, capsys)

        t2 = time.monotonic()
        made = ls_backup.backup(data_dir, tmp_path / "backup")  # the data dir says which database (database.json)
        timings["backup_s"] = round(time.monotonic() - t2, 1)
        assert made.kind == "postgresql" and made.source == info.database
        assert pg_cluster.password not in (tmp_path / "backup" / "backup.json").read_text()
    finally:
        _stop(data_dir, info.pid)

    new_url = pg_cluster.new_database()
    assert pg_cluster.tables(new_url.rsplit("/", 1)[1]) == 0
    restored_dir = tmp_path / "ls-pg-restored"
    t3 = time.monotonic()
    ls_backup.restore(tmp_path / "backup", restored_dir, database=new_url)
    timings["restore_s"] = round(time.monotonic() - t3, 1)
    # the fresh server gets its database through Label Studio's env form this time
    new_db = ls_server_mod.parse_database_url(new_url)
    for name, value in new_db.env().items():
        monkeypatch.setenv(name, value)
    t4 = time.monotonic()
    fresh = ls_server_mod.start_server(restored_dir, port=0)
    timings["restored_start_s"] = round(time.monotonic() - t4, 1)
    try:
        assert fresh.database == new_db.display_url and fresh.pid != info.pid
        conn = Connection(fresh.url, ls_server_mod.read_credentials(restored_dir).token)
        assert _pull(conn, "corpus on postgres", tmp_path / "corpus-again.jsonl") == as_dicts(corpus_docs)
        assert _pull(conn, "synthetic on postgres", tmp_path / "synthetic-again.jsonl") == as_dicts(SYNTHETIC)
    finally:
        _stop(restored_dir, fresh.pid)
    print(f"\nLabel Studio on PostgreSQL, seconds: {timings}")


@pytest.mark.labelstudio
@pytest.mark.slow
def test_sqlite_backup_of_a_running_server_restores_into_a_fresh_one(ls_server, ls_client, ls_connection, project_title, tmp_path):
    """An online backup of the shared SQLite server (it keeps running); a second server from the restored data dir pulls the same documents."""
    info, _ = ls_server
    push_documents(ls_client, project_title, SYNTHETIC)
    before = _pull(ls_connection, project_title, tmp_path / "before.jsonl")
    assert before == as_dicts(SYNTHETIC)
    made = ls_backup.backup(Path(info.data_dir), tmp_path / "backup")
    assert made.kind == "sqlite" and ls_server_mod.is_alive(info.pid)
    restored = tmp_path / "restored"
    ls_backup.restore(tmp_path / "backup", restored)
    fresh = ls_server_mod.start_server(restored, port=0)
    try:
        assert fresh.database is None and fresh.url != info.url
        conn = Connection(fresh.url, ls_server_mod.read_credentials(restored).token)
        assert conn.token == ls_connection.token  # the credentials came along
        assert _pull(conn, project_title, tmp_path / "after.jsonl") == before
    finally:
        _stop(restored, fresh.pid)


@pytest.mark.postgres
def test_postgres_script_is_idempotent_and_quiet():
    """.ci/postgres.sh (run by scripts/test.sh before pytest) does nothing, and says nothing, when PostgreSQL 15 is there."""
    require_postgres()  # noqa: F405
    done = subprocess.run([str(REPO_ROOT / ".ci" / "postgres.sh")], capture_output=True, text=True, timeout=60)  # noqa: F405
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
