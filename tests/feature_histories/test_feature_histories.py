import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from common import archs, compare, search, train
from feature_histories import experiments, families, nb201
from feature_histories import search as fh_search
from feature_histories.history import History
from feature_histories.probe import FeatureHistoryPredictor, FeatureHistoryProbe
from feature_histories.proxy import estimates, predictions
from tests.conftest import build_in_process


def separable(n=200, d=6, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    x = torch.randn(n, d, generator=g) * 0.1
    x[torch.arange(n), y] += 3.0  # class c lights up feature c
    return x, y


def filled(k, epochs, classifier=None, seed=0):
    history = History(k)
    x, y = separable(seed=seed)
    vx, vy = separable(60, seed=seed + 100)
    classifier = classifier or nn.Linear(6, 3)
    for _ in range(epochs):
        for i in range(0, len(x), 50):
            history.on_train_batch(x[i : i + 50], y[i : i + 50])
        history.end_epoch(classifier, vx, vy)
    return history


def test_the_proxy_separates_linearly_separable_features():
    zero = nn.Linear(6, 3)
    nn.init.zeros_(zero.weight), nn.init.zeros_(zero.bias)
    got = estimates(filled(3, 3, zero))
    assert got["optimised"] == got["ensemble"] == 1.0
    assert got["original"] == pytest.approx(1 / 3, abs=0.2)  # all-zero classifier: one class


def test_an_ensemble_of_identical_classifiers_equals_one():
    history = filled(4, 4, nn.Linear(6, 3))  # the same features and classifier each epoch
    right = predictions(history)
    assert torch.equal(right["ensemble"], right["optimised"])


def test_the_buffer_keeps_at_most_k_epochs_and_checks_its_inputs():
    history = filled(3, 7)
    assert len(history) == 3
    with pytest.raises(ValueError, match="at least one epoch"):
        History(0)
    with pytest.raises(ValueError, match="feature widths differ"):
        h = History(2)
        h.on_train_batch(torch.zeros(4, 5), torch.zeros(4, dtype=torch.long))
        h.end_epoch(nn.Linear(6, 3), torch.zeros(3, 6), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="no training features"):
        History(2).end_epoch(nn.Linear(6, 3), torch.zeros(3, 6), torch.zeros(3, dtype=torch.long))


def test_original_is_the_models_own_accuracy(digits):
    arch = families.resnet(digits.input_shape, 10, width=4)
    probe = FeatureHistoryProbe(k=2)
    recipe = nb201.recipe(2.0)
    result = train.train(arch, recipe, digits, eval_every=1.0, probes={"fh": probe}, device="cpu")
    assert np.allclose(result.probes["fh"][:, 0], result.curves["val_acc"])
    assert len(probe.history) == 2 and probe.seconds > 0


def test_k_counts_epochs_whatever_the_evaluation_cadence(digits):
    """Issue 14, item 7: evaluated every half epoch, K = 2 epochs are 4 snapshots (the
    comparison chapter validates every 0.5 epoch; K evaluations would be K / 2 epochs)."""
    from feature_histories.history import snapshots_for

    assert snapshots_for(10, 1.0) == 10 and snapshots_for(10, 0.5) == 20
    assert snapshots_for(0.25, 0.5) == 1  # at least one snapshot
    with pytest.raises(ValueError, match="must be > 0"):
        snapshots_for(0, 1.0)
    arch = families.resnet(digits.input_shape, 10, width=4)
    probe = FeatureHistoryProbe(k=2)
    train.train(arch, nb201.recipe(3.0), digits, eval_every=0.5, probes={"fh": probe}, device="cpu")
    assert probe.history.k == 4 and len(probe.history) == 4
    seen = sum(len(s.train_y) for s in probe.history.snapshots)
    assert seen == 2 * len(digits.train_y)  # the buffer holds exactly two epochs of images
    with pytest.raises(ValueError, match="before its first evaluation"):
        probe.configure(eval_every=1.0)


def test_nb201_parameter_counts_by_hand():
    ops = ("nor_conv_3x3", "nor_conv_1x1", "none", "skip_connect", "avg_pool_3x3", "nor_conv_3x3")
    # two 3×3 ReLU-conv-BN (4·4·9 + 8 each) and one 1×1 (4·4 + 8)
    _, shape, n = nb201.make_cell({"ops": ops}, (4, 8, 8), "cell")
    assert n == 2 * 152 + 24 == sum(p.numel() for p in nb201.Cell(ops, 4).parameters())
    _, shape, n = nb201.make_reduce({"out_channels": 8}, (4, 8, 8), "reduce")
    assert shape == (8, 4, 4) and n == 288 + 16 + 576 + 16 + 32
    arch = nb201.architecture(ops, (1, 8, 8), 10, channels=4, cells=2)
    assert archs.num_params(arch) == sum(p.numel() for p in archs.build(arch).parameters())


def test_a_cell_of_all_none_still_yields_a_valid_network():
    arch = nb201.architecture(("none",) * 6, (1, 8, 8), 10, channels=4, cells=1)
    net = archs.build(arch)
    out = net(torch.randn(5, 1, 8, 8))
    assert out.shape == (5, 10) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="ops must be 6 names"):
        nb201.architecture(("none",) * 5, (1, 8, 8), 10)
    for make in families.FAMILIES.values():
        assert archs.build(make((1, 8, 8), 10, 4))(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_a_zoo_on_a_training_fraction_trains_each_network_on_that_fraction(digits):
    """A scale's `train_fraction`, `val_size` and `batch_size` reach the zoo's networks; a
    full training split leaves the spec (and so the shipped digits zoos' keys) unchanged."""
    from common import zoospec

    full = experiments.zoo_spec("digits", "book")
    assert "train_fraction" not in full.family_options and full.batch_size is None
    part = experiments.zoo_spec("digits", "book", train_fraction=0.25, val_size=300, batch_size=32)
    assert part.family_options["train_fraction"] == 0.25 and part.val_size == 300
    arch, recipe, _ = zoospec.sample_network(part, 0, (1, 8, 8), 10)
    assert (recipe.train_fraction, recipe.batch_size) == (0.25, 32)
    # the same cell as the full-split zoo's network 0: only the training changed
    assert nb201.cell_of(arch) == nb201.cell_of(zoospec.sample_network(full, 0, (1, 8, 8), 10)[0])
    with pytest.raises(ValueError, match="train_fraction=1.5"):
        nb201.sample(
            np.random.default_rng(0), input_shape=(1, 8, 8), num_classes=10, train_fraction=1.5
        )


@pytest.fixture(scope="module")
def nb_zoo(tmp_path_factory):
    return build_in_process(
        experiments.zoo_spec("digits", "smoke"), tmp_path_factory.mktemp("fh") / "nb.sqlite"
    )


def test_search_with_the_proxy_disabled_equals_plain_search(nb_zoo):
    plain = search.hyperband(
        search.sampler_without_replacement(len(nb_zoo), 3), search.ZooObjective(nb_zoo), 3
    )
    assert fh_search.hyperband(nb_zoo, 3, proxy=False, seed=3).trials == plain.trials
    proxied = fh_search.hyperband(nb_zoo, 3, proxy=True, seed=3)
    ensemble = nb_zoo.probe("fh_k2")[..., 2]  # a 3-epoch run keeps K = 2 epochs
    for t in proxied.trials:
        assert t.value == pytest.approx(ensemble[t.config, t.epochs - 1])
    bohb = fh_search.bohb(nb_zoo, 6, 3, proxy=True)
    assert len(bohb.trials) == 6 and all(1 <= t.epochs <= 3 for t in bohb.trials)
    assert fh_search.nearest(np.array([[0, 1, 2, 3, 4, 0], [1] * 6]), ["skip_connect"] * 6) == 1


def test_bohb_repeats_itself_with_the_same_seed(nb_zoo):
    """Optuna's Hyperband pruner picks a trial's bracket by a hash of the study's name; an
    unnamed study is named at random, so two builds of the chapter differed in BOHB's row."""
    first, again = (fh_search.bohb(nb_zoo, 24, 3, proxy=False, seed=1) for _ in range(2))
    assert first.trials == again.trials
    assert len({t.epochs for t in first.trials}) > 1  # some were pruned: brackets mattered


def test_the_predictor_reads_the_probe_at_the_budget(nb_zoo, tiny_zoo):
    fh = FeatureHistoryPredictor(probe="fh_k2")
    table = compare.evaluate([fh], nb_zoo, budgets=[0, 1, 3], target="test_acc", train_size=2)
    assert list(table.budget) == [1.0, 3.0] and (table.train_size == 0).all()
    one = fh.fit(nb_zoo.subset([]), 1).predict(nb_zoo.truncate(1), 1)
    assert np.allclose(one, nb_zoo.probe("fh_k2")[:, 0, 2])
    with pytest.raises(ValueError, match="unknown estimate"):
        FeatureHistoryPredictor("median")
    with pytest.raises(ValueError, match="nb201 zoo with an fh probe"):
        experiments.finished(tiny_zoo)


def test_on_demand_search_never_trains_a_cell_twice(tmp_path):
    run = fh_search.OnDemand(
        "digits", 2, proxy=True, channels=2, cells=1, cache=tmp_path, device="cpu"
    )
    cells = [nb201.OPS[:1] * 6, ("skip_connect",) * 6, nb201.OPS[:1] * 6]
    first = search.random_search(lambda n: cells[:n], run, 3, 2)
    assert run.trained == 2  # the repeated cell was replayed
    again = search.random_search(lambda n: cells[:n], run, 3, 2)
    assert run.trained == 2 and again.trials == first.trials
    stored = run.load(cells[1])
    assert stored.table.cell.item() == "|".join(cells[1])
    assert first.trials[1].value == pytest.approx(stored.probe("fh_k2")[0, -1, 2])
    result = fh_search.bohb_search(run, tuple, n_trials=3, max_resource=2)
    assert len(result.trials) == 3 and run.trained <= 5


def test_k_is_a_share_of_the_run_with_at_least_two_epochs():
    """K = max(5 % of the run, 2) epochs: the paper's 10 of 200, 2 of a 10- or 12-epoch run
    (where 5 % is under one epoch), and the zoo spec names the probe that keeps it."""
    from feature_histories.probe import fh_probe, k_epochs, probe_name

    assert [k_epochs(e) for e in (200, 12, 10, 3)] == [10, 2, 2, 2]
    assert probe_name(10) == "fh" and probe_name(2) == "fh_k2"
    assert experiments.zoo_spec("digits", "book").probes == ("fh_k2",)
    assert experiments.zoo_spec("cifar10", "paper").probes == ("fh",)
    assert fh_probe(("weight_stats", "fh_k2")) == "fh_k2"
    with pytest.raises(ValueError, match="no fh probe keeps K = 3 epochs"):
        probe_name(3)
    with pytest.raises(ValueError, match="recorded no fh probe"):
        fh_probe(("weight_stats",))


def test_the_zoo_is_on_cifar10_when_it_is_present_and_on_digits_otherwise():
    """The chapter's nb201 zoo: CIFAR-10's when the data root has it (digits cannot rank the
    cells), digits' on a fresh machine. At book scale CIFAR-10 is a fixed 6,500-image subset
    at 16×16 (every network sees the same images), at its batch, with its validation images;
    the book's datasets name it so."""
    book = "cifar10_16@6500"
    assert experiments.zoo_dataset(["digits", book]) == book
    assert experiments.zoo_dataset(["digits"]) == "digits"
    with pytest.raises(ValueError, match="no nb201 zoo is defined on any of"):
        experiments.zoo_dataset(["cifar100"])
    assert list(experiments.SCALES["book"]) == ["digits", book]
    spec = experiments.zoo_spec(book, "book")
    assert spec.family_options == {"channels": 16, "cells": 3}  # the whole subset: no fraction
    assert (spec.batch_size, spec.val_size, spec.probes) == (64, 2000, ("fh_k2",))
    with pytest.raises(ValueError, match="no 'book' settings for 'cifar10'"):
        experiments.zoo_spec("cifar10", "book")


def test_reach_epochs_over_a_zoo_equal_reach_on_each_network(nb_zoo):
    """The zoo-wide reach epochs equal the live runs' `reach` applied to each network's
    recorded probe, one network at a time."""
    from feature_histories.proxy import KINDS

    z = experiments.finished(nb_zoo)
    table = experiments.reach_epochs(nb_zoo)
    assert len(table) > 0
    for _, row in table.iterrows():
        i = int(np.flatnonzero(z.table["idx"] == row["idx"])[0])
        one = pd.DataFrame(z.probe("fh_k2")[i], columns=list(KINDS))
        one.insert(0, "epoch", z.eval_epochs)
        expected = experiments.reach(one)
        np.testing.assert_equal(
            [row["original"], row["ensemble"]], [expected["original"], expected["ensemble"]]
        )
        never = np.isnan(row["ensemble"])
        assert row["speed-up"] == row["original"] / (
            z.eval_epochs[-1] if never else row["ensemble"]
        )


def test_the_estimates_are_scored_against_a_given_truth_one_network_at_a_time(nb_zoo):
    """Figs. 7-8 against the paper's truth (a mean of other trainings, by network idx): the
    networks the truth holds are scored, each estimate against its own network's truth; with
    no truth, against the zoo's own test accuracy."""
    from scipy import stats

    from feature_histories.proxy import KINDS

    z = experiments.finished(nb_zoo)
    own = pd.Series(z.target("test_acc"), index=z.table["idx"].to_numpy())
    pd.testing.assert_frame_equal(experiments.over_epochs(z, own), experiments.over_epochs(z))
    # a truth of some networks, listed in another order, one of them NaN (a diverged run)
    chosen = z.table["idx"].to_numpy()[[4, 0, 2, 5, 1]]
    truth = pd.Series(np.linspace(0.3, 0.7, 5), index=chosen)
    truth.iloc[2] = np.nan
    table = experiments.over_epochs(z, truth).set_index(["epoch", "estimate"])
    scored = truth.dropna()
    rows = [int(np.flatnonzero(z.table["idx"] == i)[0]) for i in scored.index]
    fh = z.probe("fh_k2")
    for e, epoch in enumerate(z.eval_epochs):
        for k, kind in enumerate(KINDS):
            est = fh[rows, e, k]
            row = table.loc[(epoch, kind)]
            assert row["absolute error"] == pytest.approx(np.mean(np.abs(est - scored.values)))
            expected = stats.kendalltau(scored.values, est).statistic
            assert row["Kendall tau"] == pytest.approx(expected, nan_ok=True)
    fig6 = experiments.budgets(z, (1.0,), truth=truth)
    last = table.xs(z.eval_epochs[-1], level="epoch")["Kendall tau"]
    assert np.allclose(fig6.set_index("estimate")["Kendall tau"], last.loc[fig6.estimate])
    with pytest.raises(ValueError, match="networks the zoo lacks"):
        experiments.over_epochs(z, pd.Series([0.5], index=[10_000]))
