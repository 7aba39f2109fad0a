"""The replication's figures (seaborn / matplotlib), one function per figure of the paper."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats


def fig2(pred: pd.DataFrame):
    """Fig. 2: predicted vs true final accuracy, per regressor."""
    grid = sns.relplot(pred, x="true", y="predicted", col="regressor", height=3.2, s=15)
    for ax in grid.axes.flat:
        lo, hi = pred[["true", "predicted"]].min().min(), pred[["true", "predicted"]].max().max()
        ax.plot([lo, hi], [lo, hi], ls=":", color="grey")
    return grid.figure


def fig3(table: pd.DataFrame):
    """Fig. 3: R² against the percentage of the learning curve observed."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    sns.lineplot(
        table, x="percent observed", y="r2", hue="method", marker="o", ax=ax, errorbar="se"
    )
    ax.set_ylabel("R²"), ax.set_ylim(bottom=max(-1, table["r2"].min() - 0.05))
    return fig


def fig4(stopping: pd.DataFrame):
    """Fig. 4: simulated speedup vs Δ; triangles where the best model was kept in more than
    half of the orderings, crosses where it was not."""
    agg = (
        stopping.groupby("threshold")
        .agg(speedup=("speedup", "mean"), kept=("kept best", "mean"))
        .reset_index()
    )
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(agg["threshold"], agg["speedup"], color="C0")
    for _, row in agg.iterrows():
        ax.plot(
            row["threshold"], row["speedup"], "^" if row["kept"] > 0.5 else "x", color="C0", ms=9
        )
    ax.set_xlabel("probability threshold Δ"), ax.set_ylabel("speedup (×)")
    return fig


def fig6(hb: pd.DataFrame):
    """Fig. 6: best accuracy so far against total epochs, Hyperband vs f-Hyperband."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for (method, run), group in hb.groupby(["method", "run"]):
        color = {"Hyperband": "C0", "f-Hyperband (nu-SVR)": "C1"}.get(method, "C2")
        ax.step(
            group["epochs"],
            group["best"],
            where="post",
            color=color,
            alpha=0.6,
            label=method if run == 0 else None,
        )
    ax.set_xlabel("total epochs"), ax.set_ylabel("best validation accuracy"), ax.legend()
    return fig


def fig8(errors: dict):
    """Figs. 8–9: training (leave-one-out) and held-out error distributions, with the Gaussian
    fitted to the training errors."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    train, held = errors["train errors"], errors["held-out errors"]
    bins = np.linspace(min(train.min(), held.min()), max(train.max(), held.max()), 25)
    ax.hist(train, bins, density=True, alpha=0.5, label="training (LOOCV)")
    ax.hist(held, bins, density=True, alpha=0.5, label="held out")
    ax.plot(bins, stats.norm.pdf(bins, train.mean(), train.std()), color="k", label="Gaussian")
    ax.set_xlabel("error (true − predicted)"), ax.legend()
    return fig
