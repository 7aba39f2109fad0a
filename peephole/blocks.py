"""Block-based generation (Peephole, Sec. 4.1 and Appendix Table 1), zoo family ``blocks``.

A block starts with a convolution (kernel 1–5, output/input channel ratio from the 8 ULC
values, uniformly) and then follows the appendix's Markov chain over {conv, max-pool,
avg-pool, ReLU, sigmoid, tanh}; batch norm is inserted right after a convolution with
probability 0.6; a block has fewer than 11 layers and fewer than 4 convolutions. The skeleton
(Fig. 4): three stages, each a stack of copies of the block followed by 2×2 max pooling, 1×1
convolutions between copies where channel counts do not match, then global average pooling
and a linear classifier. Trained with one recipe (Sec. 5.1): SGD, momentum 0.9, weight decay
1e-4, lr 0.1 divided by 10 at 50 % and 75 % of training, He initialisation.

Choices where the paper is silent: a block ends when it reaches 10 layers or when the chain
draws a fourth convolution; kernels inside a block use padding (k − 1) // 2 and pools stride
1, so odd kernels keep the resolution and even ones shrink it by one; the stem is a 3×3
convolution to `base_width` (16) channels; stage widths double (w, 2w, 4w), reached by a 1×1
convolution where needed; `copies` (2) copies of the block per stage; samples whose spatial
size collapses are resampled (column ``attempts``).
"""

from __future__ import annotations

import numpy as np

from common import archs, zoo
from common.train import Recipe
from peephole.ulc import CH_CENTRES

STATES = ("conv", "maxpool", "avgpool", "relu", "sigmoid", "tanh")
# Appendix Table 1: row = current layer, column = next layer (STATES order)
TRANSITIONS = np.array(
    [
        [0.03, 0.03, 0.03, 0.31, 0.30, 0.30],
        [0.60, 0.05, 0.05, 0.10, 0.10, 0.10],
        [0.60, 0.05, 0.05, 0.10, 0.10, 0.10],
        [0.30, 0.30, 0.30, 0.00, 0.05, 0.05],
        [0.30, 0.30, 0.30, 0.05, 0.00, 0.05],
        [0.30, 0.30, 0.30, 0.05, 0.05, 0.00],
    ]
)
BN_PROBABILITY = 0.6  # batch norm right after a convolution
MAX_LAYERS, MAX_CONVS = 10, 3  # "less than 11 layers", "less than 4 convolutions"


def _conv(rng) -> dict:
    return {
        "type": "conv",
        "kernel": int(rng.integers(1, 6)),
        "ratio": float(rng.choice(CH_CENTRES)),
    }


def sample_block(rng: np.random.Generator) -> list[dict]:
    """One block as layer dicts (convolutions carry a channel `ratio`, not a width)."""
    block, state = [], "conv"
    layer = _conv(rng)
    while True:
        block.append(layer)
        if state == "conv" and len(block) < MAX_LAYERS and rng.random() < BN_PROBABILITY:
            block.append({"type": "batchnorm"})
        if len(block) >= MAX_LAYERS:
            return block[:MAX_LAYERS]
        state = STATES[int(rng.choice(len(STATES), p=TRANSITIONS[STATES.index(state)]))]
        if state == "conv" and sum(x["type"] == "conv" for x in block) >= MAX_CONVS:
            return block
        if state == "conv":
            layer = _conv(rng)
        elif state in ("maxpool", "avgpool"):
            layer = {"type": state, "kernel": int(rng.integers(2, 6)), "stride": 1}
        else:
            layer = {"type": state}


def instantiate(block: list[dict], width: int) -> tuple[list[dict], int]:
    """The block's layers for `width` input channels, and its output channels."""
    layers, channels = [], width
    for layer in block:
        kind = layer["type"]
        if kind == "conv":
            channels = max(1, round(channels * layer["ratio"]))
            k = layer["kernel"]
            layers.append(
                {"type": "conv", "kernel": k, "padding": (k - 1) // 2, "out_channels": channels}
            )
        elif kind in ("maxpool", "avgpool"):
            k = layer["kernel"]
            layers.append({"type": kind, "kernel": k, "stride": 1, "padding": (k - 1) // 2})
        else:
            layers.append({"type": kind})
    return layers, channels


def skeleton(block, input_shape, num_classes: int, base_width: int = 16, copies: int = 2):
    """Fig. 4: stem, three stages of block copies + 2×2 max pooling, GAP, linear."""
    layers = [{"type": "conv", "kernel": 3, "padding": 1, "out_channels": base_width}]
    channels = base_width
    for stage in range(3):
        width = base_width * 2**stage
        for _ in range(copies):
            if channels != width:  # 1×1 convolution where channel counts do not match
                layers.append({"type": "conv", "kernel": 1, "out_channels": width})
            body, channels = instantiate(block, width)
            layers += body
        layers.append({"type": "maxpool", "kernel": 2, "stride": 2})
    layers += [{"type": "global_avg_pool"}, {"type": "linear", "out_features": num_classes}]
    return archs.Architecture(input_shape, num_classes, layers)


def recipe(
    epochs: float = 10.0, train_fraction: float = 1.0, lr: float = 0.1, optimizer: str = "sgd"
) -> Recipe:
    """Sec. 5.1's recipe; the lr is divided by 10 at 50 % and 75 % of training (the paper
    divides every 60 epochs on CIFAR-10, 80 on MNIST, of a total it does not state). `lr`
    (the paper: 0.1) and `optimizer` (the paper: SGD, momentum 0.9) are options for short
    book-scale runs; every network of a zoo still shares one recipe."""
    return Recipe(
        optimizer=optimizer,
        lr=lr,
        momentum=0.9,
        weight_decay=1e-4,
        schedule="step",
        milestones=(0.5 * epochs, 0.75 * epochs),
        gamma=0.1,
        epochs=epochs,
        init="he_normal",
        batch_size=64,
        train_fraction=train_fraction,
    )


def sample_valid(
    rng: np.random.Generator,
    input_shape,
    num_classes: int,
    base_width: int = 16,
    copies: int = 2,
    max_params: int | None = None,
    max_attempts: int = 10_000,
):
    """(block, architecture, attempts): blocks are drawn until the skeleton keeps a spatial
    size of at least 1 and has at most `max_params` weights (compounding channel ratios can
    reach tens of millions; the cap keeps a CPU zoo affordable)."""
    for attempt in range(1, max_attempts + 1):
        block = sample_block(rng)
        arch = skeleton(block, input_shape, num_classes, base_width, copies)
        try:
            archs.shapes(arch)
        except ValueError:  # the resolution collapsed: resample
            continue
        if max_params is None or archs.num_params(arch) <= max_params:
            return block, arch, attempt
    raise ValueError(
        f"no valid network for input {input_shape} (max_params={max_params}) in "
        f"{max_attempts} attempts"
    )


def sample(
    rng: np.random.Generator,
    *,
    input_shape,
    num_classes: int,
    base_width: int = 16,
    copies: int = 2,
    max_params: int | None = None,
    train_fraction: float = 1.0,
    lr: float = 0.1,
    optimizer: str = "sgd",
):
    """One network of the family: (architecture, recipe, {"attempts", "block_layers"})."""
    block, arch, attempts = sample_valid(
        rng, input_shape, num_classes, base_width, copies, max_params
    )
    extra = {"attempts": attempts, "block_layers": len(block)}
    return arch, recipe(train_fraction=train_fraction, lr=lr, optimizer=optimizer), extra


zoo.register_family("blocks", sample)
