"""--engine ray on a real cluster: a head and a second node started as separate processes
(`ray start`, loopback only, one CPU each, each with its own temporary and cache folder, as
two machines would have), `loyalty analyze --engine ray --ray-address` run against them.
The batches must land on both nodes (each actor reports its node; run.json counts batches
per node) and the outputs must be the local run's, byte for byte, learned heads included.
Every process the nodes started is ended afterwards, pass or fail, and the test checks that
none is left."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_transcripts"
FIXTURES = Path(__file__).parent / "fixtures"
RAY = Path(sys.executable).with_name("ray")
OUTPUTS = ("annotations.jsonl", "flagged_excerpts.csv", "call_scores.csv", "rep_scores.csv", "account_scores.csv",
           "commitments.csv", "errors.csv", "report.html")
# 12 samples + 8 fixtures = 20 calls: two batches of up to 16 (pipeline.CALLS_PER_BATCH), one per actor
EXTRA_CALLS = ("teams.docx", "meet.docx", "otter.docx", "stamped_after.txt", "otter.txt", "voice_tags.vtt",
               "seconds.csv", "deepgram.json")
START_TIMEOUT = 90
# Ray swaps 127.0.0.1 and localhost for the machine's network address; 127.0.0.2 is loopback
# too and is kept as given, so every connection stays on this machine's loopback.
HOST = "127.0.0.2"
# Token authentication with this test's own token, given to every node and driver: Ray turns
# it on by itself when it finds a token in ~/.ray, and then refuses a driver without it.
ENV = {"RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "token",
       "RAY_AUTH_TOKEN": secrets.token_hex(32)}
# a driver that waits for `want` live nodes and prints their ids
NODE_IDS = """
import json, sys, time, ray
ray.init(address=sys.argv[1], log_to_driver=False, logging_level="ERROR")
while True:
    alive = sorted(n["NodeID"] for n in ray.nodes() if n["Alive"])
    if len(alive) >= int(sys.argv[2]):
        print(json.dumps(alive))
        break
    time.sleep(0.5)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _node_ports() -> list[str]:
    """Every port a node listens on, free ones chosen here: Ray's defaults (6379, 10001,
    52365, ...) may belong to another Ray on this machine."""
    args = []
    for option in ("--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
                   "--dashboard-agent-grpc-port", "--runtime-env-agent-port", "--metrics-export-port"):
        args += [option, str(_free_port())]
    return args


def _ours(temp_dir: Path) -> list[int]:
    """Processes of one node: every Ray process names its session folder, inside `temp_dir`,
    on its command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(temp_dir).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class Node:
    """One `ray start --block` in its own session, so the node and everything it starts can
    be ended together."""

    def __init__(self, args: list[str], name: str) -> None:
        self.temp_dir = Path(tempfile.mkdtemp(prefix=f"ray-{name}-", dir="/tmp"))  # short: socket paths < 108 chars
        self.cache = self.temp_dir / "cache"
        env = {**os.environ, **ENV, "LOYALTY_CACHE_DIR": str(self.cache), "OMP_NUM_THREADS": "1"}
        self.log = self.temp_dir / "ray_start.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(RAY), "start", "--block", "--node-ip-address", HOST, "--num-cpus", "1", "--num-gpus", "0",
                 "--object-store-memory", str(150 * 1024 * 1024), "--temp-dir", str(self.temp_dir),
                 "--disable-usage-stats", *_node_ports(), *args],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=self.temp_dir,
            )

    def tail(self) -> str:
        return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-3:])

    def stop(self) -> list[int]:
        """End the node's session (SIGTERM, then SIGKILL) and any process of it that left
        the session; returns what is still alive after that (nothing, or the test fails)."""
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):  # `ray start --block` outlives SIGTERM
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            for pid in _ours(self.temp_dir):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and (self.process.poll() is None or _ours(self.temp_dir)):
                time.sleep(0.2)
            if self.process.poll() is not None and not _ours(self.temp_dir):
                break
        left = _ours(self.temp_dir)
        if not left:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
        return left


@pytest.fixture(scope="module")
def cluster():
    """(address, {node id}, [each node's cache folder]) of a two-node cluster on loopback;
    stopped afterwards, whatever happened."""
    if not RAY.exists():
        pytest.skip(f"Ray's command line is not installed beside {sys.executable}")
    port = _free_port()
    address = f"{HOST}:{port}"
    nodes = [Node(["--head", "--port", str(port), "--include-dashboard", "false"], "head")]
    try:
        nodes.append(Node(["--address", address], "node2"))
        yield address, _wait_for_nodes(address, port, nodes), [node.cache for node in nodes]
    finally:
        left = {str(node.temp_dir): node.stop() for node in nodes}
        assert not any(left.values()), f"Ray processes left running: {left}"


def _wait_for_nodes(address: str, port: int, nodes: list[Node]) -> set[str]:
    """The ids of both nodes once both have joined; skips when Ray cannot start here."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        dead = [n for n in nodes if n.process.poll() is not None]
        if dead:
            pytest.skip(f"Ray cannot start here: `ray start` exited ({dead[0].tail()})")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                pytest.skip(f"Ray cannot start here: no head at {address} after {START_TIMEOUT} s ({nodes[0].tail()})")
            time.sleep(0.5)
    try:
        found = subprocess.run([sys.executable, "-c", NODE_IDS, address, "2"], env={**os.environ, **ENV},
                               capture_output=True, text=True, timeout=max(5.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pytest.skip(f"Ray cannot start here: 2 nodes not up after {START_TIMEOUT} s ({nodes[-1].tail()})")
    assert found.returncode == 0, found.stderr[-2000:]
    return set(json.loads(found.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("calls")
    shutil.copytree(SAMPLES, folder, dirs_exist_ok=True)
    for name in EXTRA_CALLS:
        shutil.copy(FIXTURES / name, folder)
    return folder


def analyze(folder: Path, out: Path, *options: str) -> dict:
    """`loyalty analyze` in its own process, as a user runs it; returns run.json."""
    result = subprocess.run(
        [sys.executable, "-m", "analyzer.cli", "analyze", str(folder), "--out", str(out), "--quiet", *options],
        cwd=ROOT, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads((out / "run.json").read_text())


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def test_ray_cluster_runs_on_both_nodes_with_local_outputs(cluster, folder, tmp_path):
    """With the learned heads: each node loads the encoder and builds its int8 graph in its
    own cache folder, as a fresh machine of a cluster does."""
    address, node_ids, caches = cluster
    local = analyze(folder, tmp_path / "local")
    run = analyze(folder, tmp_path / "ray", "--engine", "ray", "--ray-address", address, "--workers", "2")
    assert local["analysed"] == run["analysed"] == 12 + len(EXTRA_CALLS)
    assert run["model"] == local["model"] and local["model"]["kind"] == "heads"  # the cluster ran the local heads
    batches = run["run"]["ray_nodes"]
    assert set(batches) == node_ids and all(count >= 1 for count in batches.values()), batches
    assert all(list(cache.glob("encoder-int8-*.onnx")) for cache in caches)  # each node loaded the encoder
    assert outputs(tmp_path / "ray") == outputs(tmp_path / "local")
