"""Ray Tune stoppers with the rules of nnperf's Optuna pruners (issue 18).

`PrunerStopper` gives Ray Tune any of the pruners (`peng4nn.pruner.PEng4NNPruner`,
`srm_earlystop.pruner.SRMPruner`, `srm_earlystop.pruner.LCEPruner`, or Optuna's own): each
result a trial reports feeds that trial's curve; a trial that reaches `max_iterations`
completes (its last value is its final value); any other trial is stopped when the pruner,
asked as Optuna would ask it, says prune. The decisions are the pruner's: the completed
trials sit in an in-memory Optuna study and the running trial is an Optuna trial with the
curve reported so far, so a search gets the same decisions under Ray Tune as under Optuna.

    from ray import tune
    from common.raytune import PrunerStopper
    from srm_earlystop.pruner import SRMPruner

    stopper = PrunerStopper(SRMPruner(min_trials=10), metric="val_acc", max_iterations=20)
    tune.Tuner(train_fn, run_config=tune.RunConfig(stop=stopper)).fit()

Ray is an optional extra (``pip install 'nnperf[ray]'``); this module needs it.
"""

from __future__ import annotations

import math

from common.search import import_optuna

try:
    from ray import tune
except ImportError as missing:  # the extra is not installed
    raise ImportError(
        "common.raytune needs Ray Tune: install the extra, pip install 'nnperf[ray]'"
    ) from missing

optuna = import_optuna()


class PrunerStopper(tune.Stopper):
    """Stop Ray Tune trials with an Optuna pruner's rule (the trials maximise `metric`).

    Args:
        pruner: an ``optuna.pruners.BasePruner`` (nnperf's or Optuna's).
        metric: the key of the reported result to follow (an accuracy, maximised).
        max_iterations: the ``training_iteration`` at which a trial has its whole budget;
            it then completes and its value becomes one the pruner compares with.
    """

    def __init__(self, pruner, metric: str, max_iterations: int):
        if not isinstance(pruner, optuna.pruners.BasePruner):
            raise TypeError(f"pruner={pruner!r}: expected an optuna.pruners.BasePruner")
        if not (isinstance(max_iterations, int) and max_iterations >= 1):
            raise ValueError(f"max_iterations={max_iterations!r}: expected an integer >= 1")
        self.pruner, self.metric, self.max_iterations = pruner, metric, max_iterations
        self.study = optuna.create_study(direction="maximize")  # the completed trials
        self._curves: dict[str, dict[int, float]] = {}
        self._numbers: dict[str, int] = {}  # a stable Optuna trial number per Tune trial
        self._done: set[str] = set()

    def __call__(self, trial_id: str, result: dict) -> bool:
        """Whether Tune should stop `trial_id` after this `result`."""
        if self.metric not in result:
            raise KeyError(
                f"the trial's result has no {self.metric!r} (the stopper's metric); it has "
                f"{sorted(k for k in result if not k.startswith('_'))}"
            )
        step, value = int(result["training_iteration"]), float(result[self.metric])
        if not math.isfinite(value):
            return False  # a NaN report: the pruners treat it as no information
        curve = self._curves.setdefault(trial_id, {})
        curve[step] = value
        if step >= self.max_iterations:
            if trial_id not in self._done:
                self._done.add(trial_id)
                self.study.add_trial(
                    optuna.trial.create_trial(value=value, intermediate_values=dict(curve))
                )
            return True
        running = optuna.trial.create_trial(
            state=optuna.trial.TrialState.RUNNING, intermediate_values=dict(curve)
        )
        # numbers after any the study can reach, so that pruners keyed by trial number
        # (PEng4NN's engine per trial) follow each Tune trial as it reports
        running.number = self._numbers.setdefault(trial_id, 1_000_000 + len(self._numbers))
        return bool(self.pruner.prune(self.study, running))

    def stop_all(self) -> bool:
        """Never stops the whole experiment."""
        return False
