"""PEng4NN's random network generator, registered as the zoo family ``peng4nn`` (Sec. IV-A-2).

1–10 convolutions (kernel 1–5, stride 1–5, padding 0–5, up to 400 filters), each followed by
a pooling layer (kernel 1–5, stride 1..kernel, padding 0..kernel/2), then two fully connected
layers; learning rate log-uniform in [1e-6, 1]. Samples whose spatial size collapses below 1
are resampled; the number of attempts is recorded (column ``attempts``) so the acceptance
rate can be reported.

Where the paper is silent we chose: ReLU after every convolution and after the first fully
connected layer; max pooling; a hidden fully connected layer of `fc_units` (128) units; SGD
with momentum 0.9, batch 64, constant learning rate. The text gives the pooling padding range
as [1, kernel/2]; we follow the issue's 0..kernel/2 so that kernel-1 pools are possible.
`max_filters` (paper: 400) and `max_params` cap sizes at small scales; `train_fraction`
trains on a seeded subset of the training split (the book's Fashion-MNIST).
"""

from __future__ import annotations

import numpy as np

from common import archs, zoo
from common.train import Recipe


def sample_layers(
    rng: np.random.Generator,
    max_filters: int,
    max_stride: int = 5,
    max_padding: int = 5,
    min_filters: int = 1,
) -> list[dict]:
    """1–10 (convolution, ReLU, max pooling) triples drawn from the paper's ranges (strides
    and convolution padding capped by `max_stride` and `max_padding`, filters drawn from
    `min_filters`..`max_filters`)."""
    layers = []
    for _ in range(int(rng.integers(1, 11))):  # 1..10 convolutions
        kernel = int(rng.integers(1, 6))
        layers += [
            {
                "type": "conv",
                "kernel": kernel,
                "stride": int(rng.integers(1, max_stride + 1)),
                "padding": int(rng.integers(0, max_padding + 1)),
                "out_channels": int(rng.integers(min_filters, max_filters + 1)),
            },
            {"type": "relu"},
        ]
        pool = int(rng.integers(1, 6))
        layers.append(
            {
                "type": "maxpool",
                "kernel": pool,
                "stride": int(rng.integers(1, min(pool, max_stride) + 1)),
                "padding": int(rng.integers(0, pool // 2 + 1)),
            }
        )
    return layers


def sample(
    rng: np.random.Generator,
    *,
    input_shape,
    num_classes: int,
    max_filters: int = 400,
    fc_units: int = 128,
    max_params: int | None = None,
    train_fraction: float = 1.0,
    max_attempts: int = 100_000,
    lr_range: tuple[float, float] = (1e-6, 1.0),
    optimizer: str = "sgd",
    max_stride: int = 5,
    max_padding: int = 5,
    min_filters: int = 1,
):
    """One network of the family: (architecture, recipe, {"attempts": n}).

    `lr_range` (the paper: [1e-6, 1 + 1e-6], sampled log-uniformly here) and `optimizer`
    (sgd with momentum 0.9, or adam) are options for book-scale runs, whose thousand steps
    leave a network at lr 1e-5 where it started. `max_stride` and `max_padding` (the paper:
    5 and 5, for 32×32 inputs) scale the ranges to small images: on 8×8 digits a stride of 5
    keeps two rows, and a padding of 5 makes most of a feature map zeros. `min_filters`
    (the paper: 1 of up to 400) keeps one-filter bottlenecks as rare as the paper's when
    `max_filters` is small."""
    if not 1 <= min_filters <= max_filters:
        raise ValueError(f"filters {min_filters}..{max_filters}: expected 1 <= min <= max")
    low, high = lr_range
    if not 0 < low <= high:
        raise ValueError(f"lr_range={lr_range}: expected 0 < low <= high")
    for attempt in range(1, max_attempts + 1):  # noqa: B007 - used after the loop
        layers = sample_layers(rng, max_filters, max_stride, max_padding, min_filters) + [
            {"type": "flatten"},
            {"type": "linear", "out_features": fc_units},
            {"type": "relu"},
            {"type": "linear", "out_features": num_classes},
        ]
        arch = archs.Architecture(input_shape, num_classes, layers)
        try:
            n_params = archs.num_params(arch)
        except ValueError:  # spatial size collapsed: resample
            continue
        if max_params is None or n_params <= max_params:
            break
    else:
        raise ValueError(f"no valid network for input {input_shape} in {max_attempts} attempts")
    lr = float(10 ** rng.uniform(np.log10(low), np.log10(high)))  # log-uniform
    recipe = Recipe(optimizer=optimizer, lr=lr, momentum=0.9, train_fraction=train_fraction)
    return arch, recipe, {"attempts": attempt}


zoo.register_family("peng4nn", sample)
