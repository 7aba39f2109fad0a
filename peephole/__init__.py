"""Deng et al., "Peephole: Predicting Network Performance Before Training" (2017): predicting
a network's accuracy from its architecture alone, before training.

Modules: `ulc` (Unified Layer Code, Sec. 3.1, Table 1), `blocks` (block-based generation,
Sec. 4.1 and the appendix's transition matrix; zoo family ``blocks``), `model` (the LSTM
predictor, Sec. 3 and 5.1), `predictor` (`PeepholePredictor`) and `experiments` (the
replication's tables and studies, Sec. 5; the notebook ``replication.ipynb`` calls them).
Paper text: ../shared/papers/000_6c8989328307a429.txt.
"""

# Entry points, imported on first use (PEP 562) so that importing the package stays cheap
# and worker processes that only need its zoo family do not load the rest.
_EXPORTS = {
    "PeepholePredictor": "peephole.predictor",
    "PeepholeConfig": "peephole.model",
    "Peephole": "peephole.model",
    "encode": "peephole.ulc",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import an entry point of `__all__` from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_EXPORTS[name]), name)
