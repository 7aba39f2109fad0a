"""Ray Tune stoppers (issue 18): `common.raytune.PrunerStopper` makes each of nnperf's
pruners stop the same trials at the same steps as the Optuna study does on the same curves
(a second path through the rules), and a real Ray Tune run stops the loser and lets the best
finish. Ray is an optional extra: without it these tests skip."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ray.tune", reason="Ray Tune is an optional extra (nnperf[ray])")

from common.raytune import PrunerStopper  # noqa: E402
from tests.test_pruners import run_study, saturating  # noqa: E402


def replay_through_stopper(stopper: PrunerStopper, curves) -> dict[int, int | None]:
    """Trial i reports curves[i] one result at a time, as Tune calls a stopper (trials one
    after another, as the Optuna study runs them); the step it was stopped at (None: ran to
    its budget)."""
    stopped: dict[int, int | None] = {}
    for i, curve in enumerate(curves):
        stopped[i] = None
        for step, value in enumerate(curve, 1):
            stop = stopper(f"trial_{i}", {"training_iteration": step, "val_acc": float(value)})
            if stop and step < stopper.max_iterations:
                stopped[i] = step
                break
    return stopped


def test_each_pruner_stops_the_same_trials_at_the_same_steps_under_tune_and_optuna():
    from peng4nn.pruner import PEng4NNPruner
    from srm_earlystop.pruner import LCEPruner, SRMPruner

    rng = np.random.default_rng(1)
    steps = 12
    curves = [saturating(f, r, steps) for f, r in zip(*rng.uniform(0.2, 0.9, (2, 16)), strict=True)]
    curves += [saturating(0.25, 0.9, steps), saturating(0.97, 0.5, steps)]
    for make in (
        lambda: PEng4NNPruner(epochs_per_step=2.0),
        lambda: SRMPruner(min_trials=8, n_search=5),
        lambda: LCEPruner(max_steps=steps),
    ):
        optuna_path = run_study(make(), curves)
        tune_path = replay_through_stopper(PrunerStopper(make(), "val_acc", steps), curves)
        assert tune_path == optuna_path, type(make()).__name__
        assert tune_path[len(curves) - 1] is None  # the eventual best runs to its budget
    assert any(v is not None for v in optuna_path.values())  # the LCE rule did prune


def test_the_stopper_names_a_missing_metric_and_refuses_bad_settings():
    from srm_earlystop.pruner import LCEPruner

    stopper = PrunerStopper(LCEPruner(max_steps=5), "val_acc", 5)
    with pytest.raises(KeyError, match="no 'val_acc'.*it has \\['loss', 'training_iteration'\\]"):
        stopper("t", {"training_iteration": 1, "loss": 0.3})
    with pytest.raises(ValueError, match="max_iterations=0: expected an integer >= 1"):
        PrunerStopper(LCEPruner(max_steps=5), "val_acc", 0)
    with pytest.raises(TypeError, match="expected an optuna.pruners.BasePruner"):
        PrunerStopper(lambda study, trial: True, "val_acc", 5)
    assert stopper.stop_all() is False


def test_a_real_tune_run_stops_the_loser_and_lets_the_best_finish(tmp_path):
    """Ray Tune itself (a local Ray with 1 CPU): three trials one after another report
    synthetic curves; the LCE rule stops the one that cannot win."""
    import ray
    from ray import tune

    from srm_earlystop.pruner import LCEPruner

    steps = 10
    finals = {"first": 0.8, "loser": 0.3, "best": 0.95}

    def trainable(config):
        for value in saturating(finals[config["name"]], 0.5, steps):
            tune.report({"val_acc": float(value)})

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        tuner = tune.Tuner(
            trainable,
            param_space={"name": tune.grid_search(list(finals))},
            tune_config=tune.TuneConfig(max_concurrent_trials=1),
            run_config=tune.RunConfig(
                stop=PrunerStopper(LCEPruner(max_steps=steps), "val_acc", steps),
                storage_path=str(tmp_path),
                verbose=0,
            ),
        )
        results = tuner.fit()
    finally:
        ray.shutdown()
    reports = {r.config["name"]: r.metrics["training_iteration"] for r in results}
    assert reports["first"] == steps and reports["best"] == steps
    assert reports["loser"] < steps
