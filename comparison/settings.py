"""The cross-comparison's scales, zoos and budgets (issue 15: settings as data)."""

from __future__ import annotations

from dataclasses import dataclass

from common import scales
from common.zoo import ZooSpec
from common.zoospec import is_whole


@dataclass(frozen=True, kw_only=True)
class Scale:
    """Zoos and protocol of the cross-comparison at one scale. Field names follow the
    chapters' parameter cells (`dataset`, `epochs`, `train_sizes`, `seeds`, ...)."""

    dataset: str
    n_architectures: int  # networks of the architecture zoo (Peephole's blocks, one recipe)
    n_hyperparameters: int  # networks of the hyperparameter zoo (Unterthiner's Small CNN)
    epochs: float
    train_sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    base_width: int  # blocks family width
    max_params: int | None  # blocks family weight cap
    orderings: int = 10  # random orderings of the simulated searches
    n_search: int = 10  # random-search configurations of the learned predictors
    predictor_epochs: int = 60  # training epochs of neural predictors (Peephole)
    # the blocks recipe's lr and optimiser, and each zoo's minibatch (None: the family's)
    blocks_lr: float = 0.1
    blocks_optimizer: str = "sgd"
    blocks_batch: int | None = None
    smallcnn_batch: int | None = None
    blocks_copies: int = 2  # block copies per stage


# Book scale, calibrated (issue 14; the reasoning is in peephole.experiments and
# weights_to_acc.experiments): the blocks zoo is the Peephole chapter's own (the same spec,
# one build serves both), 15 epochs at batch 16 with Adam; the Small CNNs at batch 8.
SCALES = {
    "smoke": Scale(
        dataset="digits",
        n_architectures=20,
        n_hyperparameters=20,
        epochs=2.0,
        train_sizes=(8,),
        seeds=(0,),
        base_width=4,
        max_params=4_000,
        orderings=2,
        n_search=2,
        predictor_epochs=5,
    ),
    "book": Scale(
        dataset="digits",
        n_architectures=160,
        n_hyperparameters=240,
        epochs=15.0,
        train_sizes=(25, 50, 100),
        seeds=(0, 1, 2),
        base_width=16,
        max_params=150_000,
        blocks_lr=1e-3,
        blocks_optimizer="adam",
        blocks_batch=16,
        smallcnn_batch=8,
        blocks_copies=1,
    ),
    "paper": Scale(
        dataset="cifar10",
        n_architectures=1000,
        n_hyperparameters=1000,
        epochs=200.0,
        train_sizes=(50, 100, 200),
        seeds=tuple(range(5)),
        base_width=16,
        max_params=None,
        n_search=100,
        predictor_epochs=300,
    ),
}
PROBES = ("weight_stats", "fh")  # W̃_L for the weights GBM, Cao's estimate


def scale_of(
    scale: str, n_networks: int | None = None, epochs: float | None = None, **fields
) -> Scale:
    """The settings of `scale`; ValueError naming the known scales. `n_networks` (both
    zoos) and `epochs` override the scale's when given (the chapter's parameters), and so
    does any other `Scale` field given by keyword (the chapter's ``settings``; lists become
    tuples), checked by `common.scales.override`."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(SCALES)}")
    s = SCALES[scale]
    if n_networks is not None and not (is_whole(n_networks) and n_networks > 0):
        raise ValueError(f"n_networks={n_networks!r}: expected an integer > 0")
    n = {"n_architectures": n_networks, "n_hyperparameters": n_networks}
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    return scales.override(s, **n, epochs=None if epochs is None else float(epochs), **fields)


def zoo_specs(scale: str | Scale, seed: int = 0, dataset: str | None = None) -> dict[str, ZooSpec]:
    """The two zoos of the chapter, with the validation curve every half epoch and the probes
    every method needs: architectures vary (``blocks``) or hyperparameters do (``smallcnn``).
    `scale` is a name of `SCALES` or a `Scale`; `dataset` replaces the scale's own (digits at
    book scale, CIFAR-10 at paper scale)."""
    s = scale_of(scale) if isinstance(scale, str) else scale
    dataset = dataset or s.dataset
    common = {"seed": seed, "epochs": s.epochs, "eval_every": 0.5, "probes": PROBES}
    options = {"base_width": s.base_width, "max_params": s.max_params}
    if (s.blocks_lr, s.blocks_optimizer) != (0.1, "sgd"):
        options |= {"lr": s.blocks_lr, "optimizer": s.blocks_optimizer}
    options |= {"copies": s.blocks_copies} if s.blocks_copies != 2 else {}
    return {
        "architectures": ZooSpec(
            "blocks",
            dataset,
            s.n_architectures,
            family_options=options,
            batch_size=s.blocks_batch,
            **common,
        ),
        "hyperparameters": ZooSpec(
            "smallcnn",
            dataset,
            s.n_hyperparameters,
            scaling="symmetric",
            batch_size=s.smallcnn_batch,
            **common,
        ),
    }


def budgets(epochs: float) -> list[float]:
    """0, 1 and 2 epochs and 10 / 25 / 50 % of the full training (within it)."""
    points = {0.0, 1.0, 2.0, 0.1 * epochs, 0.25 * epochs, 0.5 * epochs}
    return sorted(b for b in points if b <= epochs)
