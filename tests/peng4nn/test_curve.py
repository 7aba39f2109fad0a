import numpy as np
import pytest

from peng4nn import curve

HALF_EPOCHS = np.arange(1, 41) * 0.5  # validated every 0.5 epoch for 20 epochs


def percent_curve(a, b, c, epochs=HALF_EPOCHS):
    return curve.f(epochs / epochs[0], a, b, c)  # x = 1 at the first observation


@pytest.mark.parametrize(
    ("a", "b", "c"),
    # Fig. 3's 32 - 2^(5 - x); its b = 6 variant is negative at x = 1, so not an accuracy
    # history, and its c = 0 variant is flat within half a point from x = 1 (see below).
    [(32, 2, 5), (32, 1.5, 6), (80, 1.3, 3), (95, 1.8, 2.5), (60, 1.1, 20)],
)
def test_noiseless_curves_are_recovered(a, b, c):
    y = percent_curve(a, b, c)
    assert y.min() >= 0  # a valid accuracy history
    fitted = curve.fit(HALF_EPOCHS, y)
    assert (fitted.a, fitted.b, fitted.c) == pytest.approx((a, b, c), rel=1e-4, abs=1e-4)


def test_noisy_curve_asymptote_within_a_point():
    rng = np.random.default_rng(0)
    y = np.clip(percent_curve(80, 1.3, 3) + rng.normal(0, 0.5, len(HALF_EPOCHS)), 0, 100)
    assert curve.fit(HALF_EPOCHS, y).a == pytest.approx(80, abs=1.0)


def test_an_almost_flat_curve_predicts_its_plateau():
    y = percent_curve(32, 2, 0)  # Fig. 3b, c = 0: 31.5, 31.75, ... -> 32
    assert curve.fit(HALF_EPOCHS, y).a == pytest.approx(32, abs=1.0)


def test_epochs_are_rescaled_to_start_at_one():
    assert curve.rescale(np.array([0.5, 1.0, 1.5])).tolist() == [1, 2, 3]
    assert curve.rescale(np.array([2.0, 4.0])).tolist() == [1, 2]


def test_bounds_and_initial_values_are_the_papers():
    assert curve.A_BOUNDS == (0.5, 102.5) and curve.B_BOUNDS == (1, np.inf)
    assert curve.C_BOUNDS == (0, np.inf) and curve.INITIAL == (10, 1.001, 100)
    assert curve.C_MIN == 3
    # unreasonable early growth is capped at a = 102.5 rather than flagged by a huge a
    steep = curve.fit([0.5, 1.0, 1.5], [10.0, 40.0, 65.0])
    assert steep is None or steep.a <= 102.5 + 1e-9


def test_fewer_than_c_min_points_give_no_prediction():
    assert curve.fit([0.5, 1.0], [10.0, 20.0]) is None


def test_a_failed_fit_is_no_prediction_not_an_exception():
    assert curve.fit([0.5, 1.0, 1.5], [50.0, 50.0, 50.0], max_evaluations=1) is None


@pytest.mark.parametrize(
    ("epochs", "acc", "message"),
    [
        ([], [], "empty history"),
        ([0.5, 1.0], [10.0, np.nan], "NaN"),
        ([0.5, 0.5, 1.0], [1.0, 2.0, 3.0], "strictly increasing"),
        ([0.5, 1.0], [10.0, 120.0], r"percentages in \[0, 100\]"),
        ([0.5, 1.0], [10.0], "equal-length"),
    ],
)
def test_bad_histories_are_rejected(epochs, acc, message):
    with pytest.raises(ValueError, match=message):
        curve.fit(epochs, acc)


def test_analytic_jacobian_matches_finite_differences():
    x, params, h = np.arange(1.0, 9.0), np.array([60.0, 1.4, 3.0]), 1e-6
    numeric = np.column_stack(
        [
            (curve.f(x, *(params + h * np.eye(3)[k])) - curve.f(x, *(params - h * np.eye(3)[k])))
            / (2 * h)
            for k in range(3)
        ]
    )
    assert np.allclose(curve.jacobian(x, *params), numeric, rtol=1e-5, atol=1e-6)
