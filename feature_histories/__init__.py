"""Cao, Wang, Kitani, "Efficient Model Performance Estimation via Feature Histories": proxy
classifiers fitted on the penultimate features of the last K epochs.

Paper text: ../shared/papers/ (index in its README). This package is filled in by its own
issue.
"""
