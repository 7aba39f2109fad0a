"""Peephole inference speed: architectures scored per second on the CPU, batched (packed
sequences) against one at a time in the same run, beside the paper's promise of "within 1
second per architecture" and our target of 10,000 per second; plus the predictor's training
time on 300 architectures. The architectures are sampled from the `blocks` family (digits
input) and encoded with ULC. Run: ``uv run python benchmarks/peephole_inference.py``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from peephole import blocks, model, ulc


def sampled_codes(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [ulc.encode(blocks.sample(rng, input_shape=(1, 8, 8), num_classes=10)[0])
            for _ in range(n)]  # fmt: skip


def main() -> None:
    torch.set_num_threads(2)
    codes = sampled_codes(300)
    accuracy = np.random.default_rng(1).uniform(0.1, 0.9, len(codes))
    start = time.perf_counter()
    net = model.fit(codes, 10, accuracy, model.PeepholeConfig(epochs=20), device="cpu")
    training = time.perf_counter() - start
    queries = codes * 20  # 6,000 architectures
    model.predict(net, queries[:64], 10)  # warm-up
    start = time.perf_counter()
    model.predict(net, queries, 10)
    batched = len(queries) / (time.perf_counter() - start)
    start = time.perf_counter()
    for c in queries[:300]:
        model.predict(net, [c], 10)
    single = 300 / (time.perf_counter() - start)
    lengths = [len(c) for c in codes]
    print(f"architectures: {len(codes)} sampled, {np.mean(lengths):.0f} encoded layers on average")
    print(f"training on 300 architectures, 20 epochs: {training:.1f} s")
    print(f"batched: {batched:,.0f} architectures/s; one at a time: {single:,.0f}/s; "
          f"ratio {batched / single:.1f} (target ≥ 10,000/s batched)")  # fmt: skip


if __name__ == "__main__":
    main()
