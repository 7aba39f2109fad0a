"""Unterthiner, Keysers, Gelly, Bousquet, Tolstikhin, "Predicting Neural Network Accuracy from
Weights" (2020): predicting test accuracy from trained weights and their statistics.

Paper text: ../shared/papers/ (index in its README). This package is filled in by its own
issue.
"""
