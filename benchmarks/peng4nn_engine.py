"""PEng4NN engine cost: milliseconds per engine iteration (one curve fit + analysis) against
the half epoch of training it decides about, and seconds to replay a 500-network zoo.

The zoo is synthetic (500 curves of 40 half-epoch points: learners f = a − b^(c − x) with
noise, and never-learners near 10 %), so that the measurement needs no trained zoo. The
training baseline is half an epoch on `digits` of a network from the `peng4nn` family, run
in the same process. Run: ``uv run python benchmarks/peng4nn_engine.py``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from common import data, train
from peng4nn import curve, family
from peng4nn.engine import Engine, replay

EPOCHS = np.arange(1, 41) * 0.5


def synthetic_curves(n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, 40] accuracy curves in percent: 80 % learners, 20 % never-learners."""
    curves = np.empty((n, len(EPOCHS)))
    for i in range(n):
        if rng.random() < 0.8:
            a, b, c = rng.uniform(30, 98), rng.uniform(1.05, 2.0), rng.uniform(0, 8)
            clean = curve.f(EPOCHS * 2, a, b, c)
        else:
            clean = np.full(len(EPOCHS), 10.0)
        curves[i] = np.clip(clean + rng.normal(0, 0.7, len(EPOCHS)), 0, 100)
    return curves


def engine_ms_per_iteration(curves: np.ndarray) -> float:
    """Mean milliseconds of `Engine.observe` over full (unstopped) histories."""
    calls, start = 0, time.perf_counter()
    for acc in curves:
        engine = Engine()
        for e, a in zip(EPOCHS, acc, strict=True):
            engine.observe(e, a, 1.0)
            calls += 1
            if engine.decision.stop:
                break
    return 1000 * (time.perf_counter() - start) / calls


def half_epoch_ms(seed: int = 0) -> float:
    """Milliseconds of training half an epoch on digits (a `peng4nn` network, 32 filters)."""
    splits = data.load("digits")
    rng = np.random.default_rng(seed)
    arch, recipe, _ = family.sample(
        rng, input_shape=splits.input_shape, num_classes=10, max_filters=32, max_params=60_000
    )
    recipe = train.Recipe(lr=0.05, epochs=10)
    train.train(arch, recipe, splits, eval_every=0.5)  # warm-up: lazy imports, allocations
    start = time.perf_counter()
    train.train(arch, recipe, splits, eval_every=0.5)
    return 1000 * (time.perf_counter() - start) / 20


def main() -> None:
    """Print the engine's cost against the baseline in the same run."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    curves = synthetic_curves(500, rng)
    per_iteration = engine_ms_per_iteration(curves[:100])
    training = half_epoch_ms()
    start = time.perf_counter()
    stops = [replay(EPOCHS, acc, np.ones(len(EPOCHS))).decision.epoch for acc in curves]
    replay_seconds = time.perf_counter() - start
    print(f"engine iteration (fit + analysis): {per_iteration:.1f} ms")
    print(f"half an epoch of training on digits: {training:.1f} ms")
    print(f"ratio engine / training per iteration: {per_iteration / training:.2f}")
    print(
        f"replay of a 500-network zoo: {replay_seconds:.1f} s "
        f"(mean stop epoch {np.mean(stops):.1f} of 20)"
    )


if __name__ == "__main__":
    main()
