"""Optuna pruners (issue 18): on synthetic studies whose final values are known, each
prunes a trial that cannot win and never the eventual best; PEng4NN's pruner stops a trial
at the epoch the replayed engine stops the same curve."""

from __future__ import annotations

import numpy as np
import pytest

from common.search import import_optuna

optuna = import_optuna()
optuna.logging.set_verbosity(optuna.logging.WARNING)


def saturating(final: float, rate: float, steps: int) -> np.ndarray:
    """A learning curve rising to `final` (fractions), one value per step."""
    return final * (1 - np.exp(-rate * np.arange(1, steps + 1)))


def run_study(pruner, curves: list[np.ndarray], finals=None) -> dict[int, int | None]:
    """Trial i reports curves[i] step by step and returns finals[i] (default: the curve's
    last value); the step it was pruned at (None: finished)."""
    pruned: dict[int, int | None] = {}

    def objective(trial):
        curve = curves[trial.number]
        for step, value in enumerate(curve, 1):
            trial.report(float(value), step)
            if trial.should_prune():
                pruned[trial.number] = step
                raise optuna.TrialPruned()
        pruned[trial.number] = None
        return float(curve[-1] if finals is None else finals[trial.number])

    study = optuna.create_study(direction="maximize", pruner=pruner)
    study.optimize(objective, n_trials=len(curves))
    return pruned


def test_peng4nn_pruner_prunes_a_flat_loser_where_the_replayed_engine_stops_it():
    from peng4nn import replay
    from peng4nn.pruner import PEng4NNPruner

    steps = 40  # e_max 20 epochs, a report every half epoch
    good, loser, best = saturating(0.9, 0.4, steps), saturating(0.5, 0.6, steps), None
    best = saturating(0.97, 0.3, steps)
    pruned = run_study(PEng4NNPruner(epochs_per_step=0.5), [good, loser, best])
    assert pruned[0] is None and pruned[2] is None  # the first and the eventual best finish
    assert pruned[1] is not None and pruned[1] < steps  # the loser stops early
    epochs = 0.5 * np.arange(1, steps + 1)
    engine = replay(epochs, 100 * loser, np.zeros(steps))
    assert engine.decision.stop and engine.decision.converged
    assert pruned[1] * 0.5 == engine.decision.epoch  # the same epoch as the replay


def test_peng4nn_pruner_refuses_what_it_cannot_read():
    from dataclasses import replace

    from peng4nn.analyzer import TABLE_II
    from peng4nn.pruner import PEng4NNPruner

    with pytest.raises(ValueError, match="loss_check=False"):
        PEng4NNPruner(replace(TABLE_II, loss_check=True))
    with pytest.raises(ValueError, match="unit='percentage'"):
        PEng4NNPruner(unit="percentage")
    study = optuna.create_study(direction="minimize", pruner=PEng4NNPruner())
    trial = study.ask()
    trial.report(0.5, 1)
    with pytest.raises(ValueError, match="the study must maximize"):
        trial.should_prune()


def test_srm_pruner_prunes_a_trial_that_cannot_win_and_never_the_best():
    from srm_earlystop.pruner import SRMPruner

    rng = np.random.default_rng(0)
    steps, finals, rates = 12, rng.uniform(0.2, 0.85, 20), rng.uniform(0.3, 0.8, 20)
    history = [saturating(f, r, steps) for f, r in zip(finals, rates, strict=True)]
    loser, best = saturating(0.2, 0.5, steps), saturating(0.97, 0.5, steps)
    pruned = run_study(SRMPruner(min_trials=10, n_search=10), [*history, loser, best])
    assert all(pruned[i] is None for i in range(10))  # nothing pruned before 10 completions
    assert pruned[20] is not None and pruned[20] < steps  # ends at 0.2: cannot win
    assert pruned[21] is None  # the eventual best is never pruned
    winners = [i for i in range(20) if finals[i] >= max(finals[:i], default=0)]
    assert all(pruned[i] is None for i in winners)  # nor any trial that became the best
    with pytest.raises(ValueError, match="min_trials=2: expected an integer >= 4"):
        SRMPruner(min_trials=2)


def test_lce_pruner_prunes_a_loser_and_never_the_best():
    from srm_earlystop import LCEPruner

    steps = 12
    curves = [
        saturating(0.8, 0.5, steps),
        saturating(0.3, 0.5, steps),
        saturating(0.95, 0.4, steps),
    ]
    pruned = run_study(LCEPruner(max_steps=steps), curves)
    assert pruned[0] is None and pruned[2] is None
    assert pruned[1] is not None and pruned[1] < steps
    with pytest.raises(ValueError, match="min_steps=2: expected an integer >= 3"):
        LCEPruner(steps, min_steps=2)


def test_srm_pruner_decides_as_the_replayed_rule_while_its_training_set_is_the_same():
    """The replayed search of the chapters (`srm_earlystop.experiments.stopping_predictions`
    and `should_stop`: SRMs fitted once on the first m networks) and the pruner (refitted on
    every completed trial) stop the same networks at the same step, on the same curves of
    the shipped MetaQNN zoo, up to the first network the rule lets finish (after which the
    pruner also learns from it). The replay is told to read the curve alone, as the pruner
    does."""
    from common import zoo
    from srm_earlystop import experiments
    from srm_earlystop.early_stopping import should_stop
    from srm_earlystop.pruner import SRMPruner

    spec = experiments.zoo_spec("digits", "book")
    z = experiments.finished(zoo.load(zoo.shipped_path(spec))).subset(np.arange(40))
    m, ordering, n_search = 6, 4, 3  # an ordering whose rule stops six networks early
    order, means, sigmas = experiments.stopping_predictions(
        z, m, n_search, ordering, "nu_svr_rbf", feature_sets=("TS",)
    )
    curves, target, T = z.curve("val_acc"), z.target("final_val_acc"), len(z.eval_epochs)
    best, replayed = float(target[order[:m]].max()), []
    for j in range(len(order) - m):  # the step each later network stops at (None: finishes)
        stop = should_stop(best, means[j], sigmas[j], 0.95)
        replayed.append(int(np.argmax(stop)) + 1 if stop.any() else None)
        if replayed[-1] is None:
            break
    shown = order[: m + len(replayed)]
    pruner = SRMPruner(min_trials=m, n_search=n_search, seed=ordering)
    pruned = run_study(pruner, [curves[i] for i in shown], target[shown])
    live = [None if pruned[m + j] in (None, T) else pruned[m + j] for j in range(len(replayed))]
    assert live == replayed
    assert any(step is not None for step in replayed)  # the rule stopped some network early
