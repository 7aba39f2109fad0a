"""The live Optuna study of the chapter "Using the methods in your own search": a study
without pruning trains every trial its whole budget (two reports an epoch), every pruner is
built for the trial's steps, and bad names and budgets are named."""

import pytest

from comparison import live


def test_an_unpruned_study_trains_every_trial_its_whole_budget():
    s = live.Scale(n_trials=3, epochs=2, seeds=(0,), srm_min_trials=4)
    row = live.study("digits", s, "none", seed=0, device="cpu")
    assert row["epochs trained"] == 3 * 2 and row["pruned"] == 0
    assert 0.0 <= row["its test acc"] <= 1.0 and 0.0 <= row["best val acc"] <= 1.0


def test_each_pruner_is_built_and_an_unknown_one_is_named():
    s = live.scale_of("digits", "smoke")
    for name in live.PRUNERS:
        assert live.make_pruner(name, s, "digits", [0.1] * 10) is not None
    with pytest.raises(ValueError, match="unknown pruner 'asha'; expected one of"):
        live.make_pruner("asha", s, "digits", [0.1] * 10)
    with pytest.raises(ValueError, match="epochs=2.5: expected a whole number of epochs"):
        live.scale_of("digits", "smoke", epochs=2.5)


def test_a_hyperband_study_repeats_itself(monkeypatch):
    """Hyperband assigns brackets by a hash of the study's name: a study named by its
    dataset, pruner and seed prunes the same trials when run again (with Optuna's random
    default names, two runs of this study pruned trial 3 in one and trial 1 in the other)."""
    made = []
    create = live.optuna.create_study
    monkeypatch.setattr(
        live.optuna, "create_study", lambda **kw: made.append(create(**kw)) or made[-1]
    )
    s = live.Scale(n_trials=4, epochs=2, seeds=(0,), srm_min_trials=4)
    for _ in range(2):
        live.study("digits", s, "hyperband", seed=3, device="cpu")
    first, again = ([(t.state, t.value) for t in m.trials] for m in made)
    assert first == again
