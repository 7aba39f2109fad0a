"""The search replay charges every epoch, including the full training of the networks a
predictor learns from, and never lets a predictor score a network it was fitted on."""

import numpy as np
import pandas as pd
import pytest

from common import compare, search
from common.compare import Predictor, Requirements


class Spy(Predictor):
    """Records the networks it learns from and those it scores (and how far it saw them)."""

    requires = Requirements(training_networks=True, curve=True, min_evals=1)
    log: list = []

    def fit(self, zoo, budget):
        self.fitted_on_ = set(zoo.table["idx"])
        Spy.log.append(("fit", self.fitted_on_, budget))
        return self

    def predict(self, zoo, budget):
        Spy.log.append(("predict", set(zoo.table["idx"]), zoo.eval_epochs.max()))
        assert zoo.eval_epochs.max() <= budget + 1e-9  # truncated where it is queried
        return zoo.curve("val_acc")[:, -1]


def test_a_fitted_signal_is_charged_in_full_and_never_scores_its_own_networks(probe_zoo):
    ok = probe_zoo.finished()
    truth = ok.target("final_val_acc")
    Spy.log.clear()
    runs = search.replay_searches(
        ok, {"spy": search.Fitted(Spy(), fit_size=4)}, truth, orderings=2, eta=2
    )
    # R = 2, η = 2 (Li et al., Algorithm 1): s_max = 1; bracket s = 1 runs 2 networks for
    # 1 epoch and the better for 2 (4 epochs), bracket s = 0 runs 2 networks for 2 (4): 8
    # epochs of search, plus the 4 training networks trained fully, 4 × 2 = 8.
    spy = runs[runs.search == "Hyperband[spy]"]
    assert list(spy.epochs) == [16, 16] and list(spy.fit_epochs) == [8, 8]
    plain = runs[runs.search == "random search (full training)"]
    assert (plain.fit_epochs == 0).all()
    fits = [entry for entry in Spy.log if entry[0] == "fit"]
    scored = [entry for entry in Spy.log if entry[0] == "predict"]
    assert len(fits) == 2 and len(scored) == 2 * 2  # one fit per ordering; epochs 1 and 2
    for o, (_, fitted_on, _) in enumerate(fits):
        first = np.random.default_rng(o).permutation(len(ok))[:4]
        assert fitted_on == set(ok.table["idx"].iloc[first])
        for _, networks, _ in scored[2 * o : 2 * o + 2]:
            assert not networks & fitted_on and len(networks) == len(ok) - 4


def test_the_training_networks_stay_candidates(probe_zoo):
    ok = probe_zoo.finished()
    truth = ok.target("final_val_acc")
    # a predictor that ranks every searched network last: the search keeps the best of its
    # fully trained training networks, or one of its own full-budget trials
    runs = search.replay_searches(
        ok, {"spy": search.Fitted(Spy(), fit_size=len(ok) - 2)}, truth, orderings=1, eta=2
    )
    row = runs[runs.search == "Hyperband[spy]"].iloc[0]
    first = np.random.default_rng(0).permutation(len(ok))[: len(ok) - 2]
    assert row.regret <= np.nanmax(truth) - truth[first].max() + 1e-12
    with pytest.raises(ValueError, match="expected"):
        search.replay_searches(ok, {"bad": np.zeros((2, 2))}, truth, orderings=1)


def test_replayed_searches_in_workers_equal_those_in_one_process(probe_zoo):
    """One ordering per worker gives the rows one process gives (Optuna's pruner, a fitted
    signal and a stopping rule included)."""
    ok = probe_zoo.finished()
    truth = ok.target("final_val_acc")
    signals = {"last": ok.curve("val_acc"), "fitted": search.Fitted(compare.LastSeenValue(), 3)}
    rules = {"stop at 1": (np.ones(len(ok)), truth)}
    kw = {"orderings": 3, "eta": 2, "rules": rules, "seed": 5}
    one = search.replay_searches(ok, signals, truth, **kw)
    two = search.replay_searches(ok, signals, truth, **kw, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert sorted(set(one.ordering)) == [0, 1, 2]
