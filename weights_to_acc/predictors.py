"""The accuracy predictors (Unterthiner et al., Sec. 4.2, Appendices A.3–A.4).

All are trained on the mean squared error, their hyperparameters chosen by random search
with 3-fold cross-validation on the training split (the paper evaluates 1,000 configurations;
`n_search` sets the count), then refit on the whole training split:

- ``logit_linear``: σ(⟨x, θ⟩ + b), trained with minibatch SGD or Adam;
- ``gbm``: LightGBM over Appendix A.4's ranges (leaves 20–10⁴, depth 5–15, learning rate
  LogU[1e-2, 1e-1], max_bin 63/127/255, min_child_weight 1–5, λ U[1e-3, 100], α U[1e-6, 5],
  row subsampling 0.1–1 every iteration, column subsampling LogU[1e-2, 1e-1] for
  high-dimensional inputs and U[0.7, 1] otherwise);
- ``dnn``: 3–9 ReLU layers of 256–511 units, dropout U[0, 0.2], sigmoid output.

Choices where the paper is silent: inputs are standardised (a scaler in each pipeline); the
networks train for `epochs` passes (a setting, default 100); LightGBM grows `n_estimators`
(default 300) trees with at least 5 networks per leaf (LightGBM's default of 20 leaves
small zoos without a split; the paper's 15,000 training networks never meet it); a network
whose loss becomes non-finite predicts the training mean.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.stats import loguniform, randint, uniform
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import KFold, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from common.train import initialize

PREDICTORS = ("logit_linear", "gbm", "dnn")
# LightGBM caches one histogram per leaf and feature by default: thousands of leaves over
# 4,970 weights ask for tens of GB. A capped pool recomputes histograms instead.
HISTOGRAM_POOL_MB = 512
NET_INITS = ("xavier_normal", "he_normal", "orthogonal", "normal", "truncated_normal")


class SigmoidMLP(RegressorMixin, BaseEstimator):
    """A fully connected ReLU network with a sigmoid output, trained on the MSE; with
    ``n_layers=0`` it is the logit-linear model σ(⟨x, θ⟩ + b)."""

    def __init__(
        self,
        n_layers=0,
        units=256,
        dropout=0.0,
        l2=0.0,
        lr=1e-2,
        optimizer="adam",
        batch_size=128,
        init="xavier_normal",
        init_variance=0.01,
        epochs=100,
        seed=0,
    ):
        self.n_layers, self.units, self.dropout, self.l2 = n_layers, units, dropout, l2
        self.lr, self.optimizer, self.batch_size, self.init = lr, optimizer, batch_size, init
        self.init_variance, self.epochs, self.seed = init_variance, epochs, seed

    def fit(self, X, y):
        """Train the network on `X` [n, d] and `y` [n]; returns self."""
        x = torch.as_tensor(np.asarray(X, dtype=np.float32))
        t = torch.as_tensor(np.asarray(y, dtype=np.float32))
        if x.ndim != 2 or len(x) != len(t):
            raise ValueError(f"X must be [n, d] with one target per row; got {tuple(x.shape)}")
        torch.manual_seed(self.seed)
        layers, width = [], x.shape[1]
        for _ in range(self.n_layers):
            layers += [nn.Linear(width, self.units), nn.ReLU(), nn.Dropout(self.dropout)]
            width = self.units
        self.model_ = nn.Sequential(*layers, nn.Linear(width, 1))
        initialize(self.model_, self.init, self.init_variance)
        opt_class = torch.optim.Adam if self.optimizer == "adam" else torch.optim.SGD
        opt = opt_class(self.model_.parameters(), lr=self.lr, weight_decay=self.l2)
        self.fallback_ = float(t.mean())
        self.diverged_ = False
        generator = torch.Generator().manual_seed(self.seed)
        for _ in range(self.epochs):
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), self.batch_size):
                idx = order[start : start + self.batch_size]
                pred = torch.sigmoid(self.model_(x[idx]).squeeze(-1))
                loss = nn.functional.mse_loss(pred, t[idx])
                if not torch.isfinite(loss):
                    self.diverged_ = True
                    return self
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        return self

    @torch.no_grad()
    def predict(self, X):
        """Predictions for `X` (the training mean if training diverged)."""
        x = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if self.diverged_:
            return np.full(len(x), self.fallback_)
        out = torch.sigmoid(self.model_.eval()(x).squeeze(-1)).numpy().astype(np.float64)
        return np.where(np.isfinite(out), out, self.fallback_)


def _net_space(n_layers, epochs: int) -> dict:
    return {
        "n_layers": n_layers,
        "units": randint(256, 512),
        "dropout": uniform(0, 0.2),
        "l2": loguniform(1e-8, 1e-3),
        "lr": loguniform(1e-3, 0.5),
        "init_variance": loguniform(1e-3, 0.1),
        "optimizer": ["adam", "sgd"],
        "batch_size": [64, 128, 256, 512],
        "init": list(NET_INITS),
        "epochs": [epochs],
    }


def make(
    kind: str,
    high_dimensional: bool = False,
    epochs: int = 100,
    n_estimators: int = 300,
    seed: int = 0,
):
    """(pipeline, search space with ``model__`` prefixes) of predictor `kind`."""
    if kind not in PREDICTORS:
        raise ValueError(f"unknown predictor {kind!r}; expected one of {PREDICTORS}")
    if kind == "gbm":
        from lightgbm import LGBMRegressor  # imported here: lightgbm is slow to import

        model = LGBMRegressor(
            n_estimators=n_estimators,
            subsample_freq=1,
            verbose=-1,
            min_child_samples=5,
            n_jobs=1,
            random_state=seed,
            histogram_pool_size=HISTOGRAM_POOL_MB,
        )
        space = {
            "num_leaves": randint(20, 10_001),
            "max_depth": randint(5, 16),
            "learning_rate": loguniform(1e-2, 1e-1),
            "max_bin": [63, 127, 255],
            "min_child_weight": [1, 2, 3, 4, 5],
            "reg_lambda": uniform(1e-3, 100),
            "reg_alpha": uniform(1e-6, 5),
            "subsample": [k / 10 for k in range(1, 11)],
            "colsample_bytree": loguniform(1e-2, 1e-1) if high_dimensional else uniform(0.7, 0.3),
        }
    else:
        model = SigmoidMLP(seed=seed)
        space = _net_space([0] if kind == "logit_linear" else list(range(3, 10)), epochs)
    pipe = make_pipeline(StandardScaler(), model)
    pipe.steps[-1] = ("model", pipe.steps[-1][1])
    return pipe, {f"model__{k}": v for k, v in space.items()}


def fit(
    kind: str,
    X,
    y,
    n_search: int = 1000,
    cv: int = 3,
    seed: int = 0,
    high_dimensional: bool = False,
    epochs: int = 100,
    n_estimators: int = 300,
):
    """The best of `n_search` random configurations by `cv`-fold MSE, refit on (X, y)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(X) != len(y) or len(y) < cv + 1 or not np.isfinite(y).all():
        raise ValueError(
            f"need finite targets, one per row, more than {cv} rows; got "
            f"{len(X)} rows and {len(y)} targets"
        )
    pipe, space = make(kind, high_dimensional, epochs, n_estimators, seed)
    search = RandomizedSearchCV(
        pipe,
        space,
        n_iter=n_search,
        scoring="neg_mean_squared_error",
        cv=KFold(cv, shuffle=True, random_state=seed),
        random_state=seed,
        n_jobs=1,
        error_score=math.nan,
        refit=True,
    )
    return search.fit(X, y).best_estimator_
