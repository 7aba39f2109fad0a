"""What the comparison page shows, computed from `comparison.experiments`' tables: the cost
map, the decision table and each paper's central claim. Methods are named by identifier
(`comparison.experiments.METHODS`), never by their display label."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _largest(table: pd.DataFrame) -> pd.DataFrame:
    """Rows at the largest training size, and methods that learn from no networks."""
    return table[table.train_size.isin([0, table.train_size.max()])]


def cost_map(table: pd.DataFrame, metric: str = "kendall_tau") -> pd.DataFrame:
    """White et al.'s cost map: per method and budget, the initialisation cost (epochs of
    fully trained networks consumed, at the largest training size), the query cost (epochs
    per network plus predictor seconds) and the mean `metric`."""
    out = (
        _largest(table)
        .groupby(["method", "budget"])
        .agg(
            init_epochs=("init_epochs", "mean"),
            query_epochs=("epochs_per_network", "mean"),
            query_seconds=("query_seconds_per_network", "mean"),
            fit_seconds=("fit_seconds", "mean"),
            score=(metric, "mean"),
        )
    )
    return out.rename(columns={"score": metric}).reset_index()


def by_budget(means: pd.DataFrame, ceilings: pd.Series, metric: str = "kendall_tau"):
    """The figure's numbers as one short table: a row per (space, method), a column per
    budget, each cell the mean `metric` ± the half-width of its interval
    (`common.compare.summarise`'s ``lo``/``hi``; the mean alone from one split), blank
    where the method does not apply; the space's noise ceiling (`ceilings`, by space) as
    the last column."""

    def text(m, lo, hi, splits):
        if not np.isfinite(m):
            return ""
        return f"{m:.2f} ± {(hi - lo) / 2:.2f}" if splits > 1 else f"{m:.2f}"

    columns = [means[metric], means.lo, means.hi, means.splits]
    cell = means.assign(text=[text(*row) for row in zip(*columns, strict=True)])
    out = cell.pivot(index=["space", "method"], columns="budget", values="text").fillna("")
    out.columns = [f"{b:g} epochs" for b in out.columns]
    out["ceiling"] = out.index.get_level_values("space").map(ceilings).to_numpy().round(2)
    return out


def decision_table(tables: dict[str, pd.DataFrame], metric: str = "kendall_tau"):
    """For each search space and budget: the best method by mean `metric` (over seeds, at
    the largest training size), the runner-up, and the margin between them."""
    rows = []
    for space, table in tables.items():
        means = _largest(table).groupby(["budget", "method"])[metric].mean().dropna()
        for budget, group in means.groupby(level=0):
            ranked = group.droplevel(0).sort_values(ascending=False)
            two = len(ranked) > 1
            rows.append(
                {
                    "search space": space,
                    "budget": budget,
                    "use": ranked.index[0],
                    metric: ranked.iloc[0],
                    "runner-up": ranked.index[1] if two else "-",
                    "margin": ranked.iloc[0] - ranked.iloc[1] if two else np.nan,
                }
            )
    return pd.DataFrame(rows)


# (paper, claim, method id, baseline id or None, budget: "zero" or "quarter")
CLAIMS = (
    ("Peephole", "architecture alone ranks networks (τ at budget 0)", "peephole", None, "zero"),
    ("Baker et al.", "SRM beats the last seen value (Δτ at 25 %)", "srm", "last_seen", "quarter"),
    (
        "PEng4NN",
        "its estimate beats the last seen value (Δτ at 25 %)",
        "peng4nn",
        "last_seen",
        "quarter",
    ),
    (
        "Cao et al.",
        "the ensemble beats the last seen value (Δτ at 25 %)",
        "feature_histories",
        "last_seen",
        "quarter",
    ),
    (
        "Unterthiner et al.",
        "weights GBM beats the last seen value (Δτ at 25 %)",
        "weights_gbm",
        "last_seen",
        "quarter",
    ),
)


def claims(table: pd.DataFrame, quarter: float, metric: str = "kendall_tau") -> pd.DataFrame:
    """Each paper's central claim checked per search space (columns) in the shared setting:
    Peephole's τ at budget 0, the others' τ minus the last seen value's at budget `quarter`
    (positive: the method ranks better than reading the curve). `table` has ``space`` and
    ``method_id`` columns; a method missing from it gives NaN, never an invented number."""
    mean = table.groupby(["space", "method_id", "budget"])[metric].mean()
    rows = []
    for paper, claim, method, baseline, at in CLAIMS:
        budget = 0.0 if at == "zero" else quarter
        row = {"paper": paper, "claim": claim}
        for space in table.space.unique():
            value = mean.get((space, method, budget), np.nan)
            row[space] = value - mean.get((space, baseline, budget), np.nan) if baseline else value
        rows.append(row)
    return pd.DataFrame(rows)
