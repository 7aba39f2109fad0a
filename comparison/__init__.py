"""The cross-comparison chapter (`book/compare.ipynb`): every method on the same two zoos.

- `comparison.settings`: the chapter's scales (one frozen keyword dataclass), its zoos and
  budgets;
- `comparison.experiments`: the methods (keyed by identifier, built with the settings their
  own chapters use), the protocol run over both zoos, the simulated searches charged in full;
- `comparison.report`: the cost map, the decision table and each paper's claim.

It imports every paper package; no paper package imports it.
"""

from comparison.experiments import METHODS, by_phase, evaluate_spaces, methods, searches
from comparison.report import claims, cost_map, decision_table
from comparison.settings import SCALES, Scale, budgets, scale_of, zoo_specs

__all__ = [
    "METHODS",
    "SCALES",
    "Scale",
    "budgets",
    "by_phase",
    "claims",
    "cost_map",
    "decision_table",
    "evaluate_spaces",
    "methods",
    "scale_of",
    "searches",
    "zoo_specs",
]
