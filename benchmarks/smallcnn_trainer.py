"""Batched Small CNN training against the one-at-a-time trainer, in one run on this machine.

Network-epochs per second for N = 64, 256 and 1,024 networks of the ``smallcnn`` family on
`digits` (hyperparameters sampled as in the zoo, so all training fractions, optimisers and
activations are mixed), batched (`weights_to_acc.batched`) against `common.train.train` one
network after another (timed on the first 16 networks: its rate does not depend on N),
reported as ratios; plus the achieved training GFLOP/s beside a dense matrix multiply's on
the same machine. Target: at least 10× at N ≥ 256 on a 2-core CPU.
Run: ``uv run python benchmarks/smallcnn_trainer.py``.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from machine import matmul_gflops

from common import archs, data, train
from weights_to_acc import batched, family

EPOCHS, SIZES, SINGLE = 1.0, (64, 256, 1024), 16


def training_flops(arch: archs.Architecture, images: float) -> float:
    """Multiply-adds of the forward pass × 2 FLOPs × 3 (forward and backward) per image."""
    macs, channels = 0, arch.input_shape[0]
    for layer, shape in zip(arch.layers, archs.shapes(arch), strict=True):
        if layer["type"] == "conv":
            macs += shape[0] * shape[1] * shape[2] * 9 * channels
            channels = shape[0]
        elif layer["type"] == "linear":
            macs += channels * layer["out_features"]
    return 6 * macs * images


def sample(n: int, splits) -> list:
    """`n` Small CNN networks of the digits zoo (architecture, recipe)."""
    rng = np.random.default_rng(0)
    nets = []
    for i in range(n):
        arch, recipe, _ = family.sample(
            rng, input_shape=splits.input_shape, num_classes=10, epochs=EPOCHS
        )
        nets.append((arch, recipe, i))
    return nets


def main() -> None:
    """Print network-epochs per second, one at a time against batched."""
    torch.set_num_threads(2)
    splits = data.load("digits", scaling="symmetric")
    n_train = len(splits.train_y)
    nets = sample(max(SIZES), splits)
    start = time.perf_counter()
    for arch, recipe, seed in nets[:SINGLE]:
        train.train(arch, recipe, splits, seed=seed, eval_every=EPOCHS, device="cpu")
    single = SINGLE * EPOCHS / (time.perf_counter() - start)
    peak = matmul_gflops()
    print(f"one at a time: {single:.1f} network-epochs/s (digits, {n_train} training images)")
    for n in SIZES:
        start = time.perf_counter()
        batched.train_batched(nets[:n], splits, eval_every=EPOCHS, device="cpu")
        seconds = time.perf_counter() - start
        rate = n * EPOCHS / seconds
        flops = sum(training_flops(a, r.train_fraction * n_train * EPOCHS) for a, r, _ in nets[:n])
        print(
            f"N = {n:5d}: batched {rate:7.1f} network-epochs/s, {rate / single:5.1f}× one at "
            f"a time; training {flops / seconds / 1e9:.2f} GFLOP/s"
        )
    print(f"dense 2048² matmul on this machine: {peak:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
