"""Peephole inference speed: architectures scored per second on the CPU, batched (packed
sequences) against one at a time in the same run, beside the paper's promise of "within 1
second per architecture" and our target of 10,000 per second; the LSTM's achieved GFLOP/s
beside a dense matrix multiply's on the same machine (the bound on what batching can reach);
and Peephole's training time at the book scale's size (digits: the training half of 128
networks, 150 epochs). The architectures are sampled from the `blocks` family at the book
scale's settings and encoded with ULC.
Run: ``uv run python benchmarks/peephole_inference.py``.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from machine import matmul_gflops

from peephole import blocks, experiments, model, ulc

BOOK = experiments.scale_of("digits", "book")


def sampled_codes(n: int, seed: int = 0) -> list[np.ndarray]:
    """ULC codes of `n` architectures sampled from the book-scale blocks family."""
    rng = np.random.default_rng(seed)
    return [
        ulc.encode(
            blocks.sample(
                rng,
                input_shape=(1, 8, 8),
                num_classes=10,
                base_width=BOOK.base_width,
                max_params=BOOK.max_params,
            )[0]
        )
        for _ in range(n)
    ]


def lstm_flops(codes, config=model.SEC_5_1) -> float:
    """Multiply-adds of the LSTM's input and recurrent projections, ×2, over all layers."""
    per_step = 2 * 4 * config.hidden * (4 * config.embed_dim + config.hidden)
    return per_step * sum(len(c) for c in codes)


def main() -> None:
    """Print batched and one-at-a-time scoring rates side by side."""
    torch.set_num_threads(2)
    codes = sampled_codes(300)
    accuracy = np.random.default_rng(1).uniform(0.1, 0.9, len(codes))
    n_train = round(BOOK.train_share * BOOK.n_networks)
    config = model.PeepholeConfig(epochs=BOOK.predictor_epochs)
    start = time.perf_counter()
    net = model.fit(codes[:n_train], 8, accuracy[:n_train], config, device="cpu")
    training = time.perf_counter() - start
    queries = codes * 20  # 6,000 architectures
    model.predict(net, queries[:64], 10)  # warm-up
    start = time.perf_counter()
    model.predict(net, queries, 10)
    seconds = time.perf_counter() - start
    batched = len(queries) / seconds
    start = time.perf_counter()
    for c in queries[:300]:
        model.predict(net, [c], 10)
    single = 300 / (time.perf_counter() - start)
    exact = model.predict(net, queries, 10)
    model.predict(net, queries[:64], 10, bf16=True)  # warm-up
    start = time.perf_counter()
    low = model.predict(net, queries, 10, bf16=True)
    bf16 = len(queries) / (time.perf_counter() - start)
    lengths = [len(c) for c in codes]
    print(f"architectures: {len(codes)} sampled, {np.mean(lengths):.0f} encoded layers on average")
    print(
        f"training on {n_train} architectures, {config.epochs} epochs (book scale): "
        f"{training:.1f} s"
    )
    print(
        f"batched: {batched:,.0f} architectures/s; one at a time: {single:,.0f}/s; "
        f"ratio {batched / single:.1f} (target ≥ 10,000/s batched)"
    )
    print(
        f"batched under bfloat16 autocast: {bf16:,.0f} architectures/s ({bf16 / batched:.1f}× "
        f"float32; largest prediction difference {np.abs(low - exact).max():.4f})"
    )
    achieved, peak = lstm_flops(queries) / seconds / 1e9, matmul_gflops()
    print(
        f"LSTM projections: {achieved:.1f} GFLOP/s; dense 2048² matmul: {peak:.1f} GFLOP/s; "
        f"10,000/s would need {lstm_flops(queries) / len(queries) * 1e4 / 1e9:.0f} GFLOP/s"
    )


if __name__ == "__main__":
    main()
