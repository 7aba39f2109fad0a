"""Scaling curves: intervals by hand and the three verdicts on made-up curves."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from common import scaling


def made(values: dict[int, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"size": n, "seed": i, "value": v} for n, vs in values.items() for i, v in enumerate(vs)]
    )


def test_curve_calls_the_measure_for_every_size_and_seed():
    calls = []
    points = scaling.curve(lambda n, s: calls.append((n, s)) or n / 100 + s, [50, 10], [0, 1])
    assert calls == [(10, 0), (10, 1), (50, 0), (50, 1)]
    assert points["value"].tolist() == [0.1, 1.1, 0.5, 1.5]
    with pytest.raises(ValueError, match="at least one"):
        scaling.curve(lambda n, s: 0.0, [], [0])


def test_summary_is_the_student_t_interval_by_hand():
    table = scaling.summary(made({10: [0.2, 0.4, 0.6]}))
    half = stats.t.ppf(0.975, 2) * 0.2 / np.sqrt(3)  # sd of (0.2, 0.4, 0.6) is 0.2
    row = table.iloc[0]
    assert row["mean"] == pytest.approx(0.4) and row["sd"] == pytest.approx(0.2)
    assert row["lo"] == pytest.approx(0.4 - half) and row["hi"] == pytest.approx(0.4 + half)


def test_verdicts():
    rising = made({10: [0.30, 0.32, 0.31], 100: [0.60, 0.62, 0.61]})
    assert scaling.verdict(rising, paper=0.61) == scaling.HOLDS
    assert scaling.verdict(rising, paper=0.90) == scaling.TREND
    flat = made({10: [0.30, 0.50, 0.40], 100: [0.35, 0.55, 0.45]})
    assert scaling.verdict(flat, paper=0.90) == scaling.FAILS
    beyond = scaling.verdict(rising, paper=0.90, ceiling=0.8)
    assert beyond.startswith(scaling.TREND) and "beyond our noise ceiling 0.8" in beyond
    # a metric where lower is better (an MSE): falling towards the paper's is the trend
    mse = made({10: [0.05, 0.06, 0.055], 100: [0.02, 0.021, 0.019]})
    assert scaling.verdict(mse, paper=0.001, higher_is_better=False) == scaling.TREND
    assert scaling.verdict(mse, paper=0.03, higher_is_better=False) == scaling.HOLDS
    # two splits: the interval is too wide to say anything
    assert scaling.verdict(rising, paper=0.90, trend=False) == scaling.FAILS  # draws: no trend
    few = made({10: [0.1, 0.5], 100: [0.2, 0.6]})
    assert scaling.verdict(few, paper=0.9).startswith("too few splits to judge (2")


def test_a_headline_row_carries_the_last_interval_and_the_verdict():
    rising = made({10: [0.30, 0.32, 0.31], 100: [0.60, 0.62, 0.61]})
    row = scaling.headline(rising, 0.9, 0.8, "τ", "book").iloc[0]
    half = stats.t.ppf(0.975, 2) * 0.01 / np.sqrt(3)  # sd of (0.60, 0.62, 0.61) is 0.01
    assert row["ours"] == f"0.61 [{0.61 - half:.3g}, {0.61 + half:.3g}] at 100 training networks"
    assert row["verdict"] == scaling.verdict(rising, 0.9, 0.8) and row["noise ceiling"] == "0.8"
    summary = pd.DataFrame([{"claim": "other", "paper": "x", "ours": "y", "our scale": "book"}])
    table = scaling.with_headlines(summary, scaling.headline(rising, 0.9, None, "τ", "book"))
    assert table["claim"].tolist() == ["τ", "other"]
    assert table.loc[1, "verdict"] == "-" and table.loc[0, "noise ceiling"] == "-"
