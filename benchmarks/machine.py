"""What this machine's arithmetic can do, measured in the same run as a benchmark: the bound
its ratios are read against."""

from __future__ import annotations

import time

import torch


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of a dense n×n float32 matrix multiply (after one warm-up)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9
