"""Deng et al., "Peephole: Predicting Network Performance Before Training" (2017): predicting a
network's accuracy from its architecture alone, before training.

Paper text: ../shared/papers/ (index in its README). This package is filled in by its own
issue.
"""
