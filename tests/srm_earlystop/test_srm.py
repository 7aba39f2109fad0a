import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from common import compare
from srm_earlystop import early_stopping, features, regressors
from srm_earlystop.predictor import SRMPredictor
from srm_earlystop.srm import SRM
from srm_earlystop.synthetic import saturating_curves


def test_ts_features_of_a_hand_made_curve():
    row = features.ts_features([[0.1, 0.3, 0.4]])[0]
    # y (3), first differences (2), second difference (1), mean, std
    expected = [0.1, 0.3, 0.4, 0.2, 0.1, -0.1, 0.8 / 3, np.std([0.1, 0.3, 0.4])]
    assert row == pytest.approx(expected)


def test_hp_one_hot_columns_line_up_across_zoos():
    train = pd.DataFrame({"lr": [0.1, 0.2], "optimizer": ["sgd", "adam"]})
    held = pd.DataFrame({"lr": [0.3], "optimizer": ["sgd"]})
    x_train, categories = features.hp_features(train)
    x_held, _ = features.hp_features(held, categories)
    assert categories == {"optimizer": ["adam", "sgd"]}
    assert x_train.tolist() == [[0.1, 0, 1], [0.2, 1, 0]]
    assert x_held.tolist() == [[0.3, 0, 1]]


@pytest.mark.parametrize(
    ("curves", "message"),
    [([[0.1, 0.2], [0.3]], "unequal lengths"), ([[0.1, np.nan]], "NaN"), ([0.1, 0.2], "shape")],
)
def test_bad_curves_are_named(curves, message):
    with pytest.raises(ValueError, match=message):
        features.ts_features(curves)


def synthetic(n, seed):
    """Saturating curves, 10 points; the target is y_10."""
    return saturating_curves(n, epochs=10, seed=seed)


@pytest.mark.parametrize("name", sorted(regressors.REGRESSORS))
def test_each_regressor_search_beats_a_constant(name):
    curves, table = synthetic(80, 0)
    forest = name == "random_forest"  # slow to search, and to refit 50 times for LOOCV
    srm = SRM(name, 3 if forest else 25, seed=0, sigma_folds=5 if forest else None)
    srm.fit(curves[:50], table[:50], curves[:50, -1], taus=[4])
    mean, sigma = srm.predict(curves[50:, :4], table[50:].reset_index(drop=True), 4)
    truth = curves[50:, -1]
    assert np.mean((mean - truth) ** 2) < 0.5 * np.var(truth)
    assert np.all(np.isfinite(sigma)) and np.all(sigma > 0)


def test_loocv_sigma_matches_the_hat_matrix_formula():
    curves, table = synthetic(30, 1)
    srm = SRM("ols_linear", feature_sets=("TS",)).fit(curves, table, curves[:, -1], taus=[1])
    x = np.column_stack([np.ones(30), curves[:, 0]])  # TS at τ = 1 spans {1, y_1}
    hat = x @ np.linalg.pinv(x)
    residuals = curves[:, -1] - hat @ curves[:, -1]
    loo = residuals / (1 - np.diag(hat))  # leave-one-out residuals of least squares
    assert srm.sigmas[1] == pytest.approx(np.std(loo), rel=1e-6)


def test_budget_zero_uses_architecture_and_hyperparameters_only():
    curves, table = synthetic(20, 2)
    srm = SRM("ols_linear").fit(curves, table, curves[:, -1], taus=[0])
    mean, _ = srm.predict(np.zeros((20, 0)), table, 0)
    assert mean.shape == (20,)
    with pytest.raises(ValueError, match="no curve"):
        SRM("ols_linear", feature_sets=("TS",)).fit(curves, table, curves[:, -1], taus=[0])


def test_bad_training_sets_are_named():
    curves, table = synthetic(3, 3)
    with pytest.raises(ValueError, match="need more than the 3 folds"):
        SRM("blr").fit(curves, table, curves[:, -1], taus=[2])
    with pytest.raises(ValueError, match="unknown regressor"):
        SRM("gp")


def test_stopping_rule_at_hand_computed_probabilities():
    # Φ(0.6; 0.5, 0.1) = Φ(1) = 0.8413
    assert early_stopping.stop_probability(0.6, 0.5, 0.1) == pytest.approx(norm.cdf(1))
    assert early_stopping.should_stop(0.6, 0.5, 0.1, threshold=0.8)
    assert not early_stopping.should_stop(0.6, 0.5, 0.1, threshold=0.9)
    # a margin δ = 0.1 lowers the bar to the prediction itself: probability 0.5
    assert early_stopping.stop_probability(0.6, 0.5, 0.1, delta=0.1) == pytest.approx(0.5)
    assert not early_stopping.should_stop(-np.inf, 0.5, 0.1)  # nothing to compare with yet
    assert early_stopping.kth_best([0.3, 0.9, 0.5], 2) == 0.5
    assert early_stopping.kth_best([0.3], 2) == -np.inf


def test_srm_predictor_through_the_evaluator(tiny_zoo):
    table = compare.evaluate(
        [SRMPredictor("blr", n_search=3), SRMPredictor("nu_svr_linear", n_search=3)],
        tiny_zoo,
        budgets=[0.5, 1.5],
        train_size=8,
    )
    assert set(table.method) == {"SRM[blr]", "SRM[nu_svr_linear]"}
    assert (table.n_predicted == table.n_test).all() and (table.train_size == 8).all()


def test_table1_through_the_protocol_equals_a_direct_fit(tiny_zoo):
    """The chapter's Table 1 now goes through `common.compare.evaluate`: its R² for one split
    equals an SRM fitted by hand on the raw arrays of the same split."""
    from sklearn.metrics import r2_score

    from srm_earlystop import experiments

    z = tiny_zoo.finished()
    s = experiments.Scale(
        n_networks=len(z),
        epochs=2.0,
        width=1.0,
        max_layers=4,
        train_size=6,
        draws=1,
        n_search=2,
        orderings=1,
    )
    got = experiments.table1(z, s, ("blr",), fraction=0.5)["R2x100"].iloc[0]
    order = np.random.default_rng(0).permutation(len(z))
    train, test = order[:6], order[6:]
    tau = 2  # half of the 4 evaluations
    curves, target, table = z.curve("val_acc"), z.target("final_val_acc"), z.table
    srm = SRM("blr", 2, seed=0)
    srm.fit(curves[train], table.iloc[train], target[train], [tau], with_sigma=False)
    pred = srm.predict(curves[test][:, :tau], table.iloc[test], tau)[0]
    pred = np.clip(pred, 0, 1)  # the predictor keeps its answers feasible (issue 17)
    assert got == pytest.approx(100 * r2_score(target[test], pred))


def test_the_scaling_curve_holds_out_a_third_and_at_least_ten_where_it_can():
    from srm_earlystop.experiments import held_out_size

    # book: a third of 227 finished; smoke: 10 of 20 (a third, 6, gave τ on 6 networks)
    assert held_out_size(227) == 75 and held_out_size(20) == 10 and held_out_size(30) == 10
    assert held_out_size(12) == 7  # 5 left to learn from
    assert held_out_size(6) == 2  # a third when even 5 to learn from is not there
