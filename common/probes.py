"""Probes: named measurements the trainer takes at every evaluation.

A probe is a callable ``probe(model, features, labels) -> array`` called at each evaluation
with the network and the penultimate features of the validation images (and their labels).
It may also define ``on_train_batch(features, labels)``, called with the penultimate features
of every training minibatch as they come out of the training pass (Cao et al., Algorithm 1),
and ``configure(eval_every=...)``, called once before training with the epochs between
evaluations (a probe that keeps the last K *epochs* needs it: with evaluations every half
epoch, K epochs are 2K evaluations).
Probes are registered by name with a factory, so that a zoo spec lists names and every
network gets fresh probe instances; packages add their own (e.g. ``fh``) with
`register_probe` or an entry point in the ``nnperf.probes`` group (found by worker processes
without any import by hand).

Shipped here: ``weight_stats``, the per-layer weight statistics W̃_L of Unterthiner et al.
(Sec. 4.2, input feature (3)): for every convolution and linear layer, kernels and biases
separately, the mean, the variance and the 0/25/50/75/100 % quantiles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch
from torch import nn

from common.plugins import lookup

QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)  # Unterthiner Sec. 4.2: q in {0, 25, 50, 75, 100}
STATS_PER_TENSOR = 2 + len(QUANTILES)  # mean, variance, quantiles


class Probe(Protocol):
    """A probe: called at each evaluation, returns a small array for the zoo."""

    def __call__(self, model: nn.Module, features: torch.Tensor, labels: torch.Tensor):
        """The probe's output for `model`, given the epoch's validation features and labels."""


PROBES: dict[str, Callable[[], Probe]] = {}


def register_probe(name: str, factory: Callable[[], Probe]) -> None:
    """Register a probe factory under `name` (called once per trained network)."""
    PROBES[name] = factory


def make_probe(name: str) -> Probe:
    """A fresh probe: registered here, else from the ``nnperf.probes`` entry point group."""
    return lookup(PROBES, "nnperf.probes", name, "probe")()


def tensor_statistics(values: torch.Tensor) -> torch.Tensor:
    """[mean, variance, q0, q25, q50, q75, q100] of all entries (population variance)."""
    flat = values.detach().flatten().double()
    quantiles = torch.quantile(flat, torch.tensor(QUANTILES, dtype=flat.dtype, device=flat.device))
    return torch.cat([flat.mean()[None], flat.var(unbiased=False)[None], quantiles])


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """Convolution and linear layers, in the order the network applies them."""
    return [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def layer_statistics(model: nn.Module) -> np.ndarray:
    """W̃_L: per weight layer, kernel then bias statistics: [n_layers * 2 * 7] float64."""
    return pair_statistics((layer.weight, layer.bias) for layer in weight_layers(model))


def pair_statistics(pairs) -> np.ndarray:
    """W̃_L of (kernel, bias or None) pairs, in order: each kernel's statistics, then its
    bias's (NaN where a layer has no bias)."""
    rows = []
    for weight, bias in pairs:
        rows.append(tensor_statistics(weight))
        if bias is not None:
            rows.append(tensor_statistics(bias))
        else:
            rows.append(torch.full((STATS_PER_TENSOR,), float("nan"), dtype=torch.float64))
    return torch.stack([r.cpu() for r in rows]).flatten().numpy()


def weight_stats_probe(model: nn.Module, features: torch.Tensor, labels: torch.Tensor):
    """W̃_L of `model` (`layer_statistics`); `features` and `labels` are unused."""
    return layer_statistics(model)


register_probe("weight_stats", lambda: weight_stats_probe)
