"""Deng et al., "Peephole: Predicting Network Performance Before Training" (2017): predicting
a network's accuracy from its architecture alone, before training.

Modules: `ulc` (Unified Layer Code, Sec. 3.1, Table 1), `blocks` (block-based generation,
Sec. 4.1 and the appendix's transition matrix; zoo family ``blocks``), `model` (the LSTM
predictor, Sec. 3 and 5.1), `predictor` (`PeepholePredictor`) and `experiments` (the
replication's tables and studies, Sec. 5; the notebook ``replication.ipynb`` calls them).
Paper text: ../shared/papers/000_6c8989328307a429.txt.
"""

from common.plugins import lazy_exports

# entry points, imported on first use
__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "PeepholePredictor": "peephole.predictor",
        "PeepholeConfig": "peephole.model",
        "Peephole": "peephole.model",
        "encode": "peephole.ulc",
    },
)
