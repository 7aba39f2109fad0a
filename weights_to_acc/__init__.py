"""Unterthiner et al., "Predicting Neural Network Accuracy from Weights" (2020): the Small
CNN Zoo and accuracy predictors that read only a trained network's weights.

Modules: `family` (the ``smallcnn`` zoo family, Sec. 4.1, Appendix A.1–A.2), `batched`
(many Small CNNs trained at once with `torch.func.vmap`, equal to the one-at-a-time
trainer). Paper text: ../shared/papers/004_67480301844350ba.txt.
"""

# Entry points, imported on first use (PEP 562) so that importing the package stays cheap
# and worker processes that only need its zoo family do not load the rest.
_EXPORTS = {
    "WeightsPredictor": "weights_to_acc.predictor",
    "layer_statistics": "weights_to_acc.features",
    "fit": "weights_to_acc.predictors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import an entry point of `__all__` from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_EXPORTS[name]), name)
