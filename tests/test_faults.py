"""Faults and bad input (issue 17): refusals before anything is written, a zoo file that is
whole on its own, and zoos from a newer nnperf refused by name."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest
import torch

from common import zoo
from common.zoostore import _connect, _write

DEMO = zoo.ZooSpec("demo", n_networks=2, epochs=1.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0.0}, "ZooSpec.epochs=0.0: expected a finite number > 0"),
        ({"eval_every": 0.0}, "ZooSpec.eval_every=0.0: expected a finite number in (0, epochs"),
        ({"eval_every": 2.0}, "ZooSpec.eval_every=2.0: expected a finite number in (0, epochs"),
        ({"n_networks": -1}, "ZooSpec.n_networks=-1: expected an integer >= 0"),
        ({"val_size": 1.5}, "ZooSpec.val_size=1.5: expected a fraction in (0, 1)"),
        ({"epochs": float("nan")}, "ZooSpec.epochs=nan"),
    ],
)
def test_a_bad_spec_is_refused_when_it_is_made(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        replace(DEMO, **change)


@pytest.mark.parametrize(
    ("spec", "device", "message"),
    [
        (replace(DEMO, dataset="nope"), "auto", "ZooSpec.dataset='nope': expected one of"),
        (replace(DEMO, probes=("nope",)), "auto", "unknown probe 'nope'"),
        (replace(DEMO, family="nope"), "auto", "unknown zoo family 'nope'"),
        (replace(DEMO, scaling="odd"), "auto", "ZooSpec.scaling='odd'"),
        (DEMO, "tpu:9", "device='tpu:9'"),
    ],
)
def test_a_refused_build_leaves_no_file_behind(tmp_path, spec, device, message):
    path = tmp_path / "sub" / "z.sqlite"
    with pytest.raises(ValueError, match=message):
        zoo.build(spec, path, progress=False, device=device)
    assert not path.exists() and not path.parent.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="no CUDA GPU"):
        zoo.build(DEMO, tmp_path / "z.sqlite", progress=False, device="cuda")
    assert not (tmp_path / "z.sqlite").exists()


def _broken(rng, *, input_shape, num_classes):
    raise RuntimeError("this family cannot sample")


def test_a_build_that_trains_nothing_does_not_lock_the_path_to_its_spec(tmp_path):
    zoo.register_family("broken_for_test", _broken)
    path = tmp_path / "z.sqlite"
    with ThreadPoolExecutor(1) as pool, pytest.raises(RuntimeError, match="2 network"):
        zoo.build(replace(DEMO, family="broken_for_test"), path, pool, progress=False)
    with ThreadPoolExecutor(1) as pool:  # the right spec for the path is not refused
        zoo.build(DEMO, path, pool, progress=False)
    assert len(zoo.load(path)) == 2


def test_the_sqlite_file_alone_holds_every_finished_network(tmp_path):
    """While a build is still running (its connection open, the WAL beside it), a copy of
    the ``.sqlite`` file alone already loads every network written so far."""
    path = tmp_path / "z.sqlite"
    conn = _connect(path)
    try:
        record = zoo.train_network({"spec": DEMO.to_dict(), "index": 0, "device": "cpu"})
        _write(conn, record, DEMO)
        copy = tmp_path / "copy" / "z.sqlite"
        copy.parent.mkdir()
        shutil.copyfile(path, copy)  # the -wal file left behind, as a user copying a zoo
        assert len(zoo.load(copy)) == 1 and zoo.load(copy).spec == DEMO
    finally:
        conn.close()


def test_a_zoo_from_a_newer_nnperf_is_refused_by_name(tmp_path):
    path = tmp_path / "z.sqlite"
    with ThreadPoolExecutor(1) as pool:
        zoo.build(replace(DEMO, n_networks=1), path, pool, progress=False)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    with pytest.raises(ValueError, match=r"built by a newer nnperf \(format 99"):
        zoo.load(path)
    with pytest.raises(ValueError, match="unknown to this nnperf"):
        zoo.ZooSpec.from_dict(DEMO.to_dict() | {"colour": "blue"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"train_size": -5}, r"train_size \[-5\]: expected integers >= 1"),
        ({"train_size": 2.5}, r"train_size \[2.5\]: expected integers >= 1"),
        ({"seed": -1}, r"seed \[-1\]: expected integers >= 0"),
        ({"budgets": [float("nan")]}, r"budgets \[nan\]: expected finite epochs >= 0"),
        ({"budgets": [-1.0]}, r"budgets \[-1.0\]"),
    ],
)
def test_evaluate_refuses_arguments_outside_their_domain(tiny_zoo, kwargs, message):
    from common import compare

    args = {"budgets": [1.0], "train_size": 4} | kwargs
    with pytest.raises(ValueError, match=message):
        compare.evaluate([compare.LastSeenValue()], tiny_zoo, **args)


def test_every_public_entry_with_a_budget_size_or_seed_checks_it(tiny_zoo):
    from common import compare

    last = compare.LastSeenValue()
    cases = [
        (lambda: tiny_zoo.truncate(float("nan")), r"budget=nan: expected finite epochs >= 0"),
        (lambda: compare.visible(tiny_zoo, last.requires, -1.0), r"budget=-1.0: expected"),
        (lambda: compare.fit(last, tiny_zoo, float("inf")), r"budgets \[inf\]: expected"),
        (lambda: compare.fit_predict(last, tiny_zoo, tiny_zoo, -2.0), r"budgets \[-2.0\]"),
        (
            lambda: compare.predictions([last], tiny_zoo, 1.0, train_size=-1),
            r"train_size \[-1\]: expected integers >= 1",
        ),
        (
            lambda: compare.predictions([last], tiny_zoo, 1.0, train_size=len(tiny_zoo)),
            rf"too few for train_size {len(tiny_zoo)} plus at least 2 held out",
        ),
        (lambda: compare.random_order(-1, 0), r"n=-1: expected a number of networks >= 0"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize(
    ("n_networks", "epochs", "message"),
    [
        (-5, None, r"n_networks=-5: expected an integer > 0"),
        (2.5, None, r"n_networks=2.5: expected an integer > 0"),
        (None, 0, r"epochs=0.0: expected a number > 0"),
    ],
)
def test_a_chapter_parameter_outside_its_domain_is_refused_by_name(n_networks, epochs, message):
    import comparison
    from common import scales
    from peng4nn.experiments import Scale

    with pytest.raises(ValueError, match=message):
        comparison.scale_of("book", n_networks, epochs)
    with pytest.raises(ValueError, match=r"n_networks=0: expected an integer > 0"):
        scales.override(Scale(), n_networks=0)
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        comparison.scale_of("huge")


@pytest.mark.filterwarnings("ignore::common.metrics.FewNetworksWarning")
def test_rank_metrics_do_not_order_floating_point_noise():
    from common import metrics

    truth = np.array([0.1, 0.5, 0.9, 0.3, 0.7])
    noise = 0.5 + 1e-12 * np.random.default_rng(0).normal(size=5)
    assert np.isnan(metrics.kendall_tau(truth, noise))  # all tied: no ranking at all
    near = np.array([0.2, 0.2 + 1e-13, 0.6, 0.6 - 1e-13, 0.9])
    assert metrics.kendall_tau(truth, near) == pytest.approx(
        metrics.kendall_tau(truth, [0.2, 0.2, 0.6, 0.6, 0.9])
    )
    np.testing.assert_array_equal(metrics.tied([3.0, 1.0, 1.0 + 1e-12, 2.0]), [3, 1, 1, 2])


def test_a_metric_on_too_few_networks_warns_with_the_spread_of_chance():
    import warnings

    from common import metrics

    # τ between unrelated rankings of 5: σ² = 2(2·5 + 5) / (9·5·4) = 1/6, 1.96 σ = 0.80
    with pytest.warns(metrics.FewNetworksWarning, match=r"Kendall τ on 5 networks.*±0\.80"):
        metrics.kendall_tau([1, 2, 3, 4, 5], [1, 2, 3, 5, 4])
    with pytest.warns(metrics.FewNetworksWarning) as caught:
        metrics.all_metrics([1, 2, 3], [3, 2, 1])
    assert len(caught) == 1  # one warning for the whole row, not one per metric
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.all_metrics(np.arange(10.0), np.arange(10.0))  # enough: silent


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"orderings": 0}, r"orderings=0: expected an integer >= 1"),
        ({"orderings": 2.5}, r"orderings=2.5: expected an integer >= 1"),
        ({"seed": -3}, r"seed=-3: expected an integer >= 0"),
        ({"eta": 1}, r"eta=1: expected a finite number > 1"),
        ({"truth": np.zeros(3)}, r"truth of shape \(3,\); expected \(\d+,\)"),
        ({"rules": {"r": (np.zeros(2), np.zeros(2))}}, r"rule 'r': stop epochs \(2,\)"),
    ],
)
def test_search_replays_refuse_arguments_outside_their_domain(tiny_zoo, kwargs, message):
    from common import search

    z = tiny_zoo.finished()
    args = {"signals": {}, "truth": z.target("final_val_acc"), "orderings": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        search.replay_searches(z, **args)


def test_a_fitted_signal_needs_networks_to_fit_and_to_search(tiny_zoo):
    from common import compare, search

    with pytest.raises(ValueError, match=r"Fitted.fit_size=0: expected an integer >= 1"):
        search.Fitted(compare.LastSeenValue(), 0)
    z = tiny_zoo.finished()
    too_many = search.Fitted(compare.LastSeenValue(), len(z))
    with pytest.raises(ValueError, match=rf"fit_size={len(z)}; expected 1\.\.{len(z) - 2}"):
        search.replay_searches(z, {"x": too_many}, z.target("final_val_acc"), 1)
    with pytest.raises(ValueError, match=r"n_configs=0: expected an integer >= 1"):
        search.sampler_without_replacement(0)


def test_a_second_builder_of_the_same_zoo_is_refused_by_name(tmp_path):
    import os

    path = tmp_path / "z.sqlite"
    with zoo.builder_lock(path), pytest.raises(RuntimeError, match=f"pid {os.getpid()} on host"):
        zoo.build(DEMO, path, progress=False)
    assert not path.exists()  # refused before it trained or wrote anything
    with ThreadPoolExecutor(1) as pool:
        zoo.build(DEMO, path, pool, progress=False)  # the lock is free again
    assert len(zoo.load(path)) == 2 and not (tmp_path / "z.sqlite.builder").exists()


def _disk_full_in_sqlite() -> sqlite3.OperationalError:
    """The error SQLite itself raises when a write needs a page the disk cannot give."""
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA max_page_count = 2")
    try:
        conn.execute("CREATE TABLE t (x BLOB)")
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    except sqlite3.OperationalError as full:
        return full
    raise AssertionError("SQLite did not fill")


@pytest.mark.parametrize(
    "fault",
    [_disk_full_in_sqlite(), OSError(errno.ENOSPC, "No space left on device")],
    ids=["sqlite-full", "enospc"],
)
def test_a_full_disk_stops_the_build_by_name_and_keeps_what_was_written(
    tmp_path, monkeypatch, fault
):
    """A full disk on the third network's write stops the build with "disk full" (not as
    failed networks); the two networks written stay, and the next build resumes."""
    path, spec, written = tmp_path / "z.sqlite", replace(DEMO, n_networks=4), []

    def fill_after_two(conn, record, spec):
        if len(written) == 2:
            raise fault
        _write(conn, record, spec)
        written.append(record["idx"])

    monkeypatch.setattr(zoo, "_write", fill_after_two)
    with ThreadPoolExecutor(1) as pool, pytest.raises(zoo.DiskFullError) as refused:
        zoo.build(spec, path, pool, progress=False)
    assert str(refused.value).startswith(f"disk full while writing the zoo at {path}")
    assert "2 network(s) stored before are kept" in str(refused.value)
    kept = zoo.load(path)
    assert sorted(kept.table.idx) == sorted(written) and len(written) == 2
    monkeypatch.undo()
    with ThreadPoolExecutor(1) as pool:
        zoo.build(spec, path, pool, progress=False)  # resumes: trains only the other two
    whole = zoo.load(path)
    assert len(whole) == 4
    np.testing.assert_array_equal(
        whole.subset(np.isin(whole.table.idx, written)).curve("val_acc"), kept.curve("val_acc")
    )


WORKER_SCRIPT = """
import os, sys, time
from common import zoo
pool = zoo.default_executor(1)
print(pool.submit(os.getpid).result(), flush=True)
pool.submit(time.sleep, 120)
time.sleep(120)
"""


def test_pool_workers_exit_when_the_building_process_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT], stdout=subprocess.PIPE, text=True
    )
    try:
        worker = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            _reap(worker)
            time.sleep(0.2)
        else:
            pytest.fail(f"worker {worker} still running 15 s after its parent was killed")
    finally:
        parent.kill()


def _reap(pid: int) -> None:
    import os

    try:
        os.waitpid(pid, os.WNOHANG)  # a zombie child of ours would look alive
    except ChildProcessError:
        pass


def test_a_flipped_byte_is_named_and_repaired_by_retraining_only_that_network(tmp_path, capsys):
    from common.cli import main

    path = tmp_path / "z.sqlite"
    spec = replace(DEMO, n_networks=3)
    with ThreadPoolExecutor(1) as pool:
        zoo.build(spec, path, pool, progress=False)
    before = zoo.load(path)
    with sqlite3.connect(path) as conn:
        (blob,) = conn.execute(
            "SELECT data FROM arrays WHERE idx = 1 AND name = 'curve/val_acc'"
        ).fetchone()
        flipped = bytearray(blob)
        flipped[-3] ^= 0xFF  # a byte of the stored numbers, not of the .npy header
        conn.execute(
            "UPDATE arrays SET data = ? WHERE idx = 1 AND name = 'curve/val_acc'",
            (bytes(flipped),),
        )
    with pytest.raises(ValueError, match=r"network 1, field 'curve/val_acc' is damaged"):
        zoo.load(path)
    assert main(["zoo", "check", str(path)]) == 1
    assert "network 1: curve/val_acc: checksum mismatch" in capsys.readouterr().out
    assert main(["zoo", "check", str(path), "--repair"]) == 1
    assert len(zoo.load(path)) == 2  # the damaged network is gone, the others untouched
    with ThreadPoolExecutor(1) as pool:
        zoo.build(spec, path, pool, progress=False)  # re-trains network 1 only
    after = zoo.load(path)
    assert main(["zoo", "check", str(path)]) == 0
    for i in range(3):  # seeded per network: the re-trained one equals the original
        assert after.curve("val_acc")[i].tolist() == before.curve("val_acc")[i].tolist()


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_truncated_or_foreign_zoo_file_is_named_as_damaged(tmp_path, damage):
    from common.cli import main

    path = tmp_path / "z.sqlite"
    with ThreadPoolExecutor(1) as pool:
        zoo.build(DEMO, path, pool, progress=False)
    size = path.stat().st_size
    if damage == "truncated":
        with open(path, "r+b") as f:
            f.truncate(size // 3)
    else:
        path.write_bytes(b"not a zoo " * (size // 10))
    before = path.read_bytes()
    expected = rf"zoo at {path} is damaged or not a zoo file \(SQLite: .+\)\. Restore a copy"
    with pytest.raises(zoo.ZooCorruptError, match=expected):
        zoo.load(path)
    with ThreadPoolExecutor(1) as pool, pytest.raises(zoo.ZooCorruptError, match=expected):
        zoo.build(DEMO, path, pool, progress=False)  # a build refuses it too
    assert main(["zoo", "check", str(path)]) != 0  # the CLI says so, without a traceback
    assert path.read_bytes() == before  # nothing was written to the damaged file


def test_a_zoo_in_a_read_only_folder_loads(tmp_path):
    import os

    folder = tmp_path / "ro"
    folder.mkdir()
    with ThreadPoolExecutor(1) as pool:
        zoo.build(replace(DEMO, n_networks=1), folder / "z.sqlite", pool, progress=False)
    os.chmod(folder, 0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who writes anywhere (root)")
        assert len(zoo.load(folder / "z.sqlite")) == 1
    finally:
        os.chmod(folder, 0o755)


def test_peng4nn_estimates_stay_in_range_and_refuse_the_wrong_unit():
    import numpy as np

    from peng4nn import Engine, replay

    epochs = np.arange(1, 21) * 0.5
    loss = np.linspace(2.0, 1.0, 20)
    flat = replay(epochs, np.full(20, 100.0), loss).decision  # a − b^(c − x) fits a = 101
    assert flat.estimate <= 100.0
    falling = replay(epochs, np.linspace(90, 10, 20), loss)
    assert falling.decision.estimate == pytest.approx(10.0)  # the last value, not the fit's 51
    assert not falling.decision.described  # and it says so
    assert all(np.isnan(falling.predictions[3:]))  # no fit described the curve
    with pytest.raises(ValueError, match=r"accuracy 1.5 at epoch 0.5: expected a fraction"):
        Engine(unit="fraction").observe(0.5, 1.5, 1.0)
    with pytest.raises(ValueError, match="expected percent in"):
        Engine().observe(0.5, 120.0, 1.0)
    engine = Engine()
    engine.observe(0.5, 0.41, 2.0)
    with pytest.warns(UserWarning, match="fractions given as percent"):
        engine.observe(1.0, 0.52, 1.9)
    fractions = Engine(unit="fraction")
    fractions.observe(0.5, 0.41, 2.0)
    assert fractions.val_acc == [41.0]


def test_a_cache_that_is_a_file_is_named_before_any_network_trains(tmp_path, monkeypatch):
    """NNPERF_CACHE pointing at a file failed every zoo worker with NotADirectoryError on
    '<file>/arrays', twelve tracebacks deep; now the first look at the cache says so."""
    from common import data
    from tests.conftest import TINY_SPEC

    stray = tmp_path / "cache"
    stray.write_text("not a folder\n")
    monkeypatch.setenv("NNPERF_CACHE", str(stray))
    with pytest.raises(NotADirectoryError, match=r"NNPERF_CACHE='.*cache' is a file; expected"):
        data.cache_dir()
    with pytest.raises(NotADirectoryError, match="NNPERF_CACHE"):
        zoo.build_cached(TINY_SPEC)
    monkeypatch.setenv("NNPERF_CACHE", str(tmp_path / "new"))  # missing: fine, created later
    assert data.cache_dir() == tmp_path / "new"


def test_a_truncated_dataset_is_named_as_corrupt_and_available_answers(tmp_path, monkeypatch):
    from common import data

    monkeypatch.setenv("NNPERF_CACHE", str(tmp_path / "cache"))
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\x00\x00\x08\x03\x00\x00")  # a header cut short
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"")
    with pytest.raises(data.DatasetCorruptError, match="mnist: its files under .* cannot be read"):
        data.raw_arrays("mnist", str(tmp_path / "data"), False)
    answer = data.available("mnist", tmp_path / "data")
    assert not answer and "corrupt or truncated" in answer.reason
    missing = data.available("fashion_mnist", tmp_path / "data")
    assert not missing and "fashion_mnist" in missing.reason.lower()
    assert data.present(["digits", "mnist"], tmp_path / "data") == ["digits"]


@pytest.mark.parametrize(  # the chapters whose book scale asks for a real dataset
    "package", ["peephole", "peng4nn", "feature_histories", "weights_to_acc"]
)
def test_a_chapter_skips_absent_datasets_without_a_warning_record(
    package, tmp_path, monkeypatch, caplog
):
    """A cold book without NNPERF_DATA printed `WARNING:common.data:skipping mnist ...` into
    four chapter pages (the notebooks log WARNING and above to stderr): the skip is the
    expected path on such a machine, logged at INFO and named by `nnperf book` once."""
    import importlib
    import logging

    monkeypatch.setenv("NNPERF_CACHE", str(tmp_path / "cache"))
    experiments = importlib.import_module(f"{package}.experiments")
    wanted = list(experiments.SCALES["book"])
    with caplog.at_level(logging.INFO, logger="common.data"):
        assert experiments.default_datasets("book", root=tmp_path / "empty") == ["digits"]
    skipped = [r for r in caplog.records if "skipping" in r.getMessage()]
    assert len(skipped) == len(wanted) - 1 >= 1  # the book scale asks for a real dataset
    assert {r.levelno for r in skipped} == {logging.INFO}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_book_names_an_unset_data_root_once_and_only_where_it_matters(tmp_path, monkeypatch):
    from common import book
    from tests.common.test_data import write_idx

    monkeypatch.setenv("NNPERF_CACHE", str(tmp_path / "cache"))
    notice = book.data_notice("book", environ={})
    assert "NNPERF_DATA is unset" in notice and "digits" in notice
    assert book.data_notice("paper", environ={}) == notice
    empty = tmp_path / "empty"  # a folder, but no dataset in it: said too
    empty.mkdir()
    hollow = book.data_notice("book", environ={"NNPERF_DATA": str(empty)})
    assert f"NNPERF_DATA={str(empty)!r} holds none of mnist" in hollow and "digits" in hollow
    rng, sizes = np.random.default_rng(0), {"train": 12, "t10k": 5}  # one real dataset
    images = {p: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for p, n in sizes.items()}
    labels = {p: np.arange(n) % 10 for p, n in sizes.items()}
    write_idx(tmp_path / "data" / "MNIST" / "raw", images, labels)
    assert book.data_notice("book", environ={"NNPERF_DATA": str(tmp_path / "data")}) is None
    bad = str(tmp_path / "no such folder")  # a typo, or a path that spans two lines
    assert f"NNPERF_DATA={bad!r} is not a folder" in book.data_notice("book", {"NNPERF_DATA": bad})
    assert book.data_notice("smoke", environ={"NNPERF_DATA": bad}) is None
    assert book.data_notice("smoke", environ={}) is None  # smoke is digits only


def _visible_device(pause: float) -> tuple[int, str | None]:
    import os
    import time

    time.sleep(pause)  # keep this worker busy so that the other takes the next task
    return os.getpid(), os.environ.get("CUDA_VISIBLE_DEVICES")


def test_pool_workers_are_given_the_visible_gpus_round_robin():
    """On a CUDA machine each worker sees one GPU, round-robin (checked here with GPU names
    handed to the pool: the placement is an environment variable set before CUDA starts)."""
    assert [zoo.gpu_for(k, ("0", "1")) for k in range(5)] == ["0", "1", "0", "1", "0"]
    pool = zoo.default_executor(2, gpus=("3", "5"))
    try:
        seen = dict(pool.map(_visible_device, [1.0] * 4))
    finally:
        pool.shutdown()
    assert sorted(seen.values()) == ["3", "5"]  # two workers, one GPU each
    pool = zoo.default_executor(1, gpus=())
    try:
        assert next(pool.map(_visible_device, [0.0]))[1] == os.environ.get("CUDA_VISIBLE_DEVICES")
    finally:
        pool.shutdown()
