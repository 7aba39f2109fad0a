"""Baker, Gupta, Raskar, Naik, "Accelerating Neural Architecture Search using Performance
Prediction" (ICLR 2018 workshop): sequential regression models on partial curves, architecture
and hyperparameters, with early stopping and f-Hyperband.

Paper text: ../shared/papers/ (index in its README). This package is filled in by its own
issue.
"""
