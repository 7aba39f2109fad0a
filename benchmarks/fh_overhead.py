"""Feature-history proxy overhead: the proxy's time per evaluation (closing the epoch and
fitting the K = 10 classifiers, Appendix A.1) as a fraction of one training epoch of the
same run, for ResNet-style networks of two widths on `digits` (and on the CIFAR-10 subset
when NNPERF_DATA has it). Paper (Sec. 3.1.3): under half an epoch; target ≤ 0.25. Measured
after 12 epochs, so the buffer is full for the last evaluations.
Run: ``uv run python benchmarks/fh_overhead.py``.
"""

from __future__ import annotations

import torch

from common import data
from feature_histories import experiments, families

WIDTHS = (8, 32)


def main() -> None:
    """Print the proxy's overhead per dataset and width."""
    torch.set_num_threads(2)
    for dataset in data.present(["digits", "cifar10"]):
        splits = data.load(dataset)
        for width in WIDTHS:
            s = experiments.Scale(
                0,
                0,
                0,
                0,
                live_epochs=12,
                width=width,
                train_fraction=1.0 if dataset == "digits" else 0.25,
            )
            arch = families.resnet(splits.input_shape, splits.num_classes, width)
            cost = experiments.overhead(experiments.live(arch, dataset, s, device="cpu"))
            print(
                f"{dataset}, ResNet-style width {width}: training "
                f"{cost['train seconds / epoch']:.2f} s/epoch, proxy "
                f"{cost['proxy seconds / evaluation']:.3f} s/evaluation = "
                f"{cost['proxy / epoch']:.3f} epoch (paper < 0.5; target ≤ 0.25)"
            )


if __name__ == "__main__":
    main()
