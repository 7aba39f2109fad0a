"""`SRMPruner`: Baker et al.'s early-stopping rule as an Optuna pruner (Sec. 4, issue 18).

Once `min_trials` trials have completed, a sequential regression model on the time-series
features of their reported curves (the TS features of `srm_earlystop.features`, fitted at
τ = the number of values the running trial has reported, with the leave-one-out σ of
Appendix E) predicts the running trial's final value ŷ with σ; the trial is pruned when the
probability that it ends below the best completed value, Φ(y_best − δ; ŷ, σ), reaches Δ
(`srm_earlystop.early_stopping.should_stop`, the rule the replayed searches use). Before
`min_trials` completions nothing is pruned. Models are refitted only when the completed set
or τ changes.

    study = optuna.create_study(direction="maximize", pruner=SRMPruner(min_trials=10))
"""

from __future__ import annotations

import numpy as np

from common.search import import_optuna
from srm_earlystop.early_stopping import should_stop
from srm_earlystop.srm import SRM

optuna = import_optuna()


class SRMPruner(optuna.pruners.BasePruner):
    """Prune a trial when an SRM says it will most likely end below the best so far.

    Args:
        threshold: Δ, the probability of ending below the best at which to prune (0.95).
        min_trials: completed trials needed before the first model (their curves train it).
        regressor: a key of `srm_earlystop.regressors.REGRESSORS` (ν-SVR, the paper's best).
        n_search: random-search configurations per fit.
        delta: δ, a margin below the best value.
        seed: seeds the model search.
    """

    def __init__(
        self,
        threshold: float = 0.95,
        min_trials: int = 10,
        regressor: str = "nu_svr_rbf",
        n_search: int = 20,
        delta: float = 0.0,
        seed: int = 0,
    ):
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold={threshold!r}: expected Δ in (0, 1]")
        if not (isinstance(min_trials, int) and min_trials >= 4):
            raise ValueError(f"min_trials={min_trials!r}: expected an integer >= 4")
        SRM(regressor)  # refuses an unknown regressor now
        self.threshold, self.min_trials, self.regressor = threshold, min_trials, regressor
        self.n_search, self.delta, self.seed = n_search, delta, seed
        self._models: dict[tuple, SRM] = {}

    def model(self, completed: list, tau: int) -> SRM | None:
        """The SRM at τ trained on the completed trials that reported at least τ values
        (None while fewer than `min_trials` have)."""
        usable = [t for t in completed if len(t.intermediate_values) >= tau]
        if len(usable) < self.min_trials:
            return None
        key = (tau, frozenset(t.number for t in usable))
        if key not in self._models:
            curves = np.array([_curve(t)[:tau] for t in usable])
            target = np.array([t.value for t in usable])
            srm = SRM(self.regressor, self.n_search, ("TS",), seed=self.seed)
            self._models[key] = srm.fit(curves, None, target, [tau])
            while len(self._models) > 16:  # the most recent fits only
                self._models.pop(next(iter(self._models)))
        return self._models[key]

    def prune(self, study, trial) -> bool:
        """Whether to stop `trial` now (Optuna calls this from ``trial.should_prune``)."""
        if study.direction != optuna.study.StudyDirection.MAXIMIZE:
            raise ValueError("SRMPruner predicts the final value of a maximised objective")
        tau = len(trial.intermediate_values)
        if tau == 0:
            return False
        completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        srm = self.model(completed, tau)
        if srm is None:
            return False
        mean, sigma = srm.predict(_curve(trial)[None, :tau], None, tau)
        best = max(t.value for t in completed)
        return bool(should_stop(best, mean, sigma, self.threshold, self.delta)[0])


def _curve(trial) -> np.ndarray:
    """A trial's reported values in step order."""
    return np.array([v for _, v in sorted(trial.intermediate_values.items())], dtype=float)


class LCEPruner(optuna.pruners.BasePruner):
    """A learning-curve-extrapolation baseline (`srm_earlystop.lce`, Domhan et al. by least
    squares): prune a trial whose reported curve, extrapolated to step `max_steps`, ends
    below the best completed value minus `margin`. No σ: a cruder rule than `SRMPruner`.

    Args:
        max_steps: the step at which a trial ends (its full budget).
        min_steps: reports needed before the first extrapolation (the LCE needs 3).
        margin: how far below the best an extrapolation must end to prune.
    """

    def __init__(self, max_steps: int, min_steps: int = 3, margin: float = 0.0):
        if not (isinstance(max_steps, int) and max_steps >= 1):
            raise ValueError(f"max_steps={max_steps!r}: expected an integer >= 1")
        if not (isinstance(min_steps, int) and min_steps >= 3):
            raise ValueError(f"min_steps={min_steps!r}: expected an integer >= 3")
        self.max_steps, self.min_steps, self.margin = max_steps, min_steps, margin

    def prune(self, study, trial) -> bool:
        """Whether to stop `trial` now (Optuna calls this from ``trial.should_prune``)."""
        from srm_earlystop.lce import extrapolate

        if study.direction != optuna.study.StudyDirection.MAXIMIZE:
            raise ValueError("LCEPruner extrapolates a maximised objective")
        steps = sorted(trial.intermediate_values)
        completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if len(steps) < self.min_steps or not completed:
            return False
        final = extrapolate(steps, _curve(trial), self.max_steps)
        return bool(final < max(t.value for t in completed) - self.margin)  # NaN: no
