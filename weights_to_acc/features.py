"""Input features of the accuracy predictors (Unterthiner et al., Sec. 4.2 and 4.4). Pure
functions of flat weight vectors (rows of an [n, 4,970] matrix, in the order of the
network's parameters: conv1 kernel, conv1 bias, ..., dense kernel, dense bias) and of the
zoo table's hyperparameter columns.

- ``W1``..``W4``: one layer's weights (kernel and bias) flattened; ``W``: all weights;
- ``Wstat`` (W̃): mean, variance and the 0/25/50/75/100 % quantiles of all weights (7);
- ``WL`` (W̃_L): the same per layer, kernels and biases separately (4 × 2 × 7 = 56), in the
  order of `common.probes.layer_statistics`, so the ``weight_stats`` probe is W̃_L;
- ``l1`` and ``l2`` (W_L^ℓ1, W_L^ℓ2): the norm of every kernel and bias (8 each);
- ``WL4`` (W̃_L⁴, 14) and ``WL14`` (W̃_L^{1,4}, 28): the statistics of the dense layer, and of
  the first convolution and the dense layer;
- ``hp`` (λ): the 8 sampled hyperparameters of Appendix A.2 as 15 numbers (log learning
  rate, log L2, dropout, log initialiser variance, training fraction, and one-hot optimiser
  (3), initialiser (5) and activation (2));
  ``lr`` the learning rate alone; ``hp+W``: (λ, W).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from common.probes import QUANTILES
from weights_to_acc.family import ACTIVATIONS, FILTERS, INITS, N_CONV, OPTIMIZERS

FEATURE_SETS = (
    "W1",
    "W2",
    "W3",
    "W4",
    "W",
    "l1",
    "l2",
    "Wstat",
    "WL",
    "hp",
    "lr",
    "hp+W",
    "WL4",
    "WL14",
)  # Table 2's rows, in its order
HIGH_DIMENSIONAL = ("W", "W2", "W3", "hp+W")  # Appendix A.4's column subsampling differs


def layout(in_channels: int = 1, num_classes: int = 10, filters: int = FILTERS):
    """[(layer, "kernel" | "bias", size)] of a Small CNN's flat weight vector."""
    parts, channels = [], in_channels
    for layer in range(1, N_CONV + 1):
        parts += [(layer, "kernel", 9 * channels * filters), (layer, "bias", filters)]
        channels = filters
    return parts + [
        (N_CONV + 1, "kernel", filters * num_classes),
        (N_CONV + 1, "bias", num_classes),
    ]


def split(weights, parts=None) -> list[np.ndarray]:
    """The [n, size] block of every part of `layout`; ValueError on a wrong length."""
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    parts = parts or layout()
    expected = sum(size for _, _, size in parts)
    if w.ndim != 2 or w.shape[1] != expected:
        raise ValueError(
            f"weight vectors of length {w.shape[-1]}: a Small CNN with this "
            f"layout has {expected} weights"
        )
    edges = np.cumsum([0] + [size for _, _, size in parts])
    return [w[:, a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def statistics(block: np.ndarray) -> np.ndarray:
    """[n, 7]: mean, population variance, quantiles 0/25/50/75/100 of each row."""
    q = np.quantile(block, QUANTILES, axis=1).T
    return np.column_stack([block.mean(1), block.var(1), q])


def layer_weights(weights, layer: int, parts=None) -> np.ndarray:
    """W^layer: the layer's kernel and bias, [n, size]."""
    parts = parts or layout()
    blocks = split(weights, parts)
    chosen = [b for (lay, _, _), b in zip(parts, blocks, strict=True) if lay == layer]
    if not chosen:
        raise ValueError(f"layer {layer}: the Small CNN has layers 1..{N_CONV + 1}")
    return np.hstack(chosen)


def layer_statistics(weights, layers=None, parts=None) -> np.ndarray:
    """W̃_L for `layers` (default all): kernel then bias statistics per layer, [n, 14 each]."""
    parts = parts or layout()
    blocks = split(weights, parts)
    keep = [
        statistics(b)
        for (lay, _, _), b in zip(parts, blocks, strict=True)
        if layers is None or lay in layers
    ]
    return np.hstack(keep)


def norms(weights, order: int, parts=None) -> np.ndarray:
    """The ℓ1 (`order` 1) or ℓ2 norm of every kernel and bias, in layer order: [n, 8]."""
    return np.column_stack([np.linalg.norm(b, ord=order, axis=1) for b in split(weights, parts)])


def hyperparameters(table: pd.DataFrame) -> np.ndarray:
    """λ as numbers: logs of lr, L2 and initialiser variance, dropout, the sampled training
    fraction, and one-hot optimiser, initialiser and activation."""
    missing = {
        "lr",
        "weight_decay",
        "init_variance",
        "fraction",
        "optimizer",
        "init",
        "dropout",
        "activation",
    } - set(table.columns)
    if missing:
        raise ValueError(f"the table lacks hyperparameter columns {sorted(missing)}")
    numeric = [
        np.log(table.lr),
        np.log(table.weight_decay),
        table.dropout,
        np.log(table.init_variance),
        table.fraction,
    ]
    onehot = [
        (table[col] == v).astype(float)
        for col, values in (("optimizer", OPTIMIZERS), ("init", INITS), ("activation", ACTIVATIONS))
        for v in values
    ]
    return np.column_stack(numeric + onehot).astype(np.float64)


def matrix(name: str, weights=None, table: pd.DataFrame | None = None, parts=None):
    """The [n, d] input of feature set `name` (see FEATURE_SETS)."""
    if name not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {name!r}; expected one of {FEATURE_SETS}")
    if name in ("hp", "lr", "hp+W") and table is None:
        raise ValueError(f"feature set {name!r} needs the zoo table")
    if name == "hp":
        return hyperparameters(table)
    if name == "lr":
        return np.log(table[["lr"]].to_numpy(dtype=np.float64))
    w = np.hstack(split(weights, parts))
    if name == "hp+W":
        return np.hstack([hyperparameters(table), w])
    if name == "W":
        return w
    if name in ("W1", "W2", "W3", "W4"):
        return layer_weights(w, int(name[1]), parts)
    if name == "Wstat":
        return statistics(w)
    if name in ("l1", "l2"):
        return norms(w, int(name[1]), parts)
    layers = {"WL": None, "WL4": (N_CONV + 1,), "WL14": (1, N_CONV + 1)}[name]
    return layer_statistics(w, layers, parts)


# --------------------------------------------------------------- invariance helpers (Table 9)


def scale(weights, c: float) -> np.ndarray:
    """c · W (ReLU networks compute the same classes for any c > 0)."""
    return np.asarray(weights, dtype=np.float64) * c


def permute(
    weights, rng: np.random.Generator, scope: str = "all", mix: bool = True, parts=None
) -> np.ndarray:
    """A random permutation of each row's entries (Appendix C).

    scope: ``global`` (the whole vector, ignoring layers), ``all`` (within every layer),
    ``final`` (within the dense layer) or ``first3`` (within each convolution);
    mix: within a layer, permute kernel and bias entries together, else each separately.
    """
    if scope not in ("global", "all", "final", "first3"):
        raise ValueError(f"scope {scope!r}: expected global, all, final or first3")
    parts = parts or layout()
    w = np.hstack(split(weights, parts)).copy()
    if scope == "global":
        return np.stack([rng.permutation(row) for row in w])
    edges = np.cumsum([0] + [size for _, _, size in parts])
    layers = {"all": range(1, N_CONV + 2), "final": [N_CONV + 1], "first3": range(1, N_CONV + 1)}[
        scope
    ]
    for layer in layers:
        spans = [(edges[i], edges[i + 1]) for i, (lay, _, _) in enumerate(parts) if lay == layer]
        groups = (
            [np.r_[tuple(slice(a, b) for a, b in spans)]]
            if mix
            else [np.arange(a, b) for a, b in spans]
        )
        for idx in groups:
            for row in w:
                row[idx] = row[rng.permutation(idx)]
    return w


def bias_range(weights, layer: int, parts=None) -> np.ndarray:
    """max − min of a layer's biases (Fig. 3), [n]."""
    parts = parts or layout()
    blocks = split(weights, parts)
    (bias,) = [
        b
        for (lay, kind, _), b in zip(parts, blocks, strict=True)
        if lay == layer and kind == "bias"
    ]
    return bias.max(1) - bias.min(1)
