"""A NAS-Bench-201-style cell space (Cao et al., Sec. 4.2.1; Dong & Yang, 2020), zoo family
``nb201``.

A cell is a DAG of 4 nodes; each of its 6 edges i → j (i < j) applies one of ``none``,
``skip_connect``, ``nor_conv_1x1``, ``nor_conv_3x3`` (ReLU → conv without bias → batch norm)
or ``avg_pool_3x3``, and node j is the sum of its incoming edges; the cell's output is node 3.
The network: a 3×3 convolution stem with batch norm, three stages of `cells` cells of width
C, 2C, 4C joined by residual down-sampling blocks (ReLU-conv-BN 3×3 stride 2, ReLU-conv-BN
3×3, plus a shortcut of 2×2 average pooling and a 1×1 convolution), then batch norm, ReLU,
global average pooling and a linear classifier. Cells and residual blocks are the layer types
``nb201_cell`` and ``nb201_reduce`` of `common.archs`, so networks of this family are plain
`Architecture` objects and the zoo, the trainer and the probes treat them like any other.

Trained with a linear learning-rate schedule to zero over the maximal budget (Appendix
A.3.2), so a run stopped early is the prefix of a longer one: SGD, momentum 0.9, Nesterov,
weight decay 5e-4, lr 0.1, batch 256 (NAS-Bench-201's recipe, with its cosine schedule
replaced by the linear one the paper uses for budgeted runs).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from torch import nn

from common import archs, zoo
from common.train import Recipe

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES = tuple((i, j) for j in range(1, 4) for i in range(j))  # (0,1) (0,2) (1,2) (0,3) ...


def _relu_conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Module:
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
    )


class Zero(nn.Module):
    """NAS-Bench-201's ``none`` operation: zeros of the input's shape."""

    def forward(self, x):
        """Zeros shaped like `x`."""
        return x.mul(0.0)


def _op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    return _relu_conv_bn(channels, channels, 1 if name == "nor_conv_1x1" else 3)


class Cell(nn.Module):
    """A NAS-Bench-201 cell: four nodes, each the sum of its incoming edges' operations."""

    def __init__(self, ops, channels: int):
        super().__init__()
        self.edges = nn.ModuleList(_op(op, channels) for op in ops)

    def forward(self, x):
        """The cell's last node."""
        nodes = [x]
        for j in range(1, 4):
            nodes.append(sum(self.edges[EDGES.index((i, j))](nodes[i]) for i in range(j)))
        return nodes[3]


class Reduce(nn.Module):
    """NAS-Bench-201's residual reduction block (stride 2, channels c_in -> c_out)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.a = _relu_conv_bn(c_in, c_out, 3, 2)
        self.b = _relu_conv_bn(c_out, c_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x):
        """The residual block's output."""
        return self.shortcut(x) + self.b(self.a(x))


def _check_ops(ops, where: str) -> tuple[str, ...]:
    ops = tuple(ops)
    if len(ops) != len(EDGES) or any(op not in OPS for op in ops):
        raise ValueError(f"{where}: ops must be {len(EDGES)} names from {OPS}, got {ops!r}")
    return ops


def make_cell(layer: dict, shape: tuple, where: str):
    """`common.archs` layer ``nb201_cell`` (keeps the shape)."""
    ops = _check_ops(layer.get("ops", ()), where)
    if len(shape) != 3:
        raise ValueError(f"{where}: a cell needs a [C, H, W] input, got {shape}")
    c = shape[0]
    convs = {"nor_conv_1x1": c * c + 2 * c, "nor_conv_3x3": 9 * c * c + 2 * c}
    return (lambda: Cell(ops, c)), shape, sum(convs.get(op, 0) for op in ops)


def make_reduce(layer: dict, shape: tuple, where: str):
    """`common.archs` layer ``nb201_reduce`` (residual block, stride 2, to out_channels)."""
    c_in, c_out = shape[0], int(layer["out_channels"])
    if len(shape) != 3 or min(shape[1:]) < 2 or shape[1] % 2 or shape[2] % 2:
        raise ValueError(f"{where}: the residual block halves an even [C, H, W], got {shape}")
    out = (c_out, shape[1] // 2, shape[2] // 2)
    n_params = 9 * c_in * c_out + 2 * c_out + 9 * c_out * c_out + 2 * c_out + c_in * c_out
    return (lambda: Reduce(c_in, c_out)), out, n_params


archs.register_layer("nb201_cell", make_cell)
archs.register_layer("nb201_reduce", make_reduce)


def architecture(ops, input_shape, num_classes: int, channels: int = 16, cells: int = 5):
    """The NAS-Bench-201 skeleton around one cell (`cells` per stage; the benchmark: 5)."""
    ops = _check_ops(ops, "nb201 cell")
    layers = [
        {"type": "conv", "kernel": 3, "padding": 1, "out_channels": channels, "bias": False},
        {"type": "batchnorm"},
    ]
    for stage in range(3):
        if stage:
            layers.append({"type": "nb201_reduce", "out_channels": channels * 2**stage})
        layers += [{"type": "nb201_cell", "ops": list(ops)} for _ in range(cells)]
    layers += [
        {"type": "batchnorm"},
        {"type": "relu"},
        {"type": "global_avg_pool"},
        {"type": "linear", "out_features": num_classes},
    ]
    return archs.Architecture(tuple(input_shape), num_classes, layers)


def all_cells() -> list[tuple[str, ...]]:
    """The 5⁶ = 15,625 cells of the space."""
    return list(itertools.product(OPS, repeat=len(EDGES)))


def recipe(epochs: float = 200.0) -> Recipe:
    """Linear schedule to zero at `epochs` (the maximal budget)."""
    return Recipe(
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        schedule="linear",
        batch_size=256,
        epochs=epochs,
    )


def sample(
    rng: np.random.Generator,
    *,
    input_shape,
    num_classes: int,
    channels: int = 16,
    cells: int = 5,
    cell: str | None = None,
    train_fraction: float = 1.0,
):
    """One network of the family: a uniformly drawn cell, or the given `cell` ("op|op|...",
    a search's on-demand request); extra {"cell": "op|op|..."}. `train_fraction` < 1 trains
    on a seeded fraction of the training split (small scales on a real dataset)."""
    ops = tuple(OPS[i] for i in rng.integers(len(OPS), size=len(EDGES)))
    if cell is not None:
        ops = _check_ops(cell.split("|"), "nb201 cell option")
    arch = architecture(ops, input_shape, num_classes, channels, cells)
    return arch, replace(recipe(), train_fraction=train_fraction), {"cell": "|".join(ops)}


def cell_of(arch: archs.Architecture) -> tuple[str, ...]:
    """The cell of an ``nb201`` architecture."""
    for layer in arch.layers:
        if layer["type"] == "nb201_cell":
            return tuple(layer["ops"])
    raise ValueError("not an nb201 architecture: no nb201_cell layer")


zoo.register_family("nb201", sample)
