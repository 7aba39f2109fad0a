"""Unified Layer Code (Peephole, Sec. 3.1, Table 1): each layer as (TY, KW, KH, CH) integers.

TY: convolution 1, max-pool 2, avg-pool 3, ReLU 4, sigmoid 5, tanh 6, batch norm 7. KW and
KH: kernel width and height (1–5 for convolutions, 2–5 for pools, 1 for activations and
batch norm). CH: the ratio of output to input channels quantised to 8 bins centred at 0.25,
0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, coded 1–8 (the bin's index); layers other than
convolutions keep their channels, ratio 1.0, code 4. Bin edges are the midpoints between
centres (a ratio on an edge goes to the upper bin); ratios beyond the end centres fall in
the end bins.
"""

from __future__ import annotations

import numpy as np

from common.archs import Architecture, shapes

TYPE_CODES = {
    "conv": 1,
    "maxpool": 2,
    "avgpool": 3,
    "relu": 4,
    "sigmoid": 5,
    "tanh": 6,
    "batchnorm": 7,
}
CH_CENTRES = np.array([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0])
CH_EDGES = (CH_CENTRES[1:] + CH_CENTRES[:-1]) / 2  # midpoints between bin centres
KERNELS = {"conv": range(1, 6), "maxpool": range(2, 6), "avgpool": range(2, 6)}
HEAD = ("global_avg_pool", "flatten", "dropout", "linear")  # the classifier, not encoded


def channel_code(ratio: float) -> int:
    """Bin (1–8) of an output/input channel ratio."""
    if not ratio > 0:
        raise ValueError(f"channel ratio {ratio} must be positive")
    return int(np.searchsorted(CH_EDGES, ratio, side="right")) + 1


def _kernel(layer: dict) -> tuple[int, int]:
    k = layer.get("kernel", 1)
    return (k, k) if isinstance(k, int) else tuple(k)


def encode(arch: Architecture, skip_head: bool = True, skip: tuple[str, ...] = ()) -> np.ndarray:
    """[n_layers, 4] ULC codes of an architecture's layers.

    Args:
        arch: built only from Table 1's layer types (plus, with `skip_head`, a trailing
            classifier head of global average pooling / flatten / dropout / linear layers).
        skip_head: leave the trailing head out of the code.
        skip: layer types left out wherever they are (e.g. ``dropout``, the identity at test
            time, which Table 1 has no code for); by default nothing is.

    Raises:
        ValueError: naming the first layer that ULC cannot encode, or an empty body.
    """
    layers = list(arch.layers)
    if skip_head:
        while layers and layers[-1]["type"] in HEAD:
            layers.pop()
    if not layers:
        raise ValueError("empty architecture: nothing to encode")
    channels = [arch.input_shape[0]] + [s[0] for s in shapes(arch)]
    codes = []
    for i, layer in enumerate(layers):
        kind = layer["type"]
        if kind in skip:
            continue
        if kind not in TYPE_CODES:
            raise ValueError(
                f"layer {i} ({kind}) has no Unified Layer Code; ULC encodes {sorted(TYPE_CODES)}"
            )
        kw, kh = _kernel(layer) if kind in KERNELS else (1, 1)
        if kind in KERNELS and not (kw in KERNELS[kind] and kh in KERNELS[kind]):
            raise ValueError(
                f"layer {i} ({kind}): kernel {kw}×{kh} outside ULC's "
                f"{KERNELS[kind].start}–{KERNELS[kind].stop - 1}"
            )
        ratio = channels[i + 1] / channels[i] if kind == "conv" else 1.0
        codes.append((TYPE_CODES[kind], kw, kh, channel_code(ratio)))
    if not codes:
        raise ValueError("nothing to encode once the skipped layers are left out")
    return np.array(codes, dtype=np.int64)
