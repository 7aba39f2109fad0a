"""Zoo build throughput: network-epochs per second, one process vs the default process pool.

Builds the same `demo` zoo on `digits` twice in one run, first with a single worker process,
then with the default pool (one worker per core, one torch thread each), and prints the
ratio. Worker start-up (a torch import per process) is part of what a user pays, so it is
included. Run: ``uv run python benchmarks/zoo_throughput.py [--networks 24] [--epochs 4]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import zoo


def throughput(spec: zoo.ZooSpec, path: Path, workers: int | None, device: str = "auto") -> float:
    """Network-epochs per second of building `spec` at `path` with `workers` processes (the
    default pool when None) on `device` (`benchmarks/gpu_zoo.py` measures ``cuda``)."""
    executor = zoo.default_executor(workers) if workers else None
    start = time.perf_counter()
    try:
        zoo.build(spec, path, executor, progress=False, device=device)
    finally:
        if executor is not None:
            executor.shutdown()
    return spec.n_networks * spec.epochs / (time.perf_counter() - start)


def main() -> None:
    """Build a zoo serially and in parallel and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--networks", type=int, default=24)
    parser.add_argument("--epochs", type=float, default=4.0)
    args = parser.parse_args()
    spec = zoo.ZooSpec("demo", n_networks=args.networks, epochs=args.epochs, eval_every=0.5)
    with tempfile.TemporaryDirectory() as tmp:
        single = throughput(spec, Path(tmp) / "single.sqlite", workers=1)
        pool = throughput(spec, Path(tmp) / "pool.sqlite", workers=None)
    print(f"cores: {os.cpu_count()}; {spec.n_networks} demo networks x {spec.epochs} epochs")
    print(f"one process : {single:8.2f} network-epochs/s")
    print(f"default pool: {pool:8.2f} network-epochs/s")
    print(f"ratio pool / one process: {pool / single:.2f}")


if __name__ == "__main__":
    main()
