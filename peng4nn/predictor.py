"""`PEng4NNPredictor`: the engine as a `common.compare.Predictor`.

It needs no trained networks. At budget b it replays the engine over each network's curve up
to b; the estimate is the engine's latest (its converged A_P if it stopped, else the latest
fitted a_P, else the last observed accuracy). `stop_epochs_` holds, after `predict`, the epoch
at which the engine's own stopping rule fired (NaN where it had not fired within b).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from common.compare import Predictor, Requirements
from common.parallel import delayed, parallel
from common.zoo import Zoo
from peng4nn.analyzer import TABLE_II, AnalyzerSettings
from peng4nn.engine import replay, to_fraction, to_percent


def replay_zoo(zoo: Zoo, settings: AnalyzerSettings = TABLE_II, n_jobs: int = 1) -> pd.DataFrame:
    """Replay the engine over every network of `zoo` (as far as it is visible), in `n_jobs`
    worker processes (joblib; -1: one per core; the table is the same as with 1).

    Returns:
        One row per network: ``estimate`` (fraction), ``converged``, ``stopped``,
        ``stop_epoch`` (epoch of the last observation the engine used).
    """
    val_acc, val_loss = to_percent(zoo.curve("val_acc")), zoo.curve("val_loss")
    curves = list(zip(val_acc, val_loss, strict=True))
    chunks = np.array_split(np.arange(len(curves)), max(1, min(len(curves), 4 * abs(n_jobs))))
    parts = parallel(
        (
            delayed(_replay_curves)([curves[i] for i in c], zoo.eval_epochs, settings)
            for c in chunks
            if len(c)
        ),
        n_jobs,
    )
    rows = [row for part in parts for row in part]
    return pd.DataFrame(rows, index=zoo.table.index, columns=REPLAY_COLUMNS)


REPLAY_COLUMNS = ["estimate", "converged", "stopped", "stop_epoch"]


def _replay_curves(curves, eval_epochs, settings: AnalyzerSettings) -> list[dict]:
    """The engine's final decision on each (accuracy %, loss) curve."""
    rows = []
    for acc, loss in curves:
        seen = np.isfinite(acc) & np.isfinite(loss)  # a diverged curve ends early
        engine = replay(eval_epochs[seen], acc[seen], loss[seen], settings)
        d = engine.decision
        rows.append(
            {
                "estimate": np.nan if d is None else float(to_fraction(d.estimate)),
                "converged": d is not None and d.converged,
                "stopped": d is not None and d.stop,
                "stop_epoch": np.nan if d is None else d.epoch,
            }
        )
    return rows


class PEng4NNPredictor(Predictor):
    """PEng4NN's estimate at the budget (Sec. III)."""

    requires = Requirements(curve=True, min_evals=1)
    query_cost = 0.75  # a curve fit per network and evaluation (`common.compare._cost`)

    def __init__(self, settings: AnalyzerSettings = TABLE_II):
        self.settings = settings

    def fit(self, zoo: Zoo, budget: float) -> PEng4NNPredictor:
        """Nothing to learn: the engine fits each curve on its own."""
        self.budget_ = budget
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """The engine's estimate per network at the budget; records `stop_epochs_`."""
        replayed = replay_zoo(zoo, self.settings)
        self.stop_epochs_ = np.where(replayed["stopped"], replayed["stop_epoch"], np.nan)
        return replayed["estimate"].to_numpy(float)
