"""`PEng4NNPruner`: PEng4NN's engine as an Optuna pruner (issue 18).

Each trial reports its validation accuracy with ``trial.report(value, step)``; the pruner
feeds every new report to that trial's own `peng4nn.engine.Engine` (step × `epochs_per_step`
epochs trained) and prunes once the engine has stopped on a converged estimate (its fitted
asymptote is stable, Sec. III-C) that is below the best completed trial's value: a network
whose curve has flattened below the best so far will not win. A trial whose engine stops
at e_max without converging, or converges above the best, is never pruned. The engine sees
accuracies only, so its loss condition (condition 3, LOSS) must be off.

    study = optuna.create_study(direction="maximize", pruner=PEng4NNPruner())
"""

from __future__ import annotations

from common.search import import_optuna
from peng4nn.analyzer import TABLE_II, AnalyzerSettings
from peng4nn.engine import Engine

optuna = import_optuna()


class PEng4NNPruner(optuna.pruners.BasePruner):
    """Prune a trial once PEng4NN's converged estimate of it is below the best so far.

    Args:
        settings: the analyzer's settings (Table II by default; LOSS must stay off: the
            pruner sees no loss). ``max_epochs`` is e_max, the budget of one trial.
        epochs_per_step: epochs trained per reported step (step 1 is the first report).
        unit: how trials report accuracy: ``fraction`` (Optuna's usual) or ``percent``.
    """

    def __init__(
        self,
        settings: AnalyzerSettings = TABLE_II,
        epochs_per_step: float = 1.0,
        unit: str = "fraction",
    ):
        if settings.loss_check:
            raise ValueError(
                "PEng4NNPruner sees only the reported accuracies: pass settings with"
                " loss_check=False"
            )
        if not epochs_per_step > 0:
            raise ValueError(f"epochs_per_step={epochs_per_step!r}: expected epochs > 0")
        Engine(settings, unit)  # refuses an unknown unit now
        self.settings, self.epochs_per_step, self.unit = settings, epochs_per_step, unit
        self._engines: dict[int, tuple[Engine, set[int]]] = {}

    def engine(self, trial) -> Engine:
        """The trial's engine, fed every step reported so far (in step order)."""
        engine, fed = self._engines.setdefault(
            trial.number, (Engine(self.settings, self.unit), set())
        )
        for step, value in sorted(trial.intermediate_values.items()):
            if step in fed or (engine.decision is not None and engine.decision.stop):
                continue
            if step < 1:
                raise ValueError(
                    f"step {step}: PEng4NNPruner reads a step as the number of reports so far"
                    " (epochs = step × epochs_per_step); report from step 1"
                )
            engine.observe(step * self.epochs_per_step, value)  # LOSS is off: no loss
            fed.add(step)
        return engine

    def prune(self, study, trial) -> bool:
        """Whether to stop `trial` now (Optuna calls this from ``trial.should_prune``)."""
        if study.direction != optuna.study.StudyDirection.MAXIMIZE:
            raise ValueError("PEng4NNPruner estimates an accuracy: the study must maximize")
        engine = self.engine(trial)
        decision = engine.decision
        if decision is None or not (decision.stop and decision.converged):
            return False
        completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not completed:
            return False
        return engine.ceiling() < max(t.value for t in completed)  # in the trials' unit
