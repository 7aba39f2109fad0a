"""The Small CNN's one architecture (Unterthiner et al., Sec. 4.1, Appendix A.1), shared by
the zoo family (`weights_to_acc.family`) and the batched trainer (`weights_to_acc.batched`),
which both need its layout and neither needs the other's internals."""

from __future__ import annotations

from common import archs

ACTIVATIONS = ("relu", "tanh")
FILTERS, N_CONV = 16, 3


def architecture(
    input_shape,
    num_classes: int,
    activation: str = "relu",
    dropout: float = 0.0,
    filters: int = FILTERS,
):
    """The Small CNN: (conv 3×3/2, 16 filters → activation → dropout) × 3, GAP, dense.
    Other `filters` give the wider variants of the transfer study (Table 4's ×2, ×4)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r}: expected one of {ACTIVATIONS}")
    layers = []
    for _ in range(N_CONV):
        layers += [
            {"type": "conv", "kernel": 3, "stride": 2, "padding": 1, "out_channels": filters},
            {"type": activation},
            {"type": "dropout", "p": float(dropout)},
        ]
    layers += [{"type": "global_avg_pool"}, {"type": "linear", "out_features": num_classes}]
    return archs.Architecture(tuple(input_shape), num_classes, layers)


def describe(arch: archs.Architecture) -> tuple[str, float]:
    """(activation, dropout) of a Small CNN (any width); ValueError if `arch` is not one."""
    try:
        activation, dropout = arch.layers[1]["type"], float(arch.layers[2].get("p", 0.0))
        filters = int(arch.layers[0]["out_channels"])
        reference = architecture(arch.input_shape, arch.num_classes, activation, dropout, filters)
        same = list(arch.layers) == list(reference.layers)
    except (IndexError, KeyError, ValueError):
        same = False
    if not same:
        raise ValueError(
            "not a smallcnn architecture: expected (conv 3×3/2 16, activation, dropout) × 3, "
            "global_avg_pool, linear, with one activation and one dropout rate throughout"
        )
    return activation, dropout
