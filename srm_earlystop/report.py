"""What the srm_earlystop chapter shows on its page: tables that put the paper's numbers beside
ours (at our scale). The computations stay in `srm_earlystop.experiments`."""

from __future__ import annotations

import pandas as pd

from srm_earlystop.experiments import PAPER


def summary(t1: pd.DataFrame, stopping: pd.DataFrame, hb: pd.DataFrame, scale: str):
    """What held: each claim with the paper's number and ours, at our scale."""
    if t1["R2x100"].notna().any():
        best_row = t1.loc[t1["R2x100"].idxmax()]
        best = f"{best_row['R2x100']:.1f} ({best_row['regressor']})"
    else:  # a run too small to score any SRM (a few held-out networks)
        best = "not measured: no SRM has a finite R² at this size"
    by_threshold = stopping.groupby("threshold").agg(
        speedup=("speedup", "mean"), kept=("kept best", "mean")
    )
    final = hb.groupby(["method", "run"]).last().groupby("method")[["epochs", "best"]].mean()
    rows = [
        {
            "claim": "best SRM R² × 100 at 25 % of the curve",
            "paper": "97.22 (ν-SVR)",
            "ours": best,
        },
        {
            "claim": "early-stopping speedup (Δ = 0.99)",
            "paper": PAPER["early_stopping_speedup"],
            "ours": f"{by_threshold['speedup'].iloc[-1]:.2f}× (best kept in "
            f"{100 * by_threshold['kept'].iloc[-1]:.0f} % of orderings)",
        },
        {
            "claim": "f-Hyperband vs Hyperband",
            "paper": PAPER["fhyperband"],
            "ours": "; ".join(
                f"{m}: best {r.best:.3f} in {r.epochs:.0f} epochs" for m, r in final.iterrows()
            ),
        },
    ]
    out = pd.DataFrame(rows)
    out["our scale"] = scale
    return out
