"""A zoo's health report and noise ceiling: does the zoo measure the papers' question?

A zoo whose networks never leave chance measures which networks start learning within a
few hundred steps, not how well they end up. `health` summarises a zoo: the final
validation accuracies (quantiles, the share within two points of chance, the share
diverged), the distance from the median to the best network, and the optimiser steps each
network took. `noise_ceiling` trains some of the zoo's networks a second time from other
seeds (the same architectures, hyperparameters and data split: a *replicate*,
``ZooSpec.replicate``) and measures Kendall's τ and R² between the two trainings' final
validation accuracies. No predictor can rank the networks better than their own re-training
does, so every chapter shows its τ beside this ceiling.

Where a paper's truth is the mean of several trainings (Cao et al.: of three, Sec. 4.2.1),
`truth` averages that many replicates, none of them the training a predictor reads, and
the ceiling (`report` with ``trainings``) is between two such means.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from common import metrics, zoo
from common.zoospec import is_whole

CHANCE_MARGIN = 0.02  # "at chance": final validation accuracy within 2 points of chance
CEILING_NETWORKS = 40  # networks re-trained for the noise ceiling
# the ceiling τ's 95 % interval: a percentile bootstrap over the networks (scipy's), seeded
# so that a chapter shows the same interval on every build; none from fewer networks than this
INTERVAL_NETWORKS = 10
INTERVAL_RESAMPLES = 2000


def chance_level(val_y) -> float:
    """Accuracy of always answering the validation split's most frequent class."""
    counts = np.bincount(np.asarray(val_y, dtype=np.int64))
    return float(counts.max() / counts.sum())


def optimiser_steps(table, n_train: int) -> np.ndarray:
    """Optimiser steps each network of a zoo table takes (as `common.train.Run` counts
    them: ceil(training images / batch) steps per epoch, times the epochs, rounded)."""
    images = np.maximum(1, np.round(table["train_fraction"].to_numpy(float) * n_train))
    per_epoch = np.ceil(images / table["batch_size"].to_numpy(float))
    return np.round(table["epochs"].to_numpy(float) * per_epoch).astype(int)


def health(z: zoo.Zoo, splits=None, root=None) -> dict:
    """The health report of zoo `z`.

    Args:
        z: a fully visible zoo.
        splits: its data (`common.data.Splits`), for the chance level and the training-set
            size; default: loaded as the zoo's builder loaded it.
        root: data root used when `splits` is not given.

    Returns:
        A dict: ``networks``, ``val_images`` and ``test_images`` (the sizes of the
        validation and test splits the accuracies are measured on), ``diverged``
        (share), ``chance``, ``at_chance`` (share of all
        networks that finished within `CHANCE_MARGIN` of chance), ``q10`` ... ``q90`` and
        ``best`` of the final validation accuracy of finished networks,
        ``median_to_best`` (best minus median), and ``steps_min`` / ``steps_median`` /
        ``steps_max`` (optimiser steps per network).
    """
    if z.budget is not None and z.budget < z.spec.epochs:
        raise ValueError(f"health needs the whole zoo, not one truncated at {z.budget} epochs")
    if len(z) == 0:
        raise ValueError("the zoo holds no networks yet; build it first")
    if splits is None:
        spec = z.spec
        splits = zoo._load_splits(spec.dataset, root, spec.val_size, spec.seed, spec.scaling)
    chance = chance_level(splits.val_y)
    acc = z.target("final_val_acc")
    ok = np.isfinite(acc)
    steps = optimiser_steps(z.table, len(splits.train_y))
    report = {
        "networks": len(z),
        "val_images": len(splits.val_y),
        "test_images": len(splits.test_y),
        "diverged": float(np.mean(~ok)),
        "chance": chance,
        "at_chance": float(np.mean(ok & (acc <= chance + CHANCE_MARGIN))),
    }
    finished = acc[ok]
    for q in (10, 25, 50, 75, 90):
        report[f"q{q}"] = float(np.quantile(finished, q / 100)) if ok.any() else math.nan
    report["best"] = float(finished.max()) if ok.any() else math.nan
    report["median_to_best"] = report["best"] - report["q50"]
    report |= {
        "steps_min": int(steps.min()),
        "steps_median": int(np.median(steps)),
        "steps_max": int(steps.max()),
    }
    return report


def ceiling(first, second, images: int | None = None) -> dict:
    """Kendall's τ, R² and the top-20 % overlap between two trainings' final accuracies of
    the same networks (the second as a prediction of the first), over the networks finished
    in both; and where the disagreement comes from.

    ``ceiling_tau_lo`` and ``ceiling_tau_hi`` bound the τ's 95 % interval over the sample of
    networks (a paired percentile bootstrap, `scipy.stats.bootstrap`; NaN from fewer than
    `INTERVAL_NETWORKS`): forty re-trained networks measure a ceiling to about ±0.1, which
    says whether a ceiling "under 0.8" is under it or only estimated so.

    ``run_sd`` is one training's standard deviation around the network's own mean
    (sqrt(var(first − second) / 2)). With `images`, the size of the split (validation or
    test) both were measured on, ``sampling_share`` bounds the part of that run-to-run
    variance a finite split can explain: the binomial variance p(1 − p) / `images` of a
    measured accuracy, averaged over the networks, over the run-to-run variance (at most 1).
    It is an upper bound (the two trainings share their images and many of their errors),
    so a small share says that a larger split cannot lift the ceiling: the networks' own
    seed-to-seed variance sets it.
    """
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"the two trainings cover different networks: {a.shape} vs {b.shape}")
    both = np.isfinite(a) & np.isfinite(b)
    if both.sum() < 3:
        raise ValueError(f"need at least 3 networks finished in both trainings, got {both.sum()}")
    a, b = a[both], b[both]
    run_var = float(np.var(a - b, ddof=1) / 2)
    out = {
        "ceiling_tau": metrics.kendall_tau(a, b),
        **dict(zip(("ceiling_tau_lo", "ceiling_tau_hi"), tau_interval(a, b), strict=True)),
        "ceiling_r2": metrics.r2(a, b),
        # PEng4NN's Table IV metric: the best 20 % of one training among the other's
        "ceiling_top20": metrics.top_overlap(a, b, 0.2),
        "ceiling_networks": int(both.sum()),
        "run_sd": math.sqrt(run_var),
    }
    if images is not None:
        if not (is_whole(images) and images >= 1):
            raise ValueError(f"images={images!r}: expected a whole number of images")
        p = (a + b) / 2
        sampling = float(np.mean(p * (1 - p)) / images)
        out["sampling_share"] = min(1.0, sampling / run_var) if run_var > 0 else 1.0
    return out


def tau_interval(first, second, confidence: float = 0.95) -> tuple[float, float]:
    """The `confidence` interval of Kendall's τ between `first` and `second` (paired by
    network): a percentile bootstrap over `INTERVAL_RESAMPLES` resamples of the networks
    (scipy's, seeded). A resample whose accuracies are all equal in one training (networks
    tied at chance, drawn alone) has no τ and is left out; (NaN, NaN) when more than 5 % of
    the resamples are, or for fewer than `INTERVAL_NETWORKS` networks."""
    import warnings

    from scipy import stats

    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if len(a) < INTERVAL_NETWORKS:
        return math.nan, math.nan
    with warnings.catch_warnings():  # scipy's interval is NaN then: the undefined τ is dropped
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        taus = stats.bootstrap(
            (a, b),
            metrics.kendall_tau,
            paired=True,
            vectorized=False,
            n_resamples=INTERVAL_RESAMPLES,
            method="percentile",
            random_state=0,
        ).bootstrap_distribution
    defined = taus[np.isfinite(taus)]
    if len(defined) < 0.95 * len(taus):
        return math.nan, math.nan
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(defined, [tail, 100 - tail])
    return float(low), float(high)


# the accuracies a ceiling can be measured on, each with `health`'s size of its split: the
# final validation accuracy (most chapters), the best one over the run (PEng4NN's ground
# truth, Sec. IV-C) and the test accuracy (Cao's and Unterthiner's)
CEILING_TARGETS = {
    "final_val_acc": "val_images",
    "max_val_acc": "val_images",
    "test_acc": "test_images",
}


def _check_target(target: str) -> None:
    if target not in CEILING_TARGETS:
        raise ValueError(f"target={target!r}: expected one of {tuple(CEILING_TARGETS)}")


def ceiling_of(z: zoo.Zoo, twin, images: int | None = None, target: str = "final_val_acc") -> dict:
    """`ceiling` of zoo `z` and its replicate `twin` (the first ``len(twin)`` networks) on
    `target` (`CEILING_TARGETS`): the final validation accuracy, ``max_val_acc`` for a
    chapter whose truth is the best validation accuracy of the run (PEng4NN's), or
    ``test_acc`` for one whose truth is the test accuracy (Cao's and Unterthiner's);
    `images` (`health`'s ``val_images`` or ``test_images``) adds that split's share of the
    noise.

    `twin` may also be a sequence of 2k − 1 replicates (`replicate_specs`) for a truth that
    is the mean of k trainings (Cao et al., Sec. 4.2.1: of three): the ceiling is then
    between the mean of the zoo's own training and the first k − 1 replicates and the mean
    of the other k, and ``run_sd`` is the standard deviation of such a mean. Its
    ``sampling_share`` takes the k trainings' split errors as independent (the split's
    variance over k, so the share of a single training's bound)."""
    _check_target(target)
    twins = [twin] if isinstance(twin, zoo.Zoo) else list(twin)
    if len(twins) % 2 != 1:
        raise ValueError(
            f"{len(twins)} replicates: a ceiling between two means of k trainings needs "
            "2k - 1 of them (the zoo's own training is the first)"
        )
    k, m = (len(twins) + 1) // 2, len(twins[0])
    for t in twins:
        if z.table["idx"].iloc[:m].tolist() != t.table["idx"].tolist():
            raise ValueError(f"the zoo lacks some of the {len(t)} networks its replicate holds")
    runs = [z.target(target)[:m]] + [t.target(target) for t in twins]
    first, second = np.mean(runs[:k], axis=0), np.mean(runs[k:], axis=0)
    return ceiling(first, second, None if images is None else images * k)


def replicate_path(path: str | os.PathLike, spec: zoo.ZooSpec) -> Path:
    """Where the replicate `spec` of the zoo at `path` is kept: beside it, under the name
    `common.zoo.cache_path` gives it, so a zoo in the cache or in ``zoos/`` and its
    replicate are found the same way by `noise_ceiling` and `report`."""
    return zoo.cache_path(spec, Path(path).parent)


def noise_ceiling(
    path: str | os.PathLike,
    n: int = CEILING_NETWORKS,
    *,
    replicate: int = 1,
    executor=None,
    device: str = "auto",
    root=None,
    progress: bool = True,
    images: int | None = None,
) -> dict:
    """The noise ceiling of the zoo at `path`: its first `n` networks trained again from
    other seeds (built, or resumed, beside the zoo), compared with the zoo's own training.

    Returns the dict of `ceiling` (`images`: see there). Raises ValueError if the zoo
    holds fewer than `n` networks (build it first)."""
    z = zoo.load(path)
    spec = replicate_spec(z.spec, n, replicate)
    if len(z) < n or z.table["idx"].iloc[n - 1] != n - 1:
        raise ValueError(f"the zoo at {path} lacks some of its first {n} networks; build it first")
    twin = replicate_path(path, spec)
    if not twin.exists() or len(zoo.load(twin)) < spec.n_networks:  # a complete one is only read
        zoo.build(spec, twin, executor, progress=progress, root=root, device=device)
    return ceiling_of(z, zoo.load(twin), images)


def replicate_spec(spec: zoo.ZooSpec, n: int | None = None, replicate: int = 1):
    """The spec of the first `n` networks (None: `CEILING_NETWORKS`) of `spec` trained again
    from other seeds."""
    n = CEILING_NETWORKS if n is None else n
    if not (is_whole(n) and n >= 3):
        raise ValueError(f"n={n!r}: the ceiling needs a whole number of at least 3 networks")
    if spec.replicate:
        raise ValueError("a replicate zoo has no replicate of its own; pass the zoo's spec")
    return replace(spec, n_networks=min(n, spec.n_networks), replicate=replicate)


def replicate_specs(spec: zoo.ZooSpec, n: int | None = None, trainings: int = 1) -> list:
    """The replicates (1 … 2·`trainings` − 1 of `replicate_spec`) whose first `n` networks
    the ceiling of a truth averaged over `trainings` trainings needs: two disjoint sets of
    `trainings` trainings, the zoo's own training one of the first set."""
    if not (is_whole(trainings) and trainings >= 1):
        raise ValueError(f"trainings={trainings!r}: expected a whole number of at least 1")
    return [replicate_spec(spec, n, r) for r in range(1, 2 * trainings)]


def truth_specs(spec: zoo.ZooSpec, n: int | None = None, trainings: int = 3) -> list:
    """The replicates (1 … `trainings` of `replicate_spec`) whose first `n` networks `truth`
    averages: the first set of `replicate_specs`, so the truth's trainings are among its
    ceiling's."""
    return replicate_specs(spec, n, trainings)[:trainings]


def truth(
    z: zoo.Zoo,
    cache=None,
    n: int | None = None,
    device: str = "auto",
    target: str = "test_acc",
    trainings: int = 3,
):
    """The true performance of the zoo's first `n` networks (None: `CEILING_NETWORKS`) as
    Cao et al. define it, "the average top-1 test accuracy of three independent runs"
    (Sec. 4.2.1): the mean of `target` over replicates 1 … `trainings`, trainings
    independent of the zoo's own, whose estimates are scored against it. The replicates are
    those `report`'s ceiling of the same `trainings` uses (shipped, cached or trained now,
    through `common.zoo.build_cached`). A `pandas.Series` indexed by the networks' ``idx``
    (NaN where one of the trainings diverged)."""
    import pandas as pd

    _check_target(target)  # before the replicates are trained
    specs = truth_specs(z.spec, n, trainings)
    twins = [zoo.build_cached(s, cache, device, progress=False) for s in specs]
    index = twins[0].table["idx"].to_numpy()
    if any(t.table["idx"].tolist() != index.tolist() for t in twins):
        raise ValueError("the replicates hold different networks; rebuild them")
    mean = np.mean([t.target(target) for t in twins], axis=0)
    return pd.Series(mean, index=pd.Index(index, name="idx"), name=f"mean {target}")


def report(
    z: zoo.Zoo,
    cache=None,
    n: int | None = None,
    device: str = "auto",
    target: str = "final_val_acc",
    trainings: int = 1,
) -> dict:
    """`health` of zoo `z` plus its noise ceiling on `target` (`ceiling_of`) from its first
    `n` networks (None: `CEILING_NETWORKS`), the replicates built through
    `common.zoo.build_cached` (shipped, cached, or trained now): the notebooks' entry.
    With `trainings` k > 1 the ceiling is that of a truth averaged over k trainings (`truth`):
    between two means of k (2k − 1 replicates), and ``truth_trainings`` says so."""
    _check_target(target)  # before the replicates are trained
    specs = replicate_specs(z.spec, n, trainings)
    twins = [zoo.build_cached(s, cache, device, progress=False) for s in specs]
    report = health(z)
    report |= ceiling_of(z, twins, report[CEILING_TARGETS[target]], target)
    return report | ({"truth_trainings": trainings} if trainings > 1 else {})


def table(
    zoos: dict,
    cache=None,
    n: int | None = None,
    device: str = "auto",
    target="final_val_acc",
    trainings: int = 1,
):
    """One row per zoo (`report`), for a chapter's "the zoos" section: the figures that say
    whether its networks learn, and the noise ceiling every τ of the chapter sits under
    (from each zoo's first `n` networks; None: `CEILING_NETWORKS`, the chapters'
    ``ceiling_networks`` parameter), on `target`: the accuracy the chapter's τ are against,
    a single training's or (`trainings` > 1) the mean of that many."""
    import pandas as pd

    rows = {name: report(z, cache, n, device, target, trainings) for name, z in zoos.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("zoo")


# the figures a chapter's closing "what held" section repeats for each zoo
SUMMARY = [
    "networks",
    "at_chance",
    "q50",
    "ceiling_tau",
    "ceiling_tau_lo",
    "ceiling_tau_hi",
    "ceiling_r2",
]

COUNTS = (
    "networks",
    "val_images",
    "test_images",
    "steps_min",
    "steps_median",
    "steps_max",
    "ceiling_networks",
    "truth_trainings",
)


def shown(table):
    """`table` as a chapter shows it: a column per zoo and a row per figure (a row per zoo
    with 18 columns was twice as wide as the page), counts as integers, the rest to three
    decimals, a missing figure blank."""
    import pandas as pd

    def cell(name, value):
        if pd.isna(value):
            return ""
        return f"{int(value):d}" if name in COUNTS else f"{float(value):.3f}"

    figures = {col: [cell(col, v) for v in table[col]] for col in table.columns}
    return pd.DataFrame(figures, index=table.index).T.rename_axis("figure")
