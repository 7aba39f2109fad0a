"""Zoo build throughput on a GPU (issue 19, item 2): network-epochs per second of the book's
``blocks`` and ``smallcnn`` zoos with 1, 4, 8 and 16 pool workers sharing the visible GPUs
(`common.zoo.default_executor` places workers round-robin), against 2 CPU workers (the
development machine's figure) measured in the same run.

Run on a CUDA machine (the ``device`` tool's H200, say):
``uv run python benchmarks/gpu_zoo.py [--networks 32] [--epochs 2] [--workers 1 4 8 16]``.
Without CUDA it measures the CPU baseline only and says so. Worker start-up (a torch import
and a CUDA context per process) is part of what a user pays, so it is included.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import torch
from zoo_throughput import throughput  # a sibling script: benchmarks/ is on sys.path

from common import zoo
from comparison import settings


def main() -> None:
    """Build each zoo's first networks on the CPU and with each GPU worker count."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--networks", type=int, default=32)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8, 16])
    args = parser.parse_args()
    specs = settings.zoo_specs("book")
    gpu = torch.cuda.is_available()
    print(f"GPUs visible: {zoo.visible_gpus() or 'none'}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in specs.items():
            spec = replace(spec, n_networks=args.networks, epochs=args.epochs, probes=())
            cpu = throughput(spec, Path(tmp) / f"{name}-cpu.sqlite", 2, "cpu")
            print(f"{spec.family}: 2 CPU workers {cpu:8.2f} network-epochs/s")
            for n in args.workers if gpu else []:
                rate = throughput(spec, Path(tmp) / f"{name}-{n}.sqlite", n, "cuda")
                print(
                    f"{spec.family}: {n:2d} GPU workers {rate:8.2f} network-epochs/s"
                    f" ({rate / cpu:.1f}× the 2 CPU workers)"
                )
    if not gpu:
        print("no CUDA device: only the CPU baseline was measured")


if __name__ == "__main__":
    main()
