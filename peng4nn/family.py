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


def sample_layers(rng: np.random.Generator, max_filters: int) -> list[dict]:
    layers = []
    for _ in range(int(rng.integers(1, 11))):  # 1..10 convolutions
        kernel = int(rng.integers(1, 6))
        layers += [
            {"type": "conv", "kernel": kernel, "stride": int(rng.integers(1, 6)),
             "padding": int(rng.integers(0, 6)),
             "out_channels": int(rng.integers(1, max_filters + 1))},
            {"type": "relu"},
        ]  # fmt: skip
        pool = int(rng.integers(1, 6))
        layers.append(
            {"type": "maxpool", "kernel": pool, "stride": int(rng.integers(1, pool + 1)),
             "padding": int(rng.integers(0, pool // 2 + 1))}
        )  # fmt: skip
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
):
    """One network of the family: (architecture, recipe, {"attempts": n})."""
    for attempt in range(1, max_attempts + 1):  # noqa: B007 - used after the loop
        layers = sample_layers(rng, max_filters) + [
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
    lr = float(10 ** rng.uniform(-6, 0))  # log-uniform in [1e-6, 1]
    recipe = Recipe(optimizer="sgd", lr=lr, momentum=0.9, train_fraction=train_fraction)
    return arch, recipe, {"attempts": attempt}


zoo.register_family("peng4nn", sample)
