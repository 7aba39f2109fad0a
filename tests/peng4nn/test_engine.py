"""Analyzer conditions on hand-made histories, the engine, replay vs live, and MENNDL."""

import numpy as np
import pytest

from peng4nn import curve
from peng4nn.analyzer import AnalyzerSettings, analyze
from peng4nn.engine import Engine, replay, to_percent
from peng4nn.menndl import menndl_stop_epoch

E = np.arange(1, 11) * 0.5  # epochs 0.5 .. 5


def decide(predictions, val_acc=None, val_loss=None, epochs=None, **settings):
    predictions = np.asarray(predictions, dtype=float)
    n = len(predictions)
    epochs = E[:n] if epochs is None else np.asarray(epochs, dtype=float)
    val_acc = np.full(n, 50.0) if val_acc is None else np.asarray(val_acc, dtype=float)
    val_loss = np.linspace(2, 1, n) if val_loss is None else np.asarray(val_loss, dtype=float)
    return analyze(epochs, val_acc, val_loss, predictions, AnalyzerSettings(**settings))


def test_stable_predictions_converge_after_n_times_e():
    # N = 3, E = 0.5: nothing before e > 1.5; then three predictions within 0.5 of their mean
    assert not decide([np.nan, np.nan, 60.0]).stop  # e = 1.5 <= N * E
    d = decide([np.nan, np.nan, 60.0, 60.2, 60.4])
    assert d.stop and d.converged and d.estimate == 60.4 and d.epoch == 2.5


def test_condition_2_threshold_on_predictions():
    assert not decide([np.nan, 50.0, 60.0, 60.0, 61.2]).stop  # 61.2 - mean 60.4 = 0.8 > 0.5
    assert decide([np.nan, 50.0, 60.0, 60.0, 61.2], threshold=1.0).stop
    assert not decide([np.nan, 60.0, np.nan, 60.0, 60.0]).stop  # a failed fit breaks the run
    assert decide([np.nan, 60.0, np.nan, 60.0, 60.0], n_recent=2).stop


def test_condition_2_uses_predictions_not_observed_accuracy():
    noisy_acc = [10.0, 40.0, 20.0, 55.0, 30.0]  # a_V far apart, a_P stable: converges
    assert decide([np.nan, np.nan, 60.0, 60.0, 60.0], val_acc=noisy_acc).converged


def test_condition_1_prediction_above_100_does_not_converge():
    assert not decide([np.nan, np.nan, 101.0, 101.0, 101.0]).stop
    assert decide([np.nan, np.nan, 100.0, 100.0, 100.0]).stop


def test_never_learn_with_loss_check_waits_for_the_loss_to_stall():
    never = [np.nan, np.nan, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0]
    epochs = np.arange(1, 13) * 0.5
    improving = np.linspace(2.3, 2.0, 12)  # a new minimum every iteration: still learning
    assert decide(never, val_loss=improving, epochs=epochs).stop  # LOSS off: converges
    assert not decide(never, val_loss=improving, epochs=epochs, loss_check=True).stop
    stalled = np.r_[2.3, 2.0, np.full(10, 2.1)]  # minimum at epoch 1.0, none since
    d = decide(never, val_loss=stalled, epochs=epochs, loss_check=True)
    assert d.stop and d.converged  # 6.0 - 1.0 >= L = 5 epochs without improvement
    short = decide(never[:10], val_loss=stalled[:10], epochs=epochs[:10], loss_check=True)
    assert not short.stop  # at epoch 5 the minimum (epoch 1) is only 4 epochs old
    learner = [np.nan, np.nan, 60.0, 60.0, 60.0]  # not never-learn: the loss is not checked
    assert decide(learner, val_loss=np.linspace(2, 1, 5), loss_check=True).stop
    assert decide(never[:5], never_learn=5.0, loss_check=True).stop  # 10 % beats a 5 % majority


def test_e_max_returns_max_observed_accuracy_unconverged():
    acc = [20.0, 40.0, 35.0, 30.0]
    d = decide([np.nan, np.nan, 150, 101], val_acc=acc, epochs=[0.5, 1, 1.5, 2], max_epochs=2)
    assert d.stop and not d.converged and d.estimate == 40.0


def test_replay_equals_live_observation_one_at_a_time():
    rng = np.random.default_rng(1)
    epochs = np.arange(1, 41) * 0.5
    acc = np.clip(curve.f(epochs * 2, 70, 1.2, 4) + rng.normal(0, 1, 40), 0, 100)
    loss = np.linspace(2, 0.8, 40)
    replayed = replay(epochs, acc, loss)
    live = Engine()
    for e, a, lo in zip(epochs, acc, loss, strict=True):
        decision = live.observe(e, a, lo)
        if decision.stop:
            break
    assert live.decision == replayed.decision
    assert np.array_equal(live.predictions, replayed.predictions, equal_nan=True)
    assert replayed.decision.stop and replayed.decision.epoch < 20


def test_engine_refuses_observations_after_stopping_and_bad_input():
    engine = replay(E, np.full(10, 50.0), np.ones(10))
    assert engine.decision.stop
    with pytest.raises(RuntimeError, match="already stopped"):
        engine.observe(6.0, 50.0, 1.0)
    fresh = Engine()
    fresh.observe(0.5, 10.0, 2.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        fresh.observe(0.5, 11.0, 2.0)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        fresh.observe(1.0, 150.0, 2.0)
    with pytest.raises(ValueError, match="loss"):
        fresh.observe(1.0, 15.0, np.nan)


def test_fractions_are_converted_once_and_percent_is_refused():
    assert to_percent([0.1, 0.5]).tolist() == [10.0, 50.0]
    with pytest.raises(ValueError, match="already percent"):
        to_percent([10.0, 50.0])


def test_menndl_stops_after_ten_epochs_without_a_new_minimum():
    epochs = np.arange(1, 41) * 0.5
    improving = np.linspace(2, 1, 40)
    assert menndl_stop_epoch(epochs, improving) == 20.0
    flat = np.r_[2.0, 1.0, np.full(38, 1.5)]  # minimum at epoch 1.0
    assert menndl_stop_epoch(epochs, flat) == 11.0
    diverged = np.r_[2.0, 1.9, np.nan, np.nan]
    assert menndl_stop_epoch(epochs[:4], diverged) == 1.5


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_a_flat_curve_at_the_majority_share_is_never_learn(noise):
    """Issue 14, item 7: a network stuck at chance must be recognised as never-learn. With
    b >= 1 the fit of a flat curve at y is a = y + 1 (b = 1), so comparing a_P with the
    majority share itself could never fire."""
    from peng4nn.analyzer import FLAT_OFFSET, is_never_learn

    rng = np.random.default_rng(0)
    epochs = np.arange(1, 41) * 0.5
    majority = 11.2  # an unbalanced validation split's majority share, in percent
    acc = np.clip(majority + rng.normal(0, noise, 40), 0, 100)
    settings = AnalyzerSettings(loss_check=True, never_learn=majority)
    assert not is_never_learn(majority + FLAT_OFFSET + 2.5, settings)  # beyond the margin
    # condition 3 now applies: while the loss keeps improving the engine keeps training ...
    improving = np.linspace(2.4, 2.0, 40)
    engine = replay(epochs, acc, improving, settings)
    assert engine.decision.epoch == 20.0
    fitted = np.array(engine.predictions)
    fitted = fitted[np.isfinite(fitted)]
    assert len(fitted) >= 20  # most iterations fit
    assert np.all(fitted <= majority + FLAT_OFFSET + 3 * noise + 0.01)
    assert np.all([is_never_learn(a, settings) for a in fitted])
    # ... and once the minimum loss is L = 5 epochs old it stops, converged, at chance
    stalled = np.r_[2.4, 2.3, 2.2, np.full(37, 2.25)]  # minimum at epoch 1.5
    decision = replay(epochs, acc, stalled, settings).decision
    assert decision.converged and decision.stop
    assert 6.5 <= decision.epoch <= 8.0
    assert is_never_learn(decision.estimate, settings)
