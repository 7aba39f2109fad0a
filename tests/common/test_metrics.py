import numpy as np
import pytest

from common import metrics

# hand-computed examples are small by design: their FewNetworksWarning is expected
pytestmark = pytest.mark.filterwarnings("ignore::common.metrics.FewNetworksWarning")

TRUE = [1.0, 2.0, 3.0, 4.0]
PRED = [1.0, 3.0, 2.0, 4.0]  # one discordant pair of six


def test_errors_and_correlations_match_hand_computed_values():
    assert metrics.mse(TRUE, PRED) == pytest.approx(0.5)  # (0 + 1 + 1 + 0) / 4
    assert metrics.r2(TRUE, PRED) == pytest.approx(1 - 2 / 5)  # SS_res 2, SS_tot 5
    assert metrics.kendall_tau(TRUE, PRED) == pytest.approx((5 - 1) / 6)
    assert metrics.spearman_rho(TRUE, PRED) == pytest.approx(1 - 6 * 2 / (4 * 15))


def test_top_overlap_and_gap_follow_peng4nn_definition():
    truth = np.arange(10, dtype=float)  # best: 9, 8
    pred = np.array([0, 1, 2, 3, 4, 5, 6, 9, 8.5, 7], dtype=float)  # predicted best: 7, 8
    # top 20 % = 2 networks each: truth {9, 8}, prediction {7, 8}: one shared
    assert metrics.top_overlap(truth, pred, 0.2) == pytest.approx(0.5)
    assert metrics.top_mean_gap(truth, pred, 0.2) == pytest.approx((9 + 8) / 2 - (7 + 8) / 2)
    assert metrics.top_overlap(truth, truth, 0.3) == 1.0
    assert metrics.top_overlap(truth, -truth, 0.1) == 0.0


def test_top_sets_have_equal_sizes_rounded_up():
    assert len(metrics.top_k(np.arange(15.0), 0.1)) == 2  # ceil(1.5)
    assert len(metrics.top_k(np.arange(10.0), 0.1)) == 1


def test_regret_is_best_minus_true_value_of_predicted_best():
    assert metrics.regret([0.5, 0.9, 0.7], [0.1, 0.2, 0.3]) == pytest.approx(0.2)
    assert metrics.regret([0.5, 0.9, 0.7], [0.1, 0.8, 0.3]) == 0.0


def test_bad_inputs_are_rejected_with_a_reason():
    with pytest.raises(ValueError, match="equal-length"):
        metrics.mse([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        metrics.kendall_tau([1, 2, 3], [1, np.nan, 3])
    with pytest.raises(ValueError, match="fraction"):
        metrics.top_overlap([1, 2, 3], [1, 2, 3], 0.0)


def test_all_metrics_names_every_column():
    row = metrics.all_metrics(TRUE, PRED)
    assert set(row) >= {"kendall_tau", "spearman_rho", "r2", "mse", "top10_overlap", "regret"}


def test_scale_lookups_name_what_is_known():
    from common import scales

    table = {"smoke": {"digits": 1}, "book": {"digits": 2, "mnist": 3}}
    assert scales.settings(table, "mnist", "book") == 3
    assert scales.settings(table, "mnist@512", "book") == 3  # a subset: its dataset's
    table["book"]["mnist@512"] = 4  # unless the scale is defined on the subset itself
    assert scales.settings(table, "mnist@512", "book") == 4
    assert scales.settings(table, "mnist@256", "book") == 3
    with pytest.raises(ValueError, match=r"no 'paper' settings for 'digits'; known: .*'book'"):
        scales.settings(table, "digits", "paper")
    assert scales.datasets(table, "smoke") == ["digits"]
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        scales.datasets(table, "huge")


def test_rank_correlations_of_a_constant_are_nan_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would print on the book's pages
        assert np.isnan(metrics.kendall_tau(np.arange(10), np.full(10, 5)))
        assert np.isnan(metrics.spearman_rho(np.full(10, 4), np.arange(10)))
    assert metrics.kendall_tau([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
