"""The cross-comparison's library code: no peeking past the budget, repeatable tables, the
cost map and decision table on hand-made tables, and the simulated searches (charged in
full, never scoring a network with a predictor fitted on it)."""

import numpy as np
import pandas as pd
import pytest

import comparison
from common import compare, search


def test_the_same_zoo_gives_the_same_table(tiny_zoo):
    methods = [compare.LastSeenValue(), compare.ParamDepthRegression()]
    runs = [
        compare.evaluate(methods, tiny_zoo, [0, 1.0], train_size=(4, 6), seed=(0, 1))
        for _ in range(2)
    ]
    timing = [c for c in runs[0] if "seconds" in c]
    pd.testing.assert_frame_equal(runs[0].drop(columns=timing), runs[1].drop(columns=timing))
    scatter = compare.predictions(methods, tiny_zoo, 1.0, train_size=6, seed=1)
    held = runs[0][
        (runs[0].seed == 1) & (runs[0].method == "LastSeenValue") & (runs[0].budget == 1.0)
    ]
    assert len(scatter[scatter.method == "LastSeenValue"]) == held.n_test.iloc[0]


def test_budgets_cost_map_and_decision_table_by_hand():
    assert comparison.budgets(8.0) == [0.0, 0.8, 1.0, 2.0, 4.0]
    assert comparison.budgets(2.0) == [0.0, 0.2, 0.5, 1.0, 2.0]
    table = pd.DataFrame(
        {
            "method": ["A", "A", "B", "B", "C", "C"],
            "budget": [1.0] * 6,
            "train_size": [10, 20, 10, 20, 0, 0],
            "seed": [0, 0, 0, 0, 0, 1],
            "kendall_tau": [0.1, 0.5, 0.2, 0.3, 0.4, 0.0],
            "init_epochs": [10, 20, 10, 20, 0, 0],
            "epochs_per_network": [1.0] * 6,
            "query_seconds_per_network": [0.0] * 6,
            "fit_seconds": [1.0] * 6,
        }
    )
    cm = comparison.cost_map(table).set_index("method")
    assert cm.loc["A", "init_epochs"] == 20 and cm.loc["A", "kendall_tau"] == 0.5
    assert cm.loc["C", "kendall_tau"] == pytest.approx(0.2)  # no training: every seed
    decision = comparison.decision_table({"space": table}).iloc[0]
    assert (decision["use"], decision["runner-up"]) == ("A", "B")
    assert decision["margin"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="unknown scale"):
        comparison.scale_of("huge")
    specs = comparison.zoo_specs("smoke")
    assert {s.family for s in specs.values()} == {"blocks", "smallcnn"}
    assert all(s.eval_every == 0.5 and "fh" in s.probes for s in specs.values())


def test_rule_search_and_the_summary_by_hand():
    truth = np.array([0.5, 0.9, 0.7])
    got = search.rule_search(
        np.array([1.0, np.nan, 2.0]),
        np.array([0.6, 0.8, 0.9]),
        truth,
        max_resource=4,
        order=np.array([0, 1, 2]),
    )
    assert got == {"selected": 2, "regret": pytest.approx(0.2), "epochs": 1 + 4 + 2}
    runs = pd.DataFrame(
        {"search": ["x", "x", "y"], "regret": [0.0, 0.1, 0.0], "epochs": [10, 30, 40]}
    )
    summary = search.search_summary(runs, n_networks=10, max_resource=4).set_index("search")
    assert summary.loc["x", "zero_regret"] == 0.5 and summary.loc["x", "epochs"] == 20
    assert summary.loc["x", "speed-up at zero regret"] == 4.0  # 40 epochs / 10
    assert summary.loc["y", "speed-up at zero regret"] == 1.0


def test_replayed_searches_over_a_zoo(tiny_zoo):
    ok = tiny_zoo.subset(np.flatnonzero(np.isfinite(tiny_zoo.target("final_val_acc"))))
    truth = ok.target("final_val_acc")
    runs = search.replay_searches(ok, {"last seen value": ok.curve("val_acc")}, truth, orderings=2)
    assert set(runs.search) == {
        "Hyperband[last seen value]",
        "random search (full training)",
        "MedianPruner",
    }
    assert (runs.regret >= 0).all() and (runs.regret <= np.nanmax(truth)).all()
    plain = search.hyperband(
        search.sampler_without_replacement(len(ok), 0), search.ZooObjective(ok), 2
    )
    first = runs[(runs.search == "Hyperband[last seen value]") & (runs.ordering == 0)].iloc[0]
    assert first.epochs == plain.total_epochs


def test_claims_by_hand():
    table = pd.DataFrame(
        {
            "space": ["a"] * 4,
            "method_id": ["peephole", "last_seen", "feature_histories", "feature_histories"],
            "budget": [0.0, 2.0, 2.0, 2.0],
            "kendall_tau": [0.3, 0.5, 0.6, 0.8],
        }
    )
    got = comparison.claims(table, quarter=2.0).set_index("paper")["a"]
    assert got["Peephole"] == 0.3 and got["Cao et al."] == pytest.approx(0.2)
    assert np.isnan(got["Unterthiner et al."])  # not in the table: NaN, never invented


def test_the_budget_table_by_hand():
    from comparison import report

    means = pd.DataFrame(
        {
            "space": ["a", "a", "a", "b"],
            "method": ["m", "m", "p", "m"],
            "budget": [0.0, 1.5, 0.0, 1.5],
            "kendall_tau": [0.5, 0.7, np.nan, 0.25],
            "lo": [0.4, 0.6, np.nan, 0.25],
            "hi": [0.6, 0.9, np.nan, 0.25],
            "splits": [3, 3, 3, 1],
        }
    )
    table = report.by_budget(means, pd.Series({"a": 0.812, "b": 0.9}))
    assert list(table.columns) == ["0 epochs", "1.5 epochs", "ceiling"]
    assert table.loc[("a", "m")].tolist() == ["0.50 ± 0.10", "0.70 ± 0.15", 0.81]
    assert table.loc[("a", "p")].tolist() == ["", "", 0.81]  # no finite τ: blank, not NaN
    assert table.loc[("b", "m")].tolist() == ["", "0.25", 0.9]  # one split: no interval
