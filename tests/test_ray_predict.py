"""``predict_ray`` (``conflict-spans predict --engine ray``) on a two-CPU Ray cluster writes what local ``predict`` writes.

Ray 2.60 binds its servers (GCS, raylet, workers) to every interface, whatever
``--node-ip-address`` says, and ``ray start`` replaces 127.0.0.1 by the
machine's address. So the test cluster runs in a network namespace of its own
(``unshare --user --net``) whose only interface is loopback: nothing outside
can reach it, and it can reach nothing outside. The driver joins that
namespace (``nsenter``) to run the pipeline. The fixture starts the cluster
with ``ray start --head --block``, stops it by that process id and checks that
every process of the cluster is gone.

Run as a script, this file is the small program the namespaces start:
``exec PROGRAM ARGS`` (bring loopback up, then become PROGRAM) and
``drive JSON`` (call ``predict_ray`` and print the outcome as JSON).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

RAY = Path(sys.executable).with_name("ray")
GCS_PORT = 6379  # inside the cluster's own network namespace every port is free
STARTED = "Ray runtime started"


# ---- the programs the namespaces run ------------------------------------------------------

def loopback_up() -> None:
    """``ip link set lo up`` without iproute2: a new network namespace starts with loopback down."""
    import fcntl
    import socket
    import struct

    get_flags, set_flags, up = 0x8913, 0x8914, 0x1  # SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack("16sH", fcntl.ioctl(sock, get_flags, struct.pack("16sH", b"lo", 0))[:18])[1]
        fcntl.ioctl(sock, set_flags, struct.pack("16sH", b"lo", flags | up))


def drive(arguments: dict) -> int:
    from conflict_spans.model.ray_engine import predict_ray
    from conflict_spans.problems import CorpusError

    try:
        written = predict_ray(**arguments)
    except CorpusError as exc:
        print(json.dumps({"problems": [{"code": p.code, "path": p.path, "line": p.line, "record": p.record} for p in exc.problems],
                          "message": str(exc)}))
        return 1
    print(json.dumps({"written": written}))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "exec":
        loopback_up()
        os.execv(sys.argv[2], sys.argv[2:])
    sys.exit(drive(json.loads(sys.argv[2])))


# ---- the cluster --------------------------------------------------------------------------

@dataclass
class Cluster:
    pid: int  # the `ray start --block` process; the cluster's processes are its descendants
    address: str
    env: dict[str, str]

    def predict(self, inputs: list[Path], output: Path, model: Path, **options) -> tuple[int, dict]:
        """``predict_ray`` run by a driver inside the cluster's network namespace: (exit status, outcome)."""
        arguments = {"inputs": [str(p) for p in inputs], "output": str(output), "model_dir": str(model), "address": self.address,
                     "batch_size": 8, "device": None, **options}
        done = subprocess.run(["nsenter", "--target", str(self.pid), "--user", "--net", "--preserve-credentials",
                               sys.executable, __file__, "drive", json.dumps(arguments)],
                              capture_output=True, text=True, env=self.env, timeout=300)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"the driver printed no outcome (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        return done.returncode, json.loads(lines[-1])


def _family(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@pytest.fixture(scope="module")
def ray_cluster():
    missing = [tool for tool in ("unshare", "nsenter") if shutil.which(tool) is None]
    assert not missing, f"the Ray tests isolate the cluster with util-linux's unshare and nsenter; missing: {missing}"
    temp = Path(tempfile.mkdtemp(prefix="rayt-", dir="/tmp"))  # short: Ray's socket paths must fit in 107 bytes
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    log_path = temp / "ray-start.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["unshare", "--user", "--map-root-user", "--net", sys.executable, __file__, "exec", str(RAY), "start", "--head", "--block",
             "--node-ip-address", "127.0.0.1", "--port", str(GCS_PORT), "--num-cpus", "2", "--include-dashboard", "false",
             "--disable-usage-stats", "--temp-dir", str(temp)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while STARTED not in log_path.read_text(errors="replace"):
            assert process.poll() is None, f"ray start exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}"
            assert time.monotonic() < deadline, f"Ray did not start in 180 s:\n{log_path.read_text(errors='replace')[-3000:]}"
            time.sleep(0.5)
        yield Cluster(process.pid, f"127.0.0.1:{GCS_PORT}", env)
    finally:
        family = _family(process.pid)
        process.terminate()  # `ray start --block` stops the processes it started, then exits
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        _, alive = psutil.wait_procs(family, timeout=30)
        for straggler in alive:
            straggler.kill()
        _, still = psutil.wait_procs(alive, timeout=10)
        shutil.rmtree(temp, ignore_errors=True)
        assert not alive, f"processes of the Ray cluster outlived `ray start --block`: {[p.pid for p in alive]}"
        assert not still


# ---- inputs -------------------------------------------------------------------------------

SENTENCES = [
    "Gunmen killed at least 12 civilians in Goma on Sunday, the army said.",
    "A Russian drone strike wounded 30 people in Odesa, Governor Oleh Kiper said.",
    "Shelling by the Rapid Support Forces (RSF) killed five children in El Fasher.",
    "The Houthis fired two missiles at a tanker off Hodeidah; no one was hurt.",
    "Police in Zu\u0308rich said 3 people were hurt — «officials» in 北京 said nothing 😢.",
]


def records(count: int, start: int = 0) -> list[dict]:
    """Short news-like records; some long enough for several windows, metas of different shapes, a numeric id."""
    out = []
    for i in range(start, start + count):
        text = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(1 + i % 3))
        if i % 17 == 0:
            text = "\n\n".join([text] * 4)  # many windows at --max-length 24
        record: dict = {"id": i if i % 50 == 7 else f"doc-{i:04d}", "text": text}
        if i % 3 == 0:
            record["meta"] = {"conflict": "drc", "year": 2000 + i % 25}
        elif i % 3 == 1:
            record["meta"] = {"source": "wire", "tags": ["a", str(i)], "nested": {"n": i}}
        out.append(record)
    return out


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    from support import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("ray-model") / "tiny", epochs=15, extra_args=["--eval-strategy", "no", "--max-length", "24"])


def local_predict(model: Path, inputs: list[Path], output: Path) -> str:
    from conflict_spans.cli import main as cli_main

    assert cli_main(["predict", "--model", str(model), *map(str, inputs), "-o", str(output)]) == 0
    return output.read_text(encoding="utf-8")


# ---- the pipeline on the cluster --------------------------------------------------------------

@pytest.mark.slow
def test_ray_writes_what_local_predict_writes_record_for_record(ray_cluster, model, tmp_path):
    first = write_jsonl(tmp_path / "in" / "first.jsonl", records(140))
    folder = tmp_path / "in" / "more"
    write_jsonl(folder / "a.jsonl", records(100, start=140))
    (folder / "b-plain.txt").write_text("Drone strike hits Kharkiv\r\n\r\nA drone wounded 7 people in Kharkiv, the governor said.\r\n", encoding="utf-8")
    inputs = [first, folder]

    expected = local_predict(model, inputs, tmp_path / "local.jsonl")
    status, outcome = ray_cluster.predict(inputs, tmp_path / "ray.jsonl", model, num_actors=2)

    assert status == 0, outcome
    assert outcome == {"written": 241}
    got = (tmp_path / "ray.jsonl").read_text(encoding="utf-8")
    expected_records = [json.loads(line) for line in expected.splitlines()]
    got_records = [json.loads(line) for line in got.splitlines()]
    assert len(expected_records) == 241
    assert sum(len(r["spans"]) for r in expected_records) > 0, "the tiny model predicts no span: the comparison would prove little"
    for want, have in zip(expected_records, got_records, strict=True):
        assert have == want, f"record {want['id']!r} differs"
    assert got == expected  # byte for byte: the same JSON, the same order


@pytest.mark.slow
def test_ray_bad_record_is_named_and_nothing_is_written(ray_cluster, model, tmp_path):
    rows = records(5)
    rows[2] = {"id": "no-text"}
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    output = tmp_path / "out.jsonl"

    status, outcome = ray_cluster.predict([bad], output, model)

    assert status == 1
    assert [(p["code"], p["path"], p["line"], p["record"]) for p in outcome["problems"]] == [("record", str(bad), 3, "no-text")]
    assert not output.exists() and not list(tmp_path.glob(".out.jsonl.*"))


@pytest.mark.slow
def test_ray_id_used_in_two_files_is_refused(ray_cluster, model, tmp_path):
    one = write_jsonl(tmp_path / "one.jsonl", records(3))
    two = write_jsonl(tmp_path / "two.jsonl", records(2, start=2))  # doc-0002 again
    output = tmp_path / "out.jsonl"

    status, outcome = ray_cluster.predict([one, two], output, model)

    assert status == 1
    assert [(p["code"], p["record"]) for p in outcome["problems"]] == [("duplicate-id", "doc-0002")]
    assert f"{one}:3" in outcome["message"] and f"{two}:1" in outcome["message"]
    assert not output.exists()


# ---- what is refused before Ray starts ----------------------------------------------------------

def refused(tmp_path: Path, model: Path, inputs, output=None, address: str = "127.0.0.1:1", **options) -> list:
    """The problems ``predict_ray`` raises, checked to come before it connects (nothing listens at 127.0.0.1:1)."""
    from conflict_spans.model.ray_engine import predict_ray
    from conflict_spans.problems import CorpusError

    output = output or tmp_path / "out.jsonl"
    with pytest.raises(CorpusError) as caught:
        predict_ray(inputs, output, str(model), address=address, batch_size=8, device=None, **options)
    assert not Path(str(output)).exists()
    return caught.value.problems


def test_ray_refuses_standard_input(tmp_path, model):
    assert [p.code for p in refused(tmp_path, model, ["-"])] == ["ray-input"]


def test_ray_refuses_a_missing_input(tmp_path, model):
    problems = refused(tmp_path, model, [tmp_path / "nowhere.jsonl"])
    assert [(p.code, p.path) for p in problems] == [("path", str(tmp_path / "nowhere.jsonl"))]


def test_ray_refuses_an_object_storage_output(tmp_path, model):
    given = write_jsonl(tmp_path / "in.jsonl", records(2))
    problems = refused(tmp_path, model, [given], output=Path("s3://bucket/out.jsonl"))
    assert [(p.code, p.path) for p in problems] == [("ray-output", "s3://bucket/out.jsonl")]


@pytest.mark.parametrize("name", ["out.parquet", "out.csv", "out"])
def test_ray_refuses_an_output_that_is_not_json_lines(tmp_path, model, name):
    given = write_jsonl(tmp_path / "in.jsonl", records(2))
    problems = refused(tmp_path, model, [given], output=tmp_path / name)
    assert [(p.code, p.path) for p in problems] == [("ray-output", str(tmp_path / name))]


@pytest.mark.parametrize("num_actors", [0, -2, 1.5, True])
def test_ray_refuses_a_bad_number_of_actors(tmp_path, model, num_actors):
    given = write_jsonl(tmp_path / "in.jsonl", records(2))
    assert [p.code for p in refused(tmp_path, model, [given], num_actors=num_actors)] == ["predict-argument"]


def test_ray_refuses_an_address_that_is_not_one(tmp_path, model):
    given = write_jsonl(tmp_path / "in.jsonl", records(2))
    problems = refused(tmp_path, model, [given], address="head-without-port")
    assert [(p.code, p.value) for p in problems] == [("ray-connect", "head-without-port")]


@pytest.mark.parametrize("given, expected", [
    ("s3://bucket/archive/2024.jsonl", "s3://bucket/archive/2024.jsonl"),
    (Path("s3://bucket/archive/2024.jsonl"), "s3://bucket/archive/2024.jsonl"),  # Path collapsed the // to /
    (Path("gs://bucket/a"), "gs://bucket/a"),
    ("file:///tmp/in.jsonl", "/tmp/in.jsonl"),
    (Path("file:///tmp/in.jsonl"), "/tmp/in.jsonl"),
    ("relative/in.jsonl", "relative/in.jsonl"),
    (Path("/tmp/a:b/in.jsonl"), "/tmp/a:b/in.jsonl"),
])
def test_location_restores_uris(given, expected):
    from conflict_spans.model.ray_engine import location

    assert location(given) == expected


@pytest.mark.slow
def test_ray_model_that_fails_to_load_on_the_workers_is_named(ray_cluster, model, tmp_path):
    broken = tmp_path / "broken-model"
    shutil.copytree(model, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")  # the folder check passes; loading it fails
    given = write_jsonl(tmp_path / "in.jsonl", records(3))
    output = tmp_path / "out.jsonl"

    status, outcome = ray_cluster.predict([given], output, broken)

    assert status == 1
    assert [(p["code"], p["path"]) for p in outcome["problems"]] == [("model-folder", str(broken))], outcome["message"]
    assert not output.exists()
