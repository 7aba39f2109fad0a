"""PEng4NN ("an accurate performance estimation engine for efficient automated neural network
architecture search"): extrapolating a network's own partial validation-accuracy curve to decide
when its final accuracy is known.

Paper text: ../shared/papers/ (index in its README). This package is filled in by its own
issue.
"""
