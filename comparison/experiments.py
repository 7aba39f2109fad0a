"""The cross-comparison's computations: which methods, measured how, searched how.

Every method is measured through `common.compare.evaluate` on both zoos, with the settings
its own chapter uses where the method has settings (PEng4NN's analyzer: Table II with e_max
the zoo's epochs and the never-learn level the training split's majority share, as
`peng4nn.experiments.settings_for` gives the PEng4NN chapter; the feature-history probe keeps
the paper's K = 10 epochs, two thirds of the 15-epoch book runs, which the shipped zoos were built
with; the Cao chapter keeps K = 2 of 10). The simulated searches go through
`common.search.replay_searches`, which charges every epoch, including the full training of
the networks a predictor learns from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from common import compare, data, metrics, search
from common.parallel import delayed, parallel
from common.zoo import Zoo
from comparison.settings import Scale
from feature_histories.probe import FeatureHistoryPredictor
from feature_histories.proxy import KINDS
from peephole.model import PeepholeConfig
from peephole.predictor import PeepholePredictor
from peng4nn.experiments import settings_for
from peng4nn.predictor import PEng4NNPredictor, replay_zoo
from srm_earlystop.experiments import rule_search as srm_rule
from srm_earlystop.lce import LCEPredictor
from srm_earlystop.predictor import SRMPredictor
from weights_to_acc.predictor import WeightsPredictor

# id -> when it is measured: "during" training (every budget) or "before" (budget 0 only:
# architecture-only methods, whose prediction does not change with the budget)
METHODS = {
    "srm": "during",
    "srm_blr": "during",
    "peng4nn": "during",
    "feature_histories": "during",
    "last_seen": "during",
    "weights_gbm": "during",
    "lce": "during",
    "peephole": "before",
    "param_depth": "before",
}


def peng4nn_settings(s: Scale, dataset: str | None = None):
    """The PEng4NN chapter's analyzer settings for this comparison's dataset and epochs."""
    dataset = dataset or s.dataset
    return settings_for(dataset, data.load(dataset).class_freq, s.epochs)


def methods(s: Scale, device="auto", seed: int = 0, dataset: str | None = None) -> dict:
    """id -> an unfitted `common.compare.Predictor`, for every id of `METHODS`."""
    peephole = PeepholeConfig(epochs=s.predictor_epochs, seed=seed)
    return {
        "srm": SRMPredictor("nu_svr_rbf", s.n_search, seed=seed),
        "srm_blr": SRMPredictor("blr", s.n_search, seed=seed),
        "peng4nn": PEng4NNPredictor(peng4nn_settings(s, dataset)),
        "feature_histories": FeatureHistoryPredictor(),
        "last_seen": compare.LastSeenValue(),
        "weights_gbm": WeightsPredictor("gbm", s.n_search, seed),
        "lce": LCEPredictor(),
        # dropout layers are the identity at test time and have no ULC code (Table 1)
        "peephole": PeepholePredictor(peephole, device, ("dropout",)),
        "param_depth": compare.ParamDepthRegression(),
    }


def by_phase(predictors: dict, phase: str) -> list:
    """The predictors measured `phase` ("during" training or "before" it: budget 0)."""
    if phase not in {"during", "before"}:
        raise ValueError(f"unknown phase {phase!r}; expected 'during' or 'before'")
    return [p for k, p in predictors.items() if METHODS[k] == phase]


def evaluate_spaces(
    zoos: dict[str, Zoo], s: Scale, predictors: dict, budgets, n_jobs: int = -1
) -> pd.DataFrame:
    """`common.compare.evaluate` on every zoo (search space): the methods measured during
    training at every budget, the architecture-only ones at budget 0, over the scale's
    random splits, in `n_jobs` worker processes (-1: one per core). One flat table with
    ``space`` and ``method_id`` columns."""
    during, before = by_phase(predictors, "during"), by_phase(predictors, "before")
    ids = {p.name: k for k, p in predictors.items()}
    kw = {"train_size": s.train_sizes, "seed": s.seeds}
    calls = [
        {"predictors": methods, "zoo": z, "budgets": b, **kw}
        for z in zoos.values()
        for methods, b in [(during, budgets), (before, [0])]
    ]
    tables = iter(compare.evaluate_many(calls, n_jobs))  # one pool for every zoo and phase
    parts = {space: pd.concat([next(tables), next(tables)], ignore_index=True) for space in zoos}
    table = pd.concat(parts, names=["space"]).reset_index(level=0).reset_index(drop=True)
    table["method_id"] = table["method"].map(ids)
    return table


def fit_size(s: Scale) -> int:
    """Networks a learned search rule trains fully before it predicts: half the largest
    training size, for the SRM rule and the weights GBM alike."""
    return max(s.train_sizes) // 2


def engine_replays(zoos: dict[str, Zoo], s: Scale, dataset: str | None = None) -> dict:
    """PEng4NN's engine replayed once over every zoo's finished networks, with its chapter's
    settings (`peng4nn.predictor.replay_zoo`): the stopping rule of the searches and the
    table of `engine_alone` both read these."""
    settings = peng4nn_settings(s, dataset)
    return {space: replay_zoo(z.finished(), settings, n_jobs=-1) for space, z in zoos.items()}


def signals_and_rules(z: Zoo, s: Scale, engine: pd.DataFrame, seed: int = 0):
    """The Hyperband signals (the last seen value, the weights GBM fitted inside each
    ordering, the feature-history ensemble) and the stopping rules (PEng4NN's engine, from
    its replay `engine`) of one finished zoo."""
    gbm = search.Fitted(WeightsPredictor("gbm", s.n_search, seed), fit_size(s))
    signals = {
        "last seen value": z.curve("val_acc"),
        "weights GBM": gbm,
        "feature histories": z.probe("fh")[..., KINDS.index("ensemble")],
    }
    stops = np.where(engine.stopped, engine.stop_epoch, np.nan)
    return signals, {"PEng4NN rule": (stops, engine.estimate.to_numpy())}


def searches(zoos: dict[str, Zoo], s: Scale, engines: dict, seed: int = 0) -> pd.DataFrame:
    """Every simulated search on every zoo's finished networks, `s.orderings` orders each
    (`common.search.replay_searches`, plus Baker et al.'s SRM rule, Δ = 0.95, whose first
    `fit_size` networks train fully and train the SRMs); `engines` from `engine_replays`.
    One row per (space, search, ordering): selected network, regret, epochs charged, of
    which training a predictor."""
    parts = {}
    for space, z in zoos.items():
        ok = z.finished()
        signals, rules = signals_and_rules(ok, s, engines[space], seed)
        truth = ok.target("final_val_acc")
        replayed = search.replay_searches(
            ok, signals, truth, s.orderings, rules=rules, seed=seed, n_jobs=-1
        )
        n = fit_size(s)
        rules_run = parallel(
            (delayed(srm_rule)(ok, n, s.n_search, seed + o) for o in range(s.orderings)), -1
        )
        srm = [
            {"search": "SRM rule (Δ = 0.95)", "ordering": o, **got, "fit_epochs": n * s.epochs}
            for o, got in enumerate(rules_run)
        ]
        parts[space] = pd.concat([replayed, pd.DataFrame(srm)], ignore_index=True)
    return pd.concat(parts, names=["space"]).reset_index(level=0).reset_index(drop=True)


def search_summaries(runs: pd.DataFrame, zoos: dict[str, Zoo], s: Scale) -> pd.DataFrame:
    """`common.search.search_summary` per space (over its finished networks)."""
    parts = {
        space: search.search_summary(part, len(zoos[space].finished()), int(s.epochs))
        for space, part in runs.groupby("space", sort=False)
    }
    return pd.concat(parts, names=["space"]).reset_index(level=0).reset_index(drop=True)


def engine_alone(zoos: dict[str, Zoo], engines: dict, s: Scale) -> pd.DataFrame:
    """PEng4NN's engine on its own (`engines` from `engine_replays`), each network with its
    own stopping rule: the Kendall τ of its final estimates and the epochs it let each
    network train."""
    own = {}
    for space, z in zoos.items():
        engine = engines[space]
        used = np.where(engine.stopped, engine.stop_epoch, s.epochs)
        own[space] = {
            "Kendall τ of its estimates": metrics.kendall_tau(
                z.finished().target("final_val_acc"), engine.estimate.to_numpy()
            ),
            "epochs per network": used.mean(),
            "of full training": used.mean() / s.epochs,
        }
    return pd.DataFrame(own)
