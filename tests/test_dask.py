"""Zoo builds on a Dask cluster (issue 19, item 1), with a real `distributed.LocalCluster`
of 2 worker processes: the same zoo as the local pool, a worker killed mid-build, and the
building process killed mid-build then run again. Skipped without the dask extra."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from common import zoo

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

SPEC = zoo.ZooSpec("demo", n_networks=6, epochs=2.0, eval_every=0.5, seed=4)
COLUMNS = ["idx", "seed", "status", "arch", "n_params", "depth", "test_acc", "test_loss"]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The zoo as the local process pool builds it (one torch thread per worker, as on the
    Dask workers: a network trained on more threads sums in another order)."""
    path = tmp_path_factory.mktemp("ref") / "z.sqlite"
    pool = zoo.default_executor(2)
    try:
        zoo.build(SPEC, path, pool, progress=False, device="cpu")
    finally:
        pool.shutdown()
    return zoo.load(path)


def _same(a: zoo.Zoo, b: zoo.Zoo) -> None:
    assert len(a) == len(b) == SPEC.n_networks
    assert a.table[COLUMNS].equals(b.table[COLUMNS])
    for name in ("val_acc", "train_loss"):
        np.testing.assert_array_equal(a.curve(name), b.curve(name))


def _rows(path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM networks").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_zoo_built_on_the_cluster_equals_the_local_build(cluster, reference, tmp_path):
    path = tmp_path / "z.sqlite"
    with distributed.Client(cluster) as client:
        zoo.build(SPEC, path, client.get_executor(), progress=False, device="cpu")
    _same(zoo.load(path), reference)
    hosts = set(zoo.load(path).table["host"])
    assert len(hosts) == 1 and None not in hosts  # each record says where it trained


def test_a_worker_killed_mid_build_loses_nothing(cluster, reference, tmp_path):
    path = tmp_path / "z.sqlite"
    with distributed.Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        done = threading.Event()
        build = threading.Thread(
            target=lambda: (
                zoo.build(SPEC, path, client.get_executor(), progress=False, device="cpu"),
                done.set(),
            )
        )
        build.start()
        deadline = time.monotonic() + 120
        while _rows(path) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL)  # the nanny restarts it; its task is re-run
        build.join(timeout=300)
        assert done.is_set(), "the build did not complete after a worker died"
        client.wait_for_workers(2, timeout=60)
    _same(zoo.load(path), reference)  # every network once, none partial


BUILD_SCRIPT = """
import sys
from common import zoo
from common.cli import main
sys.exit(main(["zoo", "build", sys.argv[1], "--family", "demo", "-n", "6", "--epochs", "2",
               "--eval-every", "0.5", "--seed", "4", "--device", "cpu",
               "--scheduler", sys.argv[2]]))
"""


def test_the_building_process_killed_then_run_again_resumes(cluster, reference, tmp_path):
    path = tmp_path / "z.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", BUILD_SCRIPT, str(path), cluster.scheduler_address],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while _rows(path) < 1 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        child.kill()
    assert 1 <= _rows(path) <= SPEC.n_networks
    with zoo.dask_executor(scheduler=cluster.scheduler_address) as executor:
        zoo.build(SPEC, path, executor, progress=False, device="cpu")  # resumes
    _same(zoo.load(path), reference)


def test_a_dask_executor_needs_one_of_an_address_or_a_worker_count():
    with pytest.raises(ValueError, match="either a scheduler address or a number"):
        with zoo.dask_executor():
            pass
    with pytest.raises(ValueError, match="workers=0: expected an integer >= 1"):
        with zoo.dask_executor(workers=0):
            pass
