"""What a zoo holds: the family registry, `ZooSpec` and the sampling of its networks.

A family is a registered sampler ``sampler(rng, input_shape=..., num_classes=..., **options)
-> (Architecture, Recipe[, extra])`` where ``extra`` is a dict of further hyperparameters
(columns of the table). Packages register theirs with `register_family` or, so that worker
processes and the CLI find them without importing anything by hand, with an entry point in
the ``nnperf.families`` group. Network i of a zoo is sampled and seeded from (zoo seed, i),
so a resumed zoo equals an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from common import archs
from common.plugins import lookup
from common.train import Recipe

# ----------------------------------------------------------------------------- families

FAMILIES: dict[str, Callable] = {}
BATCH_TRAINERS: dict[str, Callable] = {}


def register_family(name: str, sampler: Callable, batch_trainer: Callable | None = None) -> None:
    """Register `sampler(rng, *, input_shape, num_classes, **options)` as family `name`.

    `batch_trainer(nets, splits, *, eval_every, probes, device, keep_weights)`, if given,
    trains a list of (arch, recipe, seed) together and returns their `RunResult`s in order
    (probes as name -> factory); `build` then hands it chunks of networks."""
    FAMILIES[name] = sampler
    if batch_trainer is not None:
        BATCH_TRAINERS[name] = batch_trainer


def get_family(name: str) -> Callable:
    """The sampler of family `name`: registered here, else from the entry point group."""
    return lookup(FAMILIES, "nnperf.families", name, "zoo family")


def demo_family(rng: np.random.Generator, *, input_shape, num_classes, max_width: int = 16):
    """A small CNN family for tests and benchmarks: 1–2 convs, widths and SGD lr sampled."""
    layers = []
    for _ in range(int(rng.integers(1, 3))):
        width = int(rng.choice([w for w in (4, 8, 16, 32) if w <= max_width]))
        layers += [{"type": "conv", "kernel": 3, "out_channels": width, "padding": 1}]
        layers += [{"type": "relu"}]
    layers += [{"type": "global_avg_pool"}, {"type": "linear", "out_features": num_classes}]
    recipe = Recipe(lr=float(10 ** rng.uniform(-2, -0.5)), batch_size=64)
    return archs.Architecture(input_shape, num_classes, layers), recipe


register_family("demo", demo_family)

# ----------------------------------------------------------------------------- spec


def is_whole(value) -> bool:
    """Whether `value` is an integer (Python or NumPy; a bool is not one)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _positive(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@dataclass(frozen=True)
class ZooSpec:
    """What a zoo holds. Everything but `n_networks` must match to resume or grow a zoo."""

    family: str  # a registered family
    dataset: str = "digits"  # a `common.data` name
    n_networks: int = 20
    seed: int = 0  # network i is seeded from (seed, i)
    epochs: float = 5.0  # overrides the family recipe's epochs, so curves align
    eval_every: float = 1.0  # epochs between evaluations (0.5 for PEng4NN)
    probes: tuple[str, ...] = ()  # names in `common.probes.PROBES`
    family_options: dict = field(default_factory=dict)  # keyword arguments of the sampler
    keep_weights: bool = False  # store final weights (Unterthiner)
    val_size: float = 0.2  # validation fraction carved from train
    scaling: str = "standard"  # input scaling, see `common.data.load`
    # minibatch size imposed on every network (None: the family's own). Small datasets use
    # it to give a book-scale run the optimiser steps of the paper's regime (common.health).
    batch_size: int | None = None
    # 0: the zoo itself; r > 0: the same networks (architectures, hyperparameters, data
    # split) trained again from other seeds, for the noise ceiling (common.health)
    replicate: int = 0

    def __post_init__(self):
        object.__setattr__(self, "probes", tuple(self.probes))
        val = self.val_size
        checks = {
            "n_networks": (is_whole(self.n_networks) and self.n_networks >= 0, "an integer >= 0"),
            "epochs": (_positive(self.epochs), "a finite number > 0"),
            "eval_every": (
                _positive(self.eval_every) and self.eval_every <= self.epochs,
                f"a finite number in (0, epochs={self.epochs}]",
            ),
            "val_size": (
                (is_whole(val) and val >= 1) or (isinstance(val, float) and 0 < val < 1),
                "a fraction in (0, 1) or a number of images >= 1",
            ),
            "batch_size": (
                self.batch_size is None or (is_whole(self.batch_size) and self.batch_size >= 1),
                "an integer >= 1 (or None)",
            ),
            "replicate": (is_whole(self.replicate) and self.replicate >= 0, "an integer >= 0"),
            "seed": (is_whole(self.seed) and self.seed >= 0, "an integer >= 0"),
        }
        for name, (ok, expected) in checks.items():
            if not ok:
                raise ValueError(f"ZooSpec.{name}={getattr(self, name)!r}: expected {expected}")

    def validate(self) -> ZooSpec:
        """Check what the registries know (family, dataset, probes, scaling) before anything
        is written; ValueError naming the field, the value and what is allowed."""
        from common import data, probes

        get_family(self.family)
        try:
            data.parse_name(self.dataset)
        except ValueError:
            raise ValueError(
                f"ZooSpec.dataset={self.dataset!r}: expected one of {sorted(data.LOADERS)}, or"
                " NAME@N for a subset of N > 0 images of one (e.g. digits@512)"
            ) from None
        if self.scaling not in data.SCALINGS:
            raise ValueError(f"ZooSpec.scaling={self.scaling!r}: expected one of {data.SCALINGS}")
        for name in self.probes:
            probes.make_probe(name)  # ValueError naming the unknown probe and the known ones
        return self

    def to_dict(self) -> dict:
        """The spec as JSON-ready data; fields at their defaults since they were added
        (`batch_size`, `replicate`) are left out, so older zoos keep their keys."""
        d = asdict(self) | {"probes": list(self.probes)}
        for name, default in (("batch_size", None), ("replicate", 0)):
            if d[name] == default:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ZooSpec:
        """The spec `to_dict` wrote (fields at their defaults may be absent); ValueError
        naming fields this version does not know (a spec from a newer nnperf)."""
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(
                f"spec fields {sorted(unknown)} are unknown to this nnperf (written by a newer "
                "version?): upgrade nnperf"
            )
        return cls(**d)

    def key(self) -> str:
        """A short stable hash of the spec (for cache file names)."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def describe_training(spec: dict) -> str:
    """How the networks of the zoo `spec` (`ZooSpec.to_dict`) were trained, in words: what
    a predictor learned from them assumes (Peephole's card, the shipped predictors' cards)."""
    options = ", ".join(f"{k}={v}" for k, v in spec["family_options"].items()) or "defaults"
    batch = spec.get("batch_size") or "the family's"
    return (
        f"{spec['family']!r} networks on {spec['dataset']!r}, each trained {spec['epochs']:g}"
        f" epochs (family options: {options}; minibatch: {batch})"
    )


def network_seeds(spec: ZooSpec, index: int) -> tuple[np.random.Generator, int]:
    """The sampling generator and the torch seed of network `index` (from zoo seed, index).

    A replicate (``spec.replicate`` r > 0) samples the same network and trains it from the
    seed of (zoo seed, index, r) instead."""
    sampling, training = np.random.SeedSequence([spec.seed, index]).spawn(2)
    if spec.replicate:
        training = np.random.SeedSequence([spec.seed, index, spec.replicate])
    return np.random.default_rng(sampling), int(training.generate_state(1)[0])


def sample_network(spec: ZooSpec, index: int, input_shape, num_classes):
    """(arch, recipe, extra) of network `index`, with the spec's epochs imposed (step-schedule
    milestones scaled in proportion) and its batch size, if it sets one."""
    rng, _ = network_seeds(spec, index)
    sampled = get_family(spec.family)(
        rng, input_shape=tuple(input_shape), num_classes=num_classes, **spec.family_options
    )
    arch, recipe, extra = (*sampled, {}) if len(sampled) == 2 else sampled
    # step milestones keep their place in training when the spec imposes its epochs
    milestones = tuple(m * spec.epochs / recipe.epochs for m in recipe.milestones)
    recipe = replace(recipe, epochs=spec.epochs, milestones=milestones)
    if spec.batch_size is not None:
        recipe = replace(recipe, batch_size=spec.batch_size)
    return arch, recipe, dict(extra)
