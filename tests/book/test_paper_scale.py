"""The paper scale in miniature (issue 19): every chapter executed with papermill at
``scale paper`` on a small fixed subset of a real dataset (``cifar10@60``: 60 training and 60
test images) with tiny overrides, so that the paper-scale code path (its widths, recipes,
predictor settings and datasets) runs on CPU in CI and cannot rot. The real datasets come from
``NNPERF_DATA`` (CI points it at ``../shared/data``); without them the tests skip, naming it.
"""

import pytest

from common import book, data, health, zoo

CHAPTERS = book.chapters()

# chapter -> (dataset subset, overrides). Sizes are the smallest at which each chapter's
# paper-scale path runs to the end: PEng4NN and the comparison evaluate every half epoch, so
# their networks need two optimiser steps an epoch at the paper's batch sizes (300+ images);
# SRMs need curves of several epochs; Cao's speed-up needs networks whose ensemble gets there;
# the comparison takes its protocol's sizes through `settings`.
MINIATURE = {
    "peephole": ("cifar10@60", {"n_networks": 8, "epochs": 1}),
    "peng4nn": ("fashion_mnist@300", {"n_networks": 8, "epochs": 1}),
    "srm_earlystop": (
        "cifar10@60",
        # 2 random splits, not the paper's 10: Table 1's 40 fits took 33 s of 76
        {"n_networks": 8, "epochs": 4, "train_size": 4, "n_search": 3, "draws": 2},
    ),
    # the paper's truth is the mean of 3 trainings of every network (3,000 more trainings):
    # a mean of 2 over the ceiling's 3 networks runs the same code on its replicates (4
    # networks, 8 more trainings, took the chapter from 74 s to 150 s)
    "feature_histories": (
        "cifar10@60",
        {"n_networks": 16, "epochs": 3, "live_epochs": 1, "truth_trainings": 2}
        | {"truth_networks": 3},
    ),
    # the paper's logit-linear and DNN predictors train 100 epochs: 27 fits of Table 5 took
    # 56 s of the chapter's 80 on 4 training networks; 5 epochs run the same code
    "weights_to_acc": (
        "mnist@60",
        {"n_networks": 8, "epochs": 1, "n_search": 2, "net_epochs": 5},
    ),
    "compare": (
        "cifar10@120",
        {
            "n_networks": 10,
            "epochs": 1,
            # the comparison's protocol sizes, and minibatches small enough for two steps an
            # epoch on a tenth of 96 images (the Small CNNs' smallest sampled fraction)
            "settings": {
                "seeds": [0],
                "train_sizes": [8],  # the searches' GBM fits on half: 4 networks, 3 folds
                "n_search": 2,
                "predictor_epochs": 5,
                "orderings": 2,
                "blocks_batch": 16,
                "smallcnn_batch": 4,
            },
        },
    ),
}


# the fewest networks a noise ceiling takes: re-training more is the chapters' own business
# (their `ceiling_networks` parameter; 40 by default) and doubled each miniature's zoo cost
CEILING = {"ceiling_networks": 3}


def expected_specs(name: str, dataset: str, overrides: dict) -> list[zoo.ZooSpec]:
    """The zoos the chapter must have built: the paper scale's, with the overrides."""
    import importlib

    if name == "compare":
        import comparison

        n, epochs = overrides["n_networks"], overrides["epochs"]
        s = comparison.scale_of("paper", n, epochs, **overrides["settings"])
        return list(comparison.zoo_specs(s, 0, dataset).values())
    experiments = importlib.import_module(f"{name}.experiments")
    return [experiments.zoo_spec(dataset, "paper", 0, **overrides)]


@pytest.mark.parametrize("name", sorted(MINIATURE))
def test_a_chapter_runs_at_paper_scale_in_miniature(name, tmp_path, monkeypatch):
    dataset, overrides = MINIATURE[name]
    base = data.base_name(dataset)
    if not data.available(base):
        pytest.skip(f"{base} is not under NNPERF_DATA (CI sets it to ../shared/data)")
    monkeypatch.setenv("NNPERF_CACHE", str(tmp_path / "cache"))
    parameters = {"scale": "paper", "datasets": [dataset], **overrides, **CEILING}
    outcome = book.execute(name, CHAPTERS[name], tmp_path, parameters)
    assert outcome.error is None, outcome.error
    for spec in expected_specs(name, dataset, overrides):
        built = zoo.load(zoo.cache_path(spec, tmp_path / "cache" / "zoos"))
        # the zoo of the paper scale's settings (widths, caps, recipes) with the overrides
        assert built.spec == spec and len(built.finished()) == overrides["n_networks"]
        # and its noise ceiling from the networks the chapter was asked to re-train (2k - 1
        # replicates of them for a truth averaged over k trainings)
        k = overrides.get("truth_trainings", 1)
        for twin in health.replicate_specs(spec, CEILING["ceiling_networks"], trainings=k):
            assert len(zoo.load(zoo.cache_path(twin, tmp_path / "cache" / "zoos"))) == 3
        # and the truth from k replicates of the networks it covers, where that is set, and
        # no other (the paper scale's own `truth_networks` would have trained all 16 again)
        if "truth_networks" in overrides:
            n = overrides["truth_networks"]
            truth = health.truth_specs(spec, n, trainings=k)
            ceiling = health.replicate_specs(spec, CEILING["ceiling_networks"], trainings=k)
            built = {p.name for p in (tmp_path / "cache" / "zoos").glob("*.sqlite")}
            wanted = [spec, *ceiling, *truth]
            assert built == {zoo.cache_path(s, tmp_path).name for s in wanted}
            for twin in truth:
                assert len(zoo.load(zoo.cache_path(twin, tmp_path / "cache" / "zoos"))) == n
