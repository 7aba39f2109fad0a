"""Deng et al., "Peephole: Predicting Network Performance Before Training" (2017): predicting
a network's accuracy from its architecture alone, before training.

Modules so far: `ulc` (Unified Layer Code, Sec. 3.1, Table 1), `blocks` (block-based
generation, Sec. 4.1 and the appendix's transition matrix; zoo family ``blocks``), `model`
(the LSTM predictor, Sec. 3 and 5.1) and `predictor` (`PeepholePredictor`). The replication
notebook and the inference benchmark are still to come (issue 6).
Paper text: ../shared/papers/000_6c8989328307a429.txt.
"""
