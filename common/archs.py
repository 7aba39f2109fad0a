"""Architectures as JSON-serialisable layer lists, and the module built from one.

An `Architecture` is an input shape, a class count and an ordered tuple of layers, each a
plain dict with a ``type`` key. Every family of every paper (Peephole's blocks, PEng4NN's
random CNNs, MetaQNN, Unterthiner's small CNN) is written in this one vocabulary, so that the
trainer, the zoo and the probes work on all of them. `build` returns a `Network` whose
``features(x)`` is everything before the last linear layer and whose ``classifier`` is that
layer (Cao et al.'s feature histories and Unterthiner's last-layer statistics need both).

Layer types and their keys (defaults in brackets):

- ``conv``: ``kernel`` [kw, kh] or int, ``out_channels``, ``stride`` [1], ``padding`` [0],
  ``groups`` [1] (depthwise convolutions: groups = input channels = output channels), ``bias``
  [true]
- ``maxpool`` / ``avgpool``: ``kernel``, ``stride`` [= kernel], ``padding`` [0]
- ``relu`` / ``sigmoid`` / ``tanh`` / ``batchnorm`` / ``flatten`` / ``global_avg_pool``
- ``dropout``: ``p``
- ``linear``: ``out_features`` (the last layer must be linear, with ``num_classes`` outputs)

Packages add layer types of their own (e.g. NAS-Bench-201 cells) with `register_layer`, or
an entry point in the ``nnperf.layers`` group (found by worker processes without an import).

Any layer may declare ``in_channels`` (``in_features`` for linear); a mismatch with what it
receives is an error, which catches hand-written architectures that lost track of widths.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch
from torch import nn

from common.plugins import lookup

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
LAYER_TYPES = (
    "conv",
    "maxpool",
    "avgpool",
    "batchnorm",
    "dropout",
    "global_avg_pool",
    "flatten",
    "linear",
    *ACTIVATIONS,
)
WEIGHT_LAYERS = ("conv", "linear")  # what `depth` counts
CUSTOM_LAYERS: dict[str, Callable] = {}


def register_layer(kind: str, make: Callable) -> None:
    """Add layer type `kind`: ``make(layer, shape, where) -> (module factory, output shape,
    parameter count)``, raising ValueError (naming `where`) on an invalid layer."""
    if kind in LAYER_TYPES:
        raise ValueError(f"layer type {kind!r} is built in")
    CUSTOM_LAYERS[kind] = make


@dataclass(frozen=True)
class Architecture:
    """A network: input shape (C, H, W), class count and an ordered tuple of layer dicts."""

    input_shape: tuple[int, int, int]
    num_classes: int
    layers: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self):
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        object.__setattr__(self, "layers", tuple(dict(layer) for layer in self.layers))

    def to_dict(self) -> dict:
        """The architecture as plain JSON-able data."""
        return {
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "layers": [dict(layer) for layer in self.layers],
        }

    def to_json(self) -> str:
        """The architecture as canonical JSON (sorted keys: equal architectures, equal text)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> Architecture:
        """The architecture `to_dict` wrote."""
        return cls(tuple(d["input_shape"]), int(d["num_classes"]), tuple(d["layers"]))

    @classmethod
    def from_json(cls, text: str) -> Architecture:
        """The architecture `to_json` wrote."""
        return cls.from_dict(json.loads(text))


def _pair(value, what: str, where: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ValueError(f"{where}: {what}={value!r} must be an int or a pair of ints")
    return pair  # (width, height)


def _spatial(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _conv(layer: dict, shape: tuple, where: str):
    kw, kh = _pair(layer["kernel"], "kernel", where)
    sw, sh = _pair(layer.get("stride", 1), "stride", where)
    pw, ph = _pair(layer.get("padding", 0), "padding", where)
    c_in, c_out = shape[0], int(layer["out_channels"])
    groups, bias = int(layer.get("groups", 1)), bool(layer.get("bias", True))
    if c_out < 1 or min(kw, kh, sw, sh) < 1 or min(pw, ph) < 0:
        raise ValueError(f"{where}: conv needs out_channels, kernel, stride >= 1, padding >= 0")
    if groups < 1 or c_in % groups or c_out % groups:
        raise ValueError(f"{where}: groups={groups} must divide {c_in} and {c_out} channels")
    out = (c_out, _spatial(shape[1], kh, sh, ph), _spatial(shape[2], kw, sw, pw))
    module = partial(nn.Conv2d, c_in, c_out, (kh, kw), (sh, sw), (ph, pw), groups=groups, bias=bias)
    return module, out, c_out * (c_in // groups) * kw * kh + c_out * bias


def _pool(pool: type[nn.Module], kind: str):
    def make(layer: dict, shape: tuple, where: str):
        kw, kh = _pair(layer["kernel"], "kernel", where)
        sw, sh = _pair(layer.get("stride", layer["kernel"]), "stride", where)
        pw, ph = _pair(layer.get("padding", 0), "padding", where)
        if 2 * pw > kw or 2 * ph > kh:  # torch's own rule for pooling
            raise ValueError(f"{where}: {kind} padding {(pw, ph)} exceeds half the kernel")
        out = (shape[0], _spatial(shape[1], kh, sh, ph), _spatial(shape[2], kw, sw, pw))
        return partial(pool, (kh, kw), (sh, sw), (ph, pw)), out, 0

    return make


def _linear(layer: dict, shape: tuple, where: str):
    if len(shape) == 3:
        raise ValueError(
            f"{where}: linear got spatial input {shape}; put 'flatten' or"
            " 'global_avg_pool' before it"
        )
    n_out = int(layer["out_features"])
    return partial(nn.Linear, shape[0], n_out), (n_out,), shape[0] * n_out + n_out


def _global_avg_pool(layer: dict, shape: tuple, where: str):
    return (lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())), shape[:1], 0


# The built-in layer types: kind -> make(layer, shape, where) -> (module factory, output
# shape, parameter count), the signature `register_layer` asks of packages' own types.
BUILT_IN: dict[str, Callable] = {
    "conv": _conv,
    "maxpool": _pool(nn.MaxPool2d, "maxpool"),
    "avgpool": _pool(nn.AvgPool2d, "avgpool"),
    "batchnorm": lambda layer, shape, where: (
        partial(nn.BatchNorm2d, shape[0]),
        shape,
        2 * shape[0],
    ),
    "dropout": lambda layer, shape, where: (
        partial(nn.Dropout, float(layer.get("p", 0.5))),
        shape,
        0,
    ),
    "global_avg_pool": _global_avg_pool,
    "flatten": lambda layer, shape, where: (nn.Flatten, (math.prod(shape),), 0),
    "linear": _linear,
    **{
        kind: (lambda layer, shape, where, m=module: (m, shape, 0))
        for kind, module in ACTIVATIONS.items()
    },
}
SPATIAL_ONLY = ("conv", "maxpool", "avgpool", "batchnorm", "global_avg_pool")


def _make_layer(
    layer: dict, shape: tuple, where: str
) -> tuple[Callable[[], nn.Module], tuple, int]:
    """A factory of the layer's module, its output shape and its parameter count; ValueError
    if invalid. Modules are only made by `build` (making them allocates and initialises)."""
    kind = layer.get("type")
    if kind not in BUILT_IN:
        try:
            make = lookup(CUSTOM_LAYERS, "nnperf.layers", kind, "layer type")
        except ValueError:
            known = (*LAYER_TYPES, *CUSTOM_LAYERS)
            raise ValueError(
                f"{where}: unknown layer type {kind!r}; expected one of {known}"
            ) from None
        return make(layer, shape, where)
    declared = layer.get("in_channels", layer.get("in_features"))
    if declared is not None and declared != shape[0]:
        raise ValueError(f"{where}: declares {declared} input channels but receives {shape[0]}")
    if kind in SPATIAL_ONLY and len(shape) != 3:
        raise ValueError(f"{where}: {kind} needs a [C, H, W] input, got flat shape {shape}")
    module, out, n_params = BUILT_IN[kind](layer, shape, where)
    if len(out) == 3 and min(out[1:]) < 1:
        raise ValueError(f"{where}: {kind} maps {shape} to spatial size {out[1:]} (below 1)")
    return module, out, n_params


def _check_head(arch: Architecture) -> None:
    if not arch.layers or arch.layers[-1].get("type") != "linear":
        raise ValueError("the last layer must be 'linear' (it is the classifier)")
    n_out = arch.layers[-1].get("out_features", arch.num_classes)
    if n_out != arch.num_classes:
        raise ValueError(
            f"layer {len(arch.layers) - 1} (linear): out_features={n_out} but the"
            f" architecture has num_classes={arch.num_classes}"
        )


def _walk(arch: Architecture) -> list[tuple[Callable[[], nn.Module], tuple, int]]:
    _check_head(arch)
    shape, out = tuple(arch.input_shape), []
    for i, layer in enumerate(arch.layers):
        layer = {"out_features": arch.num_classes, **layer} if i == len(arch.layers) - 1 else layer
        try:
            made = _make_layer(layer, shape, f"layer {i} ({layer.get('type')})")
        except KeyError as missing:
            raise ValueError(f"layer {i} ({layer.get('type')}): missing key {missing}") from None
        out.append(made)
        shape = made[1]
    return out


def shapes(arch: Architecture) -> list[tuple[int, ...]]:
    """Output shape of every layer (validating the architecture on the way)."""
    return [shape for _, shape, _ in _walk(arch)]


def num_params(arch: Architecture) -> int:
    """Number of trainable parameters, computed from the shapes (no module is built)."""
    return sum(n for _, _, n in _walk(arch))


def depth(arch: Architecture) -> int:
    """Number of weight layers (convolutions and linear layers)."""
    return sum(layer["type"] in WEIGHT_LAYERS for layer in arch.layers)


class Network(nn.Module):
    """A built architecture: ``features`` (all but the last layer) then ``classifier``."""

    def __init__(self, body: list[nn.Module], classifier: nn.Linear):
        super().__init__()
        self.body = nn.Sequential(*body)
        self.classifier = classifier

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features [N, D]: the classifier's input."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch."""
        return self.classifier(self.body(x))


def build(arch: Architecture) -> Network:
    """Build the `Network` of an architecture; ValueError naming the layer if it is invalid."""
    modules = [make() for make, _, _ in _walk(arch)]
    return Network(modules[:-1], modules[-1])


def from_sequential(model: nn.Module, input_shape) -> Architecture:
    """The `Architecture` of a ``torch.nn.Sequential`` of supported layers (nested
    Sequentials are flattened): Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, Dropout, ReLU,
    Sigmoid, Tanh, Flatten, AdaptiveAvgPool2d(1) followed by Flatten (global average
    pooling) and Linear, the last layer being the Linear classifier. ValueError naming the
    first unsupported layer (its position and class) and what is supported.

    >>> from torch import nn
    >>> model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(288, 10))
    >>> arch = from_sequential(model, (1, 8, 8))
    >>> [layer["type"] for layer in arch.layers], num_params(arch), depth(arch)
    (['conv', 'relu', 'flatten', 'linear'], 2970, 2)
    """
    modules = _flatten(model)
    layers: list[dict[str, Any]] = []
    i = 0
    while i < len(modules):
        module, where = modules[i], f"layer {i} ({type(modules[i]).__name__})"
        nxt = modules[i + 1] if i + 1 < len(modules) else None
        if _is_global_pool(module) and isinstance(nxt, nn.Flatten):
            layers.append({"type": "global_avg_pool"})
            i += 2
            continue
        layers.append(_layer_of(module, where))
        i += 1
    if not layers or layers[-1]["type"] != "linear":
        raise ValueError("the last layer must be the nn.Linear classifier")
    arch = Architecture(tuple(input_shape), layers[-1]["out_features"], tuple(layers))
    shapes(arch)  # the widths must fit together: ValueError naming the layer otherwise
    return arch


SUPPORTED_MODULES = (
    "Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, Dropout, ReLU, Sigmoid, Tanh, Flatten,"
    " AdaptiveAvgPool2d(1) + Flatten, Linear"
)


def _flatten(model: nn.Module) -> list[nn.Module]:
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"expected a torch.nn.Sequential, got {type(model).__name__}")
    out = []
    for module in model:
        out += _flatten(module) if isinstance(module, nn.Sequential) else [module]
    return out


def _is_global_pool(module: nn.Module) -> bool:
    return isinstance(module, nn.AdaptiveAvgPool2d) and module.output_size in (1, (1, 1))


def _xy(value) -> list[int]:
    """torch's (height, width) as this vocabulary's [width, height]."""
    h, w = (value, value) if isinstance(value, int) else value
    return [int(w), int(h)]


def _layer_of(module: nn.Module, where: str) -> dict[str, Any]:
    """The layer dict of one supported module."""
    for kind, cls in ACTIVATIONS.items():
        if type(module) is cls:
            return {"type": kind}
    if (
        isinstance(module, nn.Conv2d)
        and module.dilation == (1, 1)
        and module.padding_mode == "zeros"
    ):
        if isinstance(module.padding, str):
            raise ValueError(f"{where}: padding={module.padding!r}; give padding as numbers")
        return {
            "type": "conv",
            "out_channels": module.out_channels,
            "kernel": _xy(module.kernel_size),
            "stride": _xy(module.stride),
            "padding": _xy(module.padding),
            "groups": module.groups,
            "bias": module.bias is not None,
        }
    pools = {nn.MaxPool2d: "maxpool", nn.AvgPool2d: "avgpool"}
    if type(module) in pools and not getattr(module, "ceil_mode", False):
        if getattr(module, "dilation", 1) not in (1, (1, 1)):
            raise ValueError(f"{where}: dilated pooling is not supported")
        stride = module.stride if module.stride is not None else module.kernel_size
        return {
            "type": pools[type(module)],
            "kernel": _xy(module.kernel_size),
            "stride": _xy(stride),
            "padding": _xy(module.padding),
        }
    if type(module) is nn.BatchNorm2d and module.affine:
        return {"type": "batchnorm"}
    if type(module) is nn.Dropout:
        return {"type": "dropout", "p": module.p}
    if type(module) is nn.Flatten and module.start_dim == 1 and module.end_dim == -1:
        return {"type": "flatten"}
    if type(module) is nn.Linear and module.bias is not None:
        return {"type": "linear", "out_features": module.out_features}
    raise ValueError(f"{where} is not supported; supported: {SUPPORTED_MODULES}")


def vgg_style(input_shape, num_classes: int, width: int, stages: int = 3, convs: int = 2):
    """A VGG-style reference network: `stages` stages of `convs` 3×3 conv-BN-ReLU and 2×2 max
    pooling (widths w, 2w, 4w, ...), global average pooling, a linear classifier."""
    layers = []
    for stage in range(stages):
        for _ in range(convs):
            layers += [
                {"type": "conv", "kernel": 3, "padding": 1, "out_channels": width * 2**stage},
                {"type": "batchnorm"},
                {"type": "relu"},
            ]
        layers.append({"type": "maxpool", "kernel": 2, "stride": 2})
    layers += [{"type": "global_avg_pool"}, {"type": "linear", "out_features": num_classes}]
    return Architecture(tuple(input_shape), num_classes, layers)
