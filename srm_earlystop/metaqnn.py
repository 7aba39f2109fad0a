"""The MetaQNN search space (Baker et al. 2017; Baker et al. 2018, Appendix A, Table 3) as
the zoo family ``metaqnn``, sampled by a uniform random walk over legal transitions.

Layers: convolution (receptive field 1/3/5, stride 1, filters {64, 128, 256, 512} times
`width`), pooling ((5, 3), (3, 2), (2, 2) as (receptive field, stride)), up to two
consecutive fully connected layers of {512, 256, 128} units (times `width`), and termination
(global average pooling and softmax, or softmax after fully connected layers). Transitions:
no pooling after pooling; fully connected layers go only to fully connected layers or
termination; convolution or pooling go to a fully connected layer only when the
representation size is below 8; at most `max_layers` layers (12 for SVHN, 18 for CIFAR-10).

Choices where the text is silent: "same" padding for convolutions (the representation size
changes only at pooling), ReLU after every convolution and hidden fully connected layer, a
pooling layer only where it fits the representation, Adam with learning rate 1e-3 and batch
64 (the recipe of the original MetaQNN), the width multiplier applied to fully connected
layers too.
"""

from __future__ import annotations

import numpy as np

from common import archs, zoo
from common.train import Recipe

CONV_FIELDS = (1, 3, 5)
CONV_FILTERS = (64, 128, 256, 512)
POOLS = ((5, 3), (3, 2), (2, 2))  # (receptive field, stride)
FC_UNITS = (512, 256, 128)
MAX_CONSECUTIVE_FC = 2


def _scaled(values, width: float) -> list[int]:
    return [max(1, round(v * width)) for v in values]


def legal_next(previous: str, size: int, n_fc: int, n_layers: int, max_layers: int) -> list[str]:
    """Layer types allowed after `previous` (start, conv, pool, fc) at representation `size`."""
    if n_layers >= max_layers:
        return ["terminate"]
    if previous == "fc":
        return ["fc", "terminate"] if n_fc < MAX_CONSECUTIVE_FC else ["terminate"]
    options = ["conv"]
    if previous != "pool" and any(field <= size for field, _ in POOLS):
        options.append("pool")
    if size < 8 and previous != "start":
        options.append("fc")
    return options + (["terminate"] if previous != "start" else [])


def sample_sequence(rng: np.random.Generator, size: int, max_layers: int):
    """A legal sequence of (type, options) and the representation size before each layer."""
    sequence, previous, n_fc = [], "start", 0
    while True:
        choice = str(rng.choice(legal_next(previous, size, n_fc, len(sequence), max_layers)))
        if choice == "terminate":
            return sequence
        if choice == "conv":
            options = {"field": int(rng.choice(CONV_FIELDS)), "filters": int(rng.integers(4))}
        elif choice == "pool":
            fitting = [p for p in POOLS if p[0] <= size]
            field, stride = fitting[int(rng.integers(len(fitting)))]
            options = {"field": field, "stride": stride}
        else:
            options = {"units": int(rng.integers(3))}
        sequence.append((choice, options, size))
        if choice == "pool":
            size = (size - options["field"]) // options["stride"] + 1
        n_fc = n_fc + 1 if choice == "fc" else 0
        previous = choice


def to_architecture(sequence, input_shape, num_classes: int, width: float):
    """The `Architecture` of a MetaQNN layer sequence at filter/unit scale `width`."""
    layers, flat = [], False
    filters, units = _scaled(CONV_FILTERS, width), _scaled(FC_UNITS, width)
    for kind, options, _ in sequence:
        if kind == "conv":
            field = options["field"]
            layers += [
                {
                    "type": "conv",
                    "kernel": field,
                    "padding": field // 2,
                    "out_channels": filters[options["filters"]],
                },
                {"type": "relu"},
            ]
        elif kind == "pool":
            layers.append(
                {"type": "maxpool", "kernel": options["field"], "stride": options["stride"]}
            )
        else:
            if not flat:
                layers.append({"type": "flatten"})
                flat = True
            layers += [
                {"type": "linear", "out_features": units[options["units"]]},
                {"type": "relu"},
            ]
    if not flat:
        layers.append({"type": "global_avg_pool"})
    layers.append({"type": "linear", "out_features": num_classes})
    return archs.Architecture(input_shape, num_classes, layers)


def sees_space(sequence, min_field: int) -> bool:
    """Whether the sequence holds a convolution of receptive field >= `min_field`."""
    return any(kind == "conv" and o["field"] >= min_field for kind, o, _ in sequence)


def sample(
    rng: np.random.Generator,
    *,
    input_shape,
    num_classes: int,
    width: float = 1.0,
    max_layers: int = 18,
    lr: float = 1e-3,
    min_field: int = 0,
):
    """One MetaQNN network: (architecture, recipe, {"n_layers": ..., "attempts": ...}).

    `min_field` > 0 redraws walks without a convolution of at least that receptive field
    (book scale: on 8×8 digits a walk such as pool → global pooling → softmax sees only the
    mean intensity and stays at chance, where on CIFAR-10 colour statistics carry it above);
    0 keeps every legal walk, as the paper's space does."""
    for attempts in range(1, 10_001):  # noqa: B007 - used after the loop
        sequence = sample_sequence(rng, int(input_shape[1]), max_layers)
        if not min_field or sees_space(sequence, min_field):
            break
    else:
        raise ValueError(f"no walk with a convolution of field >= {min_field} in 10,000 draws")
    arch = to_architecture(sequence, input_shape, num_classes, width)
    recipe = Recipe(optimizer="adam", lr=lr, batch_size=64)
    extra = {"n_layers": len(sequence)}
    return arch, recipe, extra | ({"attempts": attempts} if min_field else {})


zoo.register_family("metaqnn", sample)
