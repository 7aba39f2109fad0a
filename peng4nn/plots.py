"""The replication's figures (seaborn / matplotlib), one function per figure of the paper."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from peng4nn import curve
from peng4nn.engine import Engine


def fig3():
    """Fig. 3: f(x) = 32 − b^(5 − x) for b = 2, 6 and 32 − 2^(c − x) for c = 0, 5."""
    x = np.linspace(0, 10, 200)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for b, style in ((2, "-"), (6, "--")):
        axes[0].plot(x, curve.f(x, 32, b, 5), style, label=f"b = {b}")
    for c, style in ((0, "-"), (5, ":")):
        axes[1].plot(x, curve.f(x, 32, 2, c), style, label=f"c = {c}")
    axes[0].set_title("(a) f(x) = 32 − b^(5 − x)")
    axes[1].set_title("(b) f(x) = 32 − 2^(c − x)")
    for ax in axes:
        ax.set_ylim(0, 40), ax.set_xlabel("x"), ax.legend()
    axes[0].set_ylabel("accuracy (%)")
    return fig


def fig4(engine: Engine, epochs, val_acc):
    """Fig. 4: one network's observations, the last fitted curve and where it converged."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(epochs, val_acc, "o", ms=3, color="grey", label="validation accuracy (all epochs)")
    used = np.asarray(engine.epochs)
    ax.plot(used, engine.val_acc, "o", ms=4, color="C0", label="observations the engine used")
    fitted = next((f for f in reversed(engine.fits) if f is not None), None)
    if fitted is not None:
        x = np.asarray(epochs, dtype=float)
        ax.plot(x, fitted(x / used[0]), color="C1", label=f"fitted f, a = {fitted.a:.1f}")
    ax.axvline(engine.decision.epoch, ls=":", color="red", label="engine stopped")
    ax.set_xlabel("epoch"), ax.set_ylabel("accuracy (%)"), ax.legend(fontsize=8)
    return fig


def fig5(tables: dict[str, pd.DataFrame], paper_means: dict[str, float]):
    """Fig. 5: distribution of the percentage of epochs saved, with its mean (and the paper's)."""
    fig, axes = plt.subplots(1, len(tables), figsize=(4.5 * len(tables), 3.2), squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items(), strict=True):
        sns.histplot(
            table["epochs_saved_percent"], bins=np.arange(-100, 101, 10), ax=ax, stat="percent"
        )
        ax.axvline(table["epochs_saved_percent"].mean(), ls="--", color="k", label="our mean")
        if name in paper_means:
            ax.axvline(paper_means[name], ls=":", color="red", label="paper's mean")
        ax.set_title(name), ax.set_xlabel("epochs saved vs MENNDL (%)"), ax.legend(fontsize=8)
    return fig


def fig7(tables: dict[str, pd.DataFrame], memberships: dict[str, pd.Series]):
    """Fig. 7: estimate vs actual maximum accuracy, by membership of the best-20 % sets."""
    fig, axes = plt.subplots(1, len(tables), figsize=(4.5 * len(tables), 3.6), squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items(), strict=True):
        sns.scatterplot(
            x=table["truth"],
            y=table["estimate"],
            hue=memberships[name],
            style=memberships[name],
            hue_order=["both", "predicted only", "truth only", "neither"],
            ax=ax,
            s=20,
        )
        ax.set_title(name), ax.set_xlabel("actual max accuracy (%)"), ax.set_ylabel("estimate (%)")
    return fig


def fig8(tables: dict[str, pd.DataFrame], memberships: dict[str, pd.Series]):
    """Fig. 8: accuracy distributions of the true and predicted best-20 % sets."""
    rows = []
    for name, table in tables.items():
        m = memberships[name]
        for label, mask in (
            ("GT", m.isin(["both", "truth only"])),
            ("P", m.isin(["both", "predicted only"])),
        ):
            rows += [{"dataset": name, "set": label, "accuracy": a} for a in table["truth"][mask]]
    fig, ax = plt.subplots(figsize=(2.5 + 2 * len(tables), 3.5))
    sns.boxplot(
        pd.DataFrame(rows),
        x="dataset",
        y="accuracy",
        hue="set",
        whis=(5, 95),
        ax=ax,
        showmeans=True,
    )
    ax.set_ylabel("actual max accuracy (%)")
    return fig
