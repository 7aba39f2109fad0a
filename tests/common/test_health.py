"""The health report and the noise ceiling against hand-set zoos and hand-computed values."""

import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from common import health, zoo
from tests.conftest import TINY_SPEC


def hand_zoo(accuracies, batch_size=16, epochs=10.0, train_fraction=1.0) -> zoo.Zoo:
    n = len(accuracies)
    table = pd.DataFrame(
        {
            "idx": range(n),
            "status": ["ok" if np.isfinite(a) else "diverged" for a in accuracies],
            "final_val_acc": accuracies,
            "batch_size": batch_size,
            "epochs": epochs,
            "train_fraction": train_fraction,
        }
    )
    spec = zoo.ZooSpec("demo", n_networks=n, epochs=epochs)
    return zoo.Zoo(spec, table, np.arange(1.0, epochs + 1), [{} for _ in range(n)])


def test_health_of_a_zoo_set_by_hand():
    # validation labels: 3 of class 0, 2 of class 1, 5 of class 2 -> chance 0.5
    splits = SimpleNamespace(
        val_y=np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2]), train_y=np.zeros(100), test_y=np.zeros(7)
    )
    acc = [0.5, 0.52, 0.53, 0.6, 0.7, 0.8, 0.9, np.nan, 0.51, 1.0]
    report = health.health(hand_zoo(acc), splits=splits)
    assert report["networks"] == 10 and report["diverged"] == 0.1
    assert (report["val_images"], report["test_images"]) == (10, 7)
    assert report["chance"] == 0.5
    assert report["at_chance"] == pytest.approx(0.3)  # 0.5, 0.52, 0.51 (0.53 is 3 points up)
    finished = np.array([0.5, 0.52, 0.53, 0.6, 0.7, 0.8, 0.9, 0.51, 1.0])
    assert report["q50"] == pytest.approx(0.6) and report["best"] == 1.0
    assert report["q10"] == pytest.approx(np.quantile(finished, 0.1))
    assert report["median_to_best"] == pytest.approx(0.4)
    # 100 images at batch 16: ceil(100 / 16) = 7 steps per epoch, 10 epochs
    assert report["steps_min"] == report["steps_median"] == report["steps_max"] == 70


def test_optimiser_steps_follow_fraction_batch_and_epochs():
    table = pd.DataFrame(
        {"train_fraction": [1.0, 0.25, 0.1], "batch_size": [64, 16, 32], "epochs": [8.0, 20.0, 2.5]}
    )
    # 1150 images: ceil(1150/64) = 18 (x8 = 144); 288 images / 16 = 18 (x20 = 360);
    # 115 images / 32 -> 4 steps (x2.5 = 10)
    assert health.optimiser_steps(table, 1150).tolist() == [144, 360, 10]


def test_health_refuses_a_truncated_or_empty_zoo():
    splits = SimpleNamespace(val_y=np.array([0, 1]), train_y=np.zeros(10))
    z = hand_zoo([0.5, 0.7, 0.9])
    with pytest.raises(ValueError, match="truncated"):
        health.health(z.truncate(2.0), splits=splits)
    with pytest.raises(ValueError, match="no networks"):
        health.health(hand_zoo([]), splits=splits)


def test_ceiling_against_hand_computed_tau_and_r2():
    first, second = [0.1, 0.2, 0.3, 0.4, np.nan], [0.1, 0.3, 0.2, 0.4, 0.9]
    c = health.ceiling(first, second)
    # pairs: 5 concordant, 1 discordant (0.2/0.3 swapped): tau = (5 - 1) / 6
    assert c["ceiling_tau"] == pytest.approx(2 / 3) and c["ceiling_networks"] == 4
    # residuals 0, -0.1, 0.1, 0 -> SS_res 0.02; SS_tot around 0.25 is 0.05
    assert c["ceiling_r2"] == pytest.approx(1 - 0.02 / 0.05)
    # differences 0, -0.1, 0.1, 0: var (ddof 1) 0.02 / 3, halved for one training
    assert c["run_sd"] == pytest.approx(np.sqrt(0.02 / 6))
    with pytest.raises(ValueError, match="different networks"):
        health.ceiling([0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="at least 3"):
        health.ceiling([0.1, 0.2, np.nan], [0.1, 0.2, 0.3])


def test_the_ceilings_interval_against_a_resampling_by_hand():
    rng = np.random.default_rng(3)
    truth = rng.uniform(0.5, 0.9, 40)
    first, second = truth + rng.normal(0, 0.05, 40), truth + rng.normal(0, 0.05, 40)
    c = health.ceiling(first, second)
    # the same percentile bootstrap written out: networks drawn with replacement, τ of each
    taus = []
    for _ in range(4000):
        i = rng.integers(0, 40, 40)
        taus.append(stats.kendalltau(first[i], second[i]).statistic)
    low, high = np.percentile(taus, [2.5, 97.5])
    assert c["ceiling_tau_lo"] == pytest.approx(low, abs=0.02)
    assert c["ceiling_tau_hi"] == pytest.approx(high, abs=0.02)
    assert c["ceiling_tau_lo"] < c["ceiling_tau"] < c["ceiling_tau_hi"]
    # seeded: the same interval every time; four times the networks, about half the width
    # (0.35 for this draw)
    assert health.ceiling(first, second) == c
    wide = c["ceiling_tau_hi"] - c["ceiling_tau_lo"]
    truth = rng.uniform(0.5, 0.9, 160)
    first, second = truth + rng.normal(0, 0.05, 160), truth + rng.normal(0, 0.05, 160)
    more = health.ceiling(first, second)
    assert 0.3 < (more["ceiling_tau_hi"] - more["ceiling_tau_lo"]) / wide < 0.7
    # identical trainings: τ is 1 in every resample; too few networks: no interval
    same = health.ceiling(first, first)
    assert same["ceiling_tau_lo"] == pytest.approx(1.0) == same["ceiling_tau_hi"]
    few = health.ceiling(first[:9], second[:9])
    assert np.isnan(few["ceiling_tau_lo"]) and np.isnan(few["ceiling_tau_hi"])


def test_the_interval_leaves_out_resamples_without_a_tau_and_warns_of_nothing():
    # 7 of 10 networks tied at chance in the second training: 0.7 ** 10, about 3 % of the
    # resamples, draw only those, whose τ is undefined; the interval is over the others
    first = np.array([0.10, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.60, 0.70, 0.80])
    second = np.array([0.10] * 7 + [0.65, 0.72, 0.79])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DegenerateDataWarning on a chapter's page
        low, high = health.tau_interval(first, second)
    rng = np.random.default_rng(0)
    taus = []
    for _ in range(8000):
        i = rng.integers(0, 10, 10)
        if np.ptp(first[i]) > 0 and np.ptp(second[i]) > 0:
            taus.append(stats.kendalltau(first[i], second[i]).statistic)
    assert 0.01 < 1 - len(taus) / 8000 < 0.05  # some were undefined, as reckoned
    assert (low, high) == pytest.approx(tuple(np.percentile(taus, [2.5, 97.5])), abs=0.03)
    # mostly undefined: no interval
    tied = np.array([0.10] * 9 + [0.9])
    assert all(np.isnan(health.tau_interval(first, tied)))


def test_the_validation_splits_share_of_the_run_to_run_noise():
    first, second = [0.5, 0.6, 0.7, 0.8], [0.52, 0.58, 0.71, 0.79]
    # run-to-run: differences -0.02, 0.02, -0.01, 0.01 -> var 0.001 / 3, one training's 0.001 / 6
    # sampling: mean p(1 - p) of the pair means 0.51, 0.59, 0.705, 0.795 is 0.2156875
    c = health.ceiling(first, second, images=10_000)
    assert c["run_sd"] == pytest.approx(np.sqrt(0.001 / 6))
    assert c["sampling_share"] == pytest.approx(0.2156875e-4 / (0.001 / 6))
    # on 100 images the binomial noise alone exceeds what the two trainings disagree by
    assert health.ceiling(first, second, images=100)["sampling_share"] == 1.0
    assert "sampling_share" not in health.ceiling(first, second)
    with pytest.raises(ValueError, match="images=0.5: expected a whole number"):
        health.ceiling(first, second, images=0.5)


def test_replicate_retrains_the_same_networks_from_other_seeds(tiny_zoo_path, tiny_zoo, capsys):
    n = 6
    with ThreadPoolExecutor(1) as executor:
        c = health.noise_ceiling(tiny_zoo_path, n, executor=executor, progress=False)
    twin = zoo.load(health.replicate_path(tiny_zoo_path, health.replicate_spec(TINY_SPEC, n)))
    assert twin.spec.replicate == 1 and len(twin) == n
    first = tiny_zoo.table.iloc[:n]
    assert twin.table["arch"].tolist() == first["arch"].tolist()  # same architectures
    assert np.allclose(twin.table["lr"], first["lr"])  # same hyperparameters
    assert not np.any(twin.table["seed"].to_numpy() == first["seed"].to_numpy())
    assert c == health.ceiling(tiny_zoo.target()[:n], twin.target())
    # asked again, a complete replicate is only read: a shipped (rollback-journal) file
    # stays as it is
    import sqlite3

    twin_path = health.replicate_path(tiny_zoo_path, twin.spec)
    sqlite3.connect(twin_path).execute("PRAGMA journal_mode=DELETE").connection.close()
    before = twin_path.read_bytes()
    assert health.noise_ceiling(tiny_zoo_path, n, progress=False) == c
    assert twin_path.read_bytes() == before
    # the replicate's spec leaves the zoo's own key untouched (replicate 0 is not stored)
    assert "replicate" not in TINY_SPEC.to_dict() and "replicate" in twin.spec.to_dict()
    with pytest.raises(ValueError, match="first 99 networks"):
        health.noise_ceiling(tiny_zoo_path, 99)
    from common.cli import main

    # `zoo info` prints the ceiling on each accuracy a chapter's truth can be
    capsys.readouterr()
    assert main(["zoo", "info", str(tiny_zoo_path), "--ceiling", str(n)]) == 0
    out = capsys.readouterr().out
    for target, prefix in (
        ("final_val_acc", ""),
        ("max_val_acc", "max_val_"),
        ("test_acc", "test_"),
    ):
        tau = health.ceiling(tiny_zoo.target(target)[:n], twin.target(target))["ceiling_tau"]
        assert re.search(rf"^ *{prefix}ceiling_tau  {tau:.3f}$", out, re.M), (prefix, tau, out)
    assert "mean of 2 trainings" not in out  # replicates 2 and 3 are not there yet
    # with replicates 2 and 3 beside it, also the ceiling of a truth averaged over two
    with ThreadPoolExecutor(1) as executor:
        for r in (2, 3):
            health.noise_ceiling(tiny_zoo_path, n, replicate=r, executor=executor, progress=False)
    twins = [
        zoo.load(health.replicate_path(tiny_zoo_path, s))
        for s in health.replicate_specs(TINY_SPEC, n, trainings=2)
    ]
    assert main(["zoo", "info", str(tiny_zoo_path), "--ceiling", str(n)]) == 0
    out = capsys.readouterr().out
    assert "noise ceiling of the mean of 2 trainings (3 replicates):" in out
    assert "mean of 3 trainings" not in out
    tau = health.ceiling_of(tiny_zoo, twins, target="test_acc")["ceiling_tau"]
    assert re.search(rf"^ *mean2_test_ceiling_tau  {tau:.3f}$", out, re.M), (tau, out)
    # the replicate's own summary works (and has no ceiling)
    assert main(["zoo", "info", str(health.replicate_path(tiny_zoo_path, twin.spec))]) == 0


def test_report_builds_the_replicate_through_the_cache(tiny_zoo, tmp_path, monkeypatch):
    built = []
    real = zoo.build

    def build_in_thread(spec, path, executor=None, progress=True, **kw):
        built.append(spec)
        assert not progress  # no progress bar on the chapter's page
        with ThreadPoolExecutor(1) as ex:
            return real(spec, path, ex, progress=False, **kw)

    monkeypatch.setattr(zoo, "build", build_in_thread)
    r = health.report(tiny_zoo, cache=tmp_path, n=5)
    assert [s.replicate for s in built] == [1] and built[0].n_networks == 5
    twin = zoo.load(zoo.cache_path(built[0], tmp_path))
    assert r["ceiling_tau"] == health.ceiling(tiny_zoo.target()[:5], twin.target())["ceiling_tau"]
    assert r["networks"] == len(tiny_zoo) and "at_chance" in r
    # the chapters' table: the validation split's share of the noise, from the zoo's split
    expected = health.ceiling(tiny_zoo.target()[:5], twin.target(), r["val_images"])
    assert r["sampling_share"] == pytest.approx(expected["sampling_share"])
    with pytest.raises(ValueError, match="no replicate of its own"):
        health.replicate_spec(built[0])
    # on the test accuracy (the truth of Cao's and Unterthiner's chapters): the replicate is
    # reused, the ceiling is the two trainings' test accuracies', the share the test split's
    on_test = health.report(tiny_zoo, cache=tmp_path, n=5, target="test_acc")
    again = zoo.load(zoo.cache_path(built[0], tmp_path))
    assert again.table["seed"].tolist() == twin.table["seed"].tolist() and len(again) == 5
    first, second = tiny_zoo.target("test_acc")[:5], twin.target("test_acc")
    assert not np.allclose(first, tiny_zoo.target()[:5])  # a different quantity
    assert on_test == r | health.ceiling(first, second, r["test_images"])
    # on the best validation accuracy of the run (PEng4NN's truth): the validation split's
    on_best = health.report(tiny_zoo, cache=tmp_path, n=5, target="max_val_acc")
    first, second = tiny_zoo.target("max_val_acc")[:5], twin.target("max_val_acc")
    assert np.all(first >= tiny_zoo.target()[:5]) and not np.allclose(first, tiny_zoo.target()[:5])
    assert on_best == r | health.ceiling(first, second, r["val_images"])
    with pytest.raises(ValueError, match="target='val_acc': expected one of"):
        health.report(tiny_zoo, cache=tmp_path, n=5, target="val_acc")


def test_a_shipped_zoo_is_used_when_complete_and_finished_in_the_cache_when_not(
    tiny_zoo_path, tmp_path, monkeypatch
):
    import shutil

    shipped, cache = tmp_path / "zoos", tmp_path / "cache"
    shipped.mkdir()
    monkeypatch.setattr(zoo, "SHIPPED", shipped)
    shutil.copyfile(tiny_zoo_path, shipped / zoo.cache_path(TINY_SPEC, ".").name)
    monkeypatch.setattr(zoo, "build", lambda *a, **k: pytest.fail("a complete zoo was rebuilt"))
    z = zoo.build_cached(TINY_SPEC, cache)
    assert len(z) == TINY_SPEC.n_networks and not cache.exists()
    # a spec asking for other networks has no shipped zoo: it is built in the cache
    other = zoo.ZooSpec("demo", n_networks=2, seed=3, epochs=2.0, eval_every=0.5)
    assert zoo.shipped_path(other) is None
    # a shipped zoo with fewer networks than its spec is copied and finished in the cache
    bigger = zoo.ZooSpec(**(TINY_SPEC.to_dict() | {"n_networks": TINY_SPEC.n_networks + 1}))
    shutil.copyfile(tiny_zoo_path, shipped / zoo.cache_path(bigger, ".").name)
    finished = []
    monkeypatch.setattr(zoo, "build", lambda spec, path, *a, **k: finished.append(path))
    zoo.build_cached(bigger, cache)
    assert finished == [zoo.cache_path(bigger, cache)] and finished[0].exists()


def test_ceiling_of_refuses_a_zoo_without_its_replicates_networks(tiny_zoo):
    twin = tiny_zoo.subset([0, 1, 2, 3])
    assert health.ceiling_of(tiny_zoo, twin)["ceiling_networks"] <= 4
    with pytest.raises(ValueError, match="lacks some of the 4 networks"):
        health.ceiling_of(tiny_zoo.subset([0, 2, 3, 4, 5]), twin)


def test_the_shown_table_has_a_column_per_zoo_counts_as_integers_and_blanks_for_missing():
    table = pd.DataFrame(
        {"networks": [160, 40], "at_chance": [0.05, 0.0], "ceiling_tau": [0.78412, np.nan]},
        index=pd.Index(["blocks", "nb201"], name="zoo"),
    )
    shown = health.shown(table)
    assert shown.columns.tolist() == ["blocks", "nb201"]
    assert shown.index.tolist() == ["networks", "at_chance", "ceiling_tau"]
    assert shown["blocks"].tolist() == ["160", "0.050", "0.784"]
    assert shown["nb201"].tolist() == ["40", "0.000", ""]


def test_the_ceiling_of_a_truth_averaged_over_trainings_against_means_by_hand(monkeypatch):
    """Cao et al.'s truth is the mean of three trainings (Sec. 4.2.1): its ceiling is
    between two such means (the zoo's training and replicates 1-2 against 3-5), and the
    truth the chapter scores is the mean of replicates 1-3, none of them the zoo's."""
    rng = np.random.default_rng(0)
    cells = rng.uniform(0.3, 0.8, 12)
    runs = [cells + rng.normal(0, 0.03, 12) for _ in range(6)]  # the zoo, replicates 1-5
    runs[4][3] = np.nan  # replicate 4 diverged on network 3
    z = hand_zoo(runs[0])
    twins = {r: hand_zoo(runs[r][:8]) for r in range(1, 6)}  # the first 8 networks
    for t in (z, *twins.values()):
        t.table["test_acc"] = t.table["final_val_acc"] - 0.01
    specs = health.replicate_specs(z.spec, 8, trainings=3)
    assert [(s.replicate, s.n_networks) for s in specs] == [(r, 8) for r in range(1, 6)]
    built = []

    def build_cached(spec, cache=None, device="auto", executor=None, progress=True):
        built.append(spec.replicate)
        return twins[spec.replicate]

    monkeypatch.setattr(zoo, "build_cached", build_cached)
    monkeypatch.setattr(health, "health", lambda z: {"networks": len(z), "val_images": 5000})
    r = health.report(z, n=8, trainings=3)
    assert built == [1, 2, 3, 4, 5] and r["truth_trainings"] == 3
    first = (runs[0][:8] + runs[1][:8] + runs[2][:8]) / 3
    second = (runs[3][:8] + runs[4][:8] + runs[5][:8]) / 3
    ok = np.isfinite(second)
    assert r["ceiling_networks"] == 7
    assert r["ceiling_tau"] == pytest.approx(stats.kendalltau(first[ok], second[ok]).statistic)
    run_var = np.var(first[ok] - second[ok], ddof=1) / 2
    assert r["run_sd"] == pytest.approx(np.sqrt(run_var))
    p = (first[ok] + second[ok]) / 2
    assert r["sampling_share"] == pytest.approx(np.mean(p * (1 - p)) / (5000 * 3) / run_var)
    assert 0 < r["sampling_share"] < 1
    # one training (the default): the zoo's against replicate 1, and no truth_trainings
    built.clear()
    one = health.report(z, n=8)
    assert built == [1] and "truth_trainings" not in one
    assert one["ceiling_tau"] == health.ceiling(runs[0][:8], runs[1][:8])["ceiling_tau"]
    # the chapter's truth: replicates 1-3 averaged, by network idx, on the target asked for
    built.clear()
    truth = health.truth(z, n=8, trainings=3)
    assert built == [1, 2, 3] and list(truth.index) == list(range(8))
    # the truth's replicates: 1-3 of the first 8 networks, the first set of its ceiling's
    truth_specs = health.truth_specs(z.spec, 8, 3)
    assert [(s.replicate, s.n_networks) for s in truth_specs] == [(1, 8), (2, 8), (3, 8)]
    assert truth_specs == specs[:3]
    assert np.allclose(truth, (runs[1][:8] + runs[2][:8] + runs[3][:8]) / 3 - 0.01)
    with pytest.raises(ValueError, match="2k - 1 of them"):
        health.ceiling_of(z, [twins[1], twins[2]])
    with pytest.raises(ValueError, match="trainings=0: expected a whole number"):
        health.replicate_specs(z.spec, 8, trainings=0)
    with pytest.raises(ValueError, match="lacks some of the 8 networks"):
        health.ceiling_of(hand_zoo(runs[0][:5]), [twins[1], twins[2], twins[3]])
