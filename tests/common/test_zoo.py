"""Zoos: storage, loading, truncation, resume, failures, and a SIGKILLed build resumed."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

from common import archs, zoo
from common.train import Recipe
from tests.conftest import TINY_SPEC, build_in_process


def test_loaded_zoo_has_aligned_tables_and_arrays(tiny_zoo):
    n = TINY_SPEC.n_networks
    assert len(tiny_zoo) == n and tiny_zoo.table["idx"].tolist() == list(range(n))
    assert tiny_zoo.eval_epochs.tolist() == [0.5, 1.0, 1.5, 2.0]
    assert tiny_zoo.curve("val_acc").shape == (n, 4)
    ok = (tiny_zoo.table["status"] == "ok").to_numpy()
    assert np.array_equal(tiny_zoo.target("final_val_acc")[ok], tiny_zoo.curve("val_acc")[ok, -1])
    assert np.array_equal(
        tiny_zoo.target("max_val_acc")[ok], np.nanmax(tiny_zoo.curve("val_acc")[ok], axis=1)
    )
    stats = tiny_zoo.probe_list("weight_stats")
    for row, s in zip(tiny_zoo.table.itertuples(), stats, strict=True):
        assert s.shape == (4, row.depth * 2 * 7)  # W̃_L: depth layers x (kernel, bias) x 7
    # table columns are the recipe's field names; parameter counts come from the architecture
    assert {"optimizer", "lr", "batch_size", "n_params", "depth"} <= set(tiny_zoo.table)
    for row in tiny_zoo.table.itertuples():
        assert row.n_params == archs.num_params(archs.Architecture.from_json(row.arch))


def test_weights_are_kept_and_match_the_parameter_count(tiny_zoo):
    n_params = tiny_zoo.table["n_params"]
    assert [len(w) for w in tiny_zoo.weights_list()] == n_params.tolist()
    same_arch = tiny_zoo.subset((n_params == n_params[0]).to_numpy())
    assert same_arch.weights().shape == (len(same_arch), n_params[0])
    assert n_params.nunique() > 1  # the demo family varies widths
    with pytest.raises(ValueError, match="different weight counts"):
        tiny_zoo.weights()


def test_arrays_are_npy_bytes_not_pickle(tiny_zoo_path):
    conn = sqlite3.connect(tiny_zoo_path)
    blobs = [b for (b,) in conn.execute("SELECT data FROM arrays")]
    conn.close()
    assert blobs and all(b.startswith(b"\x93NUMPY") for b in blobs)


def test_truncate_hides_everything_after_the_budget(tiny_zoo):
    view = tiny_zoo.truncate(1.0)
    assert view.eval_epochs.tolist() == [0.5, 1.0]
    assert np.array_equal(view.curve("val_loss"), tiny_zoo.curve("val_loss")[:, :2], equal_nan=True)
    assert view.probe_list("weight_stats")[0].shape[0] == 2
    for hidden in ("test_acc", "final_val_acc", "max_val_acc"):
        assert hidden not in view.table
        with pytest.raises(ValueError, match="hidden"):
            view.target(hidden)
    with pytest.raises(ValueError, match="not visible"):
        view.weights()
    assert tiny_zoo.truncate(0).curve("val_acc").shape == (len(tiny_zoo), 0)
    assert tiny_zoo.truncate(5).target("test_acc").shape == (len(tiny_zoo),)


def test_subset_by_mask_and_positions(tiny_zoo):
    picked = tiny_zoo.subset([3, 1])
    assert picked.table["idx"].tolist() == [3, 1]
    assert np.array_equal(picked.curve("val_acc"), tiny_zoo.curve("val_acc")[[3, 1]])
    mask = np.arange(len(tiny_zoo)) % 2 == 0
    assert len(tiny_zoo.subset(mask)) == mask.sum()


def test_growing_a_zoo_equals_building_it_at_once(tmp_path, tiny_zoo):
    small = zoo.ZooSpec(**{**TINY_SPEC.to_dict(), "n_networks": 5})
    build_in_process(small, tmp_path / "grown.sqlite")
    grown = build_in_process(TINY_SPEC, tmp_path / "grown.sqlite")
    assert_same_zoo(grown, tiny_zoo)


def test_another_spec_on_the_same_path_is_refused(tmp_path, tiny_zoo_path):
    other = zoo.ZooSpec(**{**TINY_SPEC.to_dict(), "epochs": 3.0})
    with pytest.raises(ValueError, match="epochs: stored 2.0, given 3.0"):
        zoo.build(other, tiny_zoo_path, progress=False)
    with pytest.raises(ValueError, match="unknown zoo family 'nope'"):
        zoo.build(zoo.ZooSpec("nope"), tmp_path / "x.sqlite", progress=False)


def flaky_family(rng, *, input_shape, num_classes):
    """Network 1 has an impossible architecture; network 2 a divergent learning rate."""
    arch, recipe = zoo.demo_family(rng, input_shape=input_shape, num_classes=num_classes)
    index = int(rng.integers(0, 2**31))
    if index == FLAKY_INDEXES[1]:
        arch = archs.Architecture(input_shape, num_classes, [{"type": "linear"}])
    if index == FLAKY_INDEXES[2]:
        recipe = Recipe(lr=1e12)
    return arch, recipe, {"tag": index % 7}


FLAKY_SPEC = zoo.ZooSpec("flaky", n_networks=4, epochs=1.0, eval_every=0.5)
# the integer each network's sampler draws after the demo family's own draws
FLAKY_INDEXES = {}


def test_failing_network_is_reported_others_kept_divergence_recorded(tmp_path):
    zoo.register_family("flaky", flaky_family)
    for i in range(FLAKY_SPEC.n_networks):
        rng, _ = zoo.network_seeds(FLAKY_SPEC, i)
        zoo.demo_family(rng, input_shape=(1, 8, 8), num_classes=10)
        FLAKY_INDEXES[i] = int(rng.integers(0, 2**31))
    path = tmp_path / "flaky.sqlite"
    with pytest.raises(RuntimeError, match=r"(?s)1 network\(s\) failed: \[1\].*spatial input"):
        build_in_process(FLAKY_SPEC, path)
    z = zoo.load(path)
    assert z.table["idx"].tolist() == [0, 2, 3]
    assert z.table.set_index("idx")["status"].to_dict() == {0: "ok", 2: "diverged", 3: "ok"}
    assert np.isnan(z.target("test_acc")[1])
    assert "tag" in z.table  # a family's extra hyperparameters become columns


def assert_same_zoo(a: zoo.Zoo, b: zoo.Zoo):
    assert a.table["idx"].tolist() == b.table["idx"].tolist()
    assert a.table["arch"].tolist() == b.table["arch"].tolist()
    for name in ("val_acc", "val_loss", "train_loss"):
        assert np.array_equal(a.curve(name), b.curve(name), equal_nan=True)
    assert np.array_equal(a.target("test_acc"), b.target("test_acc"), equal_nan=True)
    if a.spec.keep_weights:
        for wa, wb in zip(a.weights_list(), b.weights_list(), strict=True):
            assert np.array_equal(wa, wb)


def count(path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM networks").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def test_sigkilled_build_resumes_to_the_uninterrupted_result(tmp_path):
    spec = zoo.ZooSpec(
        "demo",
        n_networks=30,
        seed=11,
        epochs=2.0,
        eval_every=0.5,
        probes=("weight_stats",),
        family_options={"max_width": 32},
    )
    path = tmp_path / "killed.sqlite"
    command = [
        sys.executable,
        "-m",
        "common.cli",
        "zoo",
        "build",
        str(path),
        "--family",
        "demo",
        "-n",
        "30",
        "--seed",
        "11",
        "--epochs",
        "2",
        "--eval-every",
        "0.5",
        "--probe",
        "weight_stats",
        "--option",
        "max_width=32",
        "--workers",
        "2",
    ]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while count(path) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)  # the CLI and its workers, mid-build
        process.wait()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    done_before = count(path)
    assert 0 < done_before < spec.n_networks, "the kill must land part-way through the build"
    conn = sqlite3.connect(path)
    stored = json.loads(conn.execute("SELECT value FROM meta WHERE key='spec'").fetchone()[0])
    complete = conn.execute(
        "SELECT COUNT(*) FROM networks n WHERE (SELECT COUNT(*) FROM arrays a WHERE a.idx=n.idx)"
        " = 5"
    ).fetchone()[0]  # 4 curves + 1 probe per network: nothing partial
    conn.close()
    assert stored == spec.to_dict() and complete == done_before

    resumed = build_in_process(spec, path)
    reference = build_in_process(spec, tmp_path / "reference.sqlite")
    assert len(resumed) == spec.n_networks
    assert resumed.table["idx"].is_unique
    assert_same_zoo(resumed, reference)


def test_cli_info(tiny_zoo_path, capsys):
    from common.cli import main

    assert main(["zoo", "info", str(tiny_zoo_path)]) == 0
    out = capsys.readouterr().out
    assert f"networks: {TINY_SPEC.n_networks} of {TINY_SPEC.n_networks}" in out
    # digits: 1150 training images at batch 64 are 18 steps an epoch, 2 epochs
    for line in ("at_chance", "median_to_best", "steps_median  36"):
        assert line in out
    assert "ceiling_tau" in out or "noise ceiling: not measured" in out
    # on the three accuracies a chapter's truth can be
    assert ("ceiling_tau" in out) == ("test_ceiling_tau" in out) == ("max_val_ceiling_tau" in out)
    assert main(["zoo", "info", "/nonexistent.sqlite"]) == 2


def test_cli_build_passes_batch_size_and_replicate(monkeypatch, tmp_path, capsys):
    from common.cli import main

    seen = []
    monkeypatch.setattr(zoo, "build", lambda spec, path, *a, **k: seen.append(spec))
    args = ["zoo", "build", str(tmp_path / "z.sqlite"), "--family", "demo", "-n", "3"]
    assert main([*args, "--batch-size", "16", "--replicate", "1"]) == 0
    assert seen[0].batch_size == 16 and seen[0].replicate == 1
    assert main(args) == 0 and seen[1].batch_size is None and seen[1].replicate == 0
    assert main([*args, "--batch-size", "0"]) == 2
    assert "ZooSpec.batch_size=0: expected an integer >= 1" in capsys.readouterr().err


def test_the_spec_batch_size_overrides_the_family_recipe_and_keeps_old_keys():
    spec = zoo.ZooSpec("demo", n_networks=3, epochs=2.0)
    _, recipe, _ = zoo.sample_network(spec, 0, (1, 8, 8), 10)
    assert recipe.batch_size == 64  # the demo family's own
    small = zoo.ZooSpec("demo", n_networks=3, epochs=2.0, batch_size=16)
    arch16, recipe16, _ = zoo.sample_network(small, 0, (1, 8, 8), 10)
    assert recipe16.batch_size == 16 and recipe16.lr == recipe.lr  # the same network
    # the fields added later stay out of the stored spec at their defaults: old keys hold
    assert "batch_size" not in spec.to_dict() and small.to_dict()["batch_size"] == 16
    assert zoo.ZooSpec.from_dict(small.to_dict()) == small and spec.key() != small.key()
    with pytest.raises(ValueError, match="replicate=-1"):
        zoo.ZooSpec("demo", replicate=-1)


def test_a_zoo_prints_as_one_line(tiny_zoo):
    text = repr(tiny_zoo)
    assert text == (
        f"Zoo('demo' on 'digits': {len(tiny_zoo)} of 14 networks, 2 epochs, 4 evaluations,"
        " fully visible)"
    )
    assert repr(tiny_zoo.truncate(1.0)).endswith("truncated at 1 epochs)")


def test_each_network_records_its_host_and_zoo_info_costs_the_zoo(tmp_path):
    """The host that trained each network is stored (a cluster's worker, for Dask builds);
    a zoo from before the column existed loads with the host unknown and gains the column
    when a build resumes it; `where_trained` sums the hours per host and device."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from common.cli import where_trained

    spec = zoo.ZooSpec("demo", n_networks=3, epochs=1.0)
    path = tmp_path / "z.sqlite"
    with ThreadPoolExecutor(1) as pool:
        zoo.build(replace(spec, n_networks=2), path, pool, progress=False)
    assert (zoo.load(path).table["host"] == socket.gethostname()).all()
    with sqlite3.connect(path) as conn:  # as an older nnperf wrote it
        conn.execute("ALTER TABLE networks DROP COLUMN host")
    assert zoo.load(path).table["host"].isna().all()
    with ThreadPoolExecutor(1) as pool:
        zoo.build(spec, path, pool, progress=False)  # resumes, adding the column
    z = zoo.load(path)
    assert z.table["host"].isna().sum() == 2 and z.table["host"].iloc[2] == socket.gethostname()
    trained = where_trained(z)
    assert trained["networks"].sum() == 3
    assert trained.attrs["hours"]["cpu"] == pytest.approx(z.table["wall_time"].sum() / 3600)
