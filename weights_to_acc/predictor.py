"""`WeightsPredictor`: a weights-to-accuracy model as a `common.compare.Predictor`.

It learns from the final per-layer weight statistics (the ``weight_stats`` probe at the last
evaluation, W̃_L of Sec. 4.2) of fully trained networks; at budget b it reads each network's
probe at the last evaluation visible at b, so it also answers how well the weights after b
epochs predict the final accuracy, on any family whose zoo recorded the probe. Where the
networks of a zoo have different numbers of weight layers (architecture families), the
input is the statistics of the first and the last layer, W̃_L^{1,4} (Sec. 4.4), which every
network has.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.archs import Architecture
from common.compare import NotFittedError, Predictor, Requirements
from common.probes import STATS_PER_TENSOR
from common.zoo import Zoo
from weights_to_acc import features, predictors
from weights_to_acc.family import FILTERS
from weights_to_acc.features import FEATURE_SETS, HIGH_DIMENSIONAL

LAYER = 2 * STATS_PER_TENSOR  # kernel and bias statistics of one layer


def last_visible(zoo: Zoo, name: str = "weight_stats") -> list[np.ndarray | None]:
    """Each network's probe output at its last visible evaluation (None if there is none)."""
    return [rows[-1] if len(rows) else None for rows in zoo.probe_list(name)]


def stats_matrix(rows: list[np.ndarray | None], first_last: bool) -> np.ndarray:
    """[n, d] of W̃_L rows (all layers, or first and last layer); NaN rows for missing."""
    picked = [
        None
        if r is None
        else np.concatenate([r[:LAYER], r[-LAYER:]])
        if first_last
        else np.asarray(r)
        for r in rows
    ]
    width = {len(r) for r in picked if r is not None}
    if len(width) > 1:
        raise ValueError(f"weight statistics of different widths {sorted(width)}")
    d = width.pop() if width else 2 * LAYER
    return np.stack([np.full(d, np.nan) if r is None else r for r in picked])


def zoo_layout(zoo: Zoo):
    """The weight layout of a zoo's Small CNNs (input channels, classes, filters)."""
    arch = Architecture.from_json(zoo.table.arch.iloc[0])
    filters = int(zoo.spec.family_options.get("filters", FILTERS))
    return features.layout(arch.input_shape[0], arch.num_classes, filters)


WEIGHT_FREE = ("hp", "lr")  # feature sets that read no weights


def feature_matrix(zoo: Zoo, feature_set: str) -> np.ndarray:
    """Feature set `feature_set` (of `features.FEATURE_SETS`) of every Small CNN of `zoo`:
    its final weights in the zoo's layout, and/or its hyperparameter columns."""
    weights = zoo.weights() if feature_set not in WEIGHT_FREE else None
    parts = zoo_layout(zoo) if weights is not None else None
    return features.matrix(feature_set, weights, zoo.table, parts)


WITH_HYPERPARAMETERS = ("hp", "lr", "hp+W")


class WeightsPredictor(Predictor):
    """Predicts the target from a network's weights with a logit-linear, GBM or DNN model.

    With ``features=None`` (the cross-comparison's use) the input is W̃_L from the
    ``weight_stats`` probe at the last evaluation visible at the budget, on any family. With
    a name of `weights_to_acc.features.FEATURE_SETS` (the replication's Tables 1–6) it is
    that feature set of the Small CNNs' final weights (and hyperparameters), so it predicts
    only at the full budget. `Requirements` follow the feature set.
    """

    budget_free_fit = True  # it learns from the training networks' final weights only

    def __init__(
        self,
        kind: str = "gbm",
        n_search: int = 20,
        seed: int = 0,
        epochs: int = 100,
        features: str | None = None,
        n_estimators: int = 300,
    ):
        if kind not in predictors.PREDICTORS:
            raise ValueError(f"unknown predictor {kind!r}; expected one of {predictors.PREDICTORS}")
        if features is not None and features not in FEATURE_SETS:
            raise ValueError(f"unknown feature set {features!r}; expected one of {FEATURE_SETS}")
        self.kind, self.n_search, self.seed, self.epochs = kind, n_search, seed, epochs
        self.features, self.n_estimators = features, n_estimators
        if features is None:
            self.requires = Requirements(
                training_networks=True, probes=("weight_stats",), min_evals=1
            )
        else:
            reads_weights = features not in WEIGHT_FREE
            self.requires = Requirements(
                training_networks=True,
                weights=reads_weights,
                architecture=reads_weights,  # the layout of the flat weight vector
                hyperparameters=features in WITH_HYPERPARAMETERS,
            )

    @property
    def name(self) -> str:
        """``Weights[kind]``, or ``Weights[kind, features]`` for a named feature set."""
        return (
            f"Weights[{self.kind}]"
            if self.features is None
            else (f"Weights[{self.kind}, {self.features}]")
        )

    def inputs(self, zoo: Zoo) -> np.ndarray:
        """The model's [n, d] input for every network of `zoo` (NaN rows where missing)."""
        if self.features is None:
            rows = last_visible(zoo)
            if not self.first_last_ and hasattr(self, "model_"):  # fitted on one depth: other
                width = self.n_inputs_  # depths have no input (NaN), not an error
                rows = [r if r is None or len(r) == width else None for r in rows]
            return stats_matrix(rows, self.first_last_)
        return feature_matrix(zoo, self.features)

    def fit(self, zoo: Zoo, budget: float) -> WeightsPredictor:
        """Fit the model on the training networks' inputs (final W̃_L from the probe, with
        the first and last layer only where depths differ; or the named feature set)."""
        rows = last_visible(zoo) if self.features is None else []
        self.first_last_ = len({len(r) for r in rows if r is not None}) > 1
        x, y = self.inputs(zoo), zoo.target(self.target)
        ok = np.isfinite(x).all(1) & np.isfinite(y)
        self.model_ = predictors.fit(
            self.kind,
            x[ok],
            y[ok],
            self.n_search,
            seed=self.seed,
            high_dimensional=self.features in HIGH_DIMENSIONAL,
            epochs=self.epochs,
            n_estimators=self.n_estimators,
        )
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """The model's prediction from each network's input (NaN where it has none)."""
        x = self.inputs(zoo)
        out = np.full(len(x), np.nan)
        ok = np.isfinite(x).all(1)
        if ok.any():
            out[ok] = self.model_.predict(x[ok])
        return out

    def score(self, networks) -> np.ndarray:
        """Predicted final accuracy of trained networks given as ``torch.nn.Module`` or
        ``state_dict`` (one, or a list): their W̃_L (`common.probes.layer_statistics`, the
        ``weight_stats`` probe) through the fitted model, as `predict` reads it from a zoo.
        Only the ``features=None`` predictor scores modules; a network whose weight layers
        do not match what the model was trained on is refused, naming both."""
        if self.features is not None:
            raise ValueError(
                f"{self.name} reads the feature set {self.features!r} of a zoo's Small CNNs;"
                " score networks with WeightsPredictor(features=None)"
            )
        if not self.is_fitted():
            raise NotFittedError(f"{self.name} is not fitted: call fit(zoo, budget) before score")
        many = isinstance(networks, list | tuple)
        rows = [module_statistics(n) for n in (networks if many else [networks])]
        for i, row in enumerate(rows):
            n_layers = len(row) // LAYER
            if self.first_last_ and n_layers < 2:
                raise ValueError(
                    f"network {i} has {n_layers} weight layer(s); this predictor reads the first"
                    " and the last (it was trained on networks of several depths): at least 2"
                )
            if not self.first_last_ and len(row) != self.n_inputs_:
                raise ValueError(
                    f"network {i} has {n_layers} weight layers (W̃_L of {len(row)} numbers);"
                    f" this predictor was trained on {self.n_inputs_ // LAYER} weight layers"
                )
        out = self.model_.predict(stats_matrix(rows, self.first_last_))
        return out if many else float(out[0])

    @property
    def n_inputs_(self) -> int:
        """Width of the fitted model's input."""
        if isinstance(self.model_, SavedGBM):
            return len(self.model_.mean)
        return int(self.model_[0].n_features_in_)

    # ------------------------------------------------------------------ saving and loading

    def save(self, path: str | os.PathLike) -> Path:
        """Write a fitted GBM predictor to one JSON file, in safe formats only (no pickle):
        its settings, the input scaler's mean and scale, and LightGBM's own text model with
        its SHA-256. `WeightsPredictor.load` reads it back."""
        if self.kind != "gbm":
            raise ValueError(
                f"only the 'gbm' predictor can be saved (LightGBM's text model); got {self.kind!r}"
            )
        if not self.is_fitted():
            raise NotFittedError(f"{self.name} is not fitted: call fit(zoo, budget) before save")
        gbm = (
            self.model_
            if isinstance(self.model_, SavedGBM)
            else SavedGBM.from_pipeline(self.model_)
        )
        text = gbm.booster.model_to_string()
        doc = {
            "format": SAVE_FORMAT,
            "settings": {k: getattr(self, k) for k in SETTINGS},
            "target": self.target,
            "first_last": self.first_last_,
            "scaler": {"mean": gbm.mean.tolist(), "scale": gbm.scale.tolist()},
            "lightgbm": text,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }
        path = Path(path)
        path.write_text(json.dumps(doc))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> WeightsPredictor:
        """A predictor saved by `save`. A truncated, damaged or foreign file raises a
        ValueError naming the file and what is wrong with it."""
        path = Path(path)
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no saved predictor at {path}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as bad:
            raise ValueError(
                f"{path}: not a saved WeightsPredictor (truncated or not JSON: {bad})"
            ) from None
        missing = sorted(
            {"format", "settings", "target", "first_last", "scaler", "lightgbm", "sha256"}
            - set(doc if isinstance(doc, dict) else ())
        )
        if missing:
            raise ValueError(f"{path}: not a saved WeightsPredictor (missing {missing})")
        if not isinstance(doc["format"], int) or doc["format"] > SAVE_FORMAT:
            raise ValueError(f"{path}: saved by a newer nnperf (format {doc['format']}); upgrade")
        text = doc["lightgbm"]
        if hashlib.sha256(text.encode()).hexdigest() != doc["sha256"]:
            raise ValueError(
                f"{path}: the LightGBM model does not match its SHA-256: the file is damaged"
            )
        from lightgbm import Booster
        from lightgbm.basic import LightGBMError

        try:
            booster = Booster(model_str=text)
        except LightGBMError as bad:
            raise ValueError(f"{path}: LightGBM cannot read the saved model ({bad})") from None
        p = cls(**doc["settings"])
        p.target, p.first_last_ = doc["target"], bool(doc["first_last"])
        scaler = doc["scaler"]
        p.model_ = SavedGBM(np.asarray(scaler["mean"]), np.asarray(scaler["scale"]), booster)
        return p


SAVE_FORMAT = 1  # version of the saved-predictor file; a newer one is refused by name
SETTINGS = ("kind", "n_search", "seed", "epochs", "features", "n_estimators")


@dataclass
class SavedGBM:
    """A fitted GBM pipeline in its saved form: standardisation, then LightGBM's booster
    (the same arithmetic as scikit-learn's `StandardScaler` and `LGBMRegressor.predict`)."""

    mean: np.ndarray
    scale: np.ndarray
    booster: object

    @classmethod
    def from_pipeline(cls, pipeline) -> SavedGBM:
        """The scaler's statistics and the booster of a fitted ``StandardScaler → LGBM``."""
        scaler, model = pipeline[0], pipeline[-1]
        return cls(scaler.mean_, scaler.scale_, model.booster_)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """LightGBM's prediction on the standardised input."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[1] != len(self.mean):
            raise ValueError(
                f"inputs of {x.shape[1]} features; this predictor was trained on {len(self.mean)}"
            )
        return self.booster.predict((x - self.mean) / self.scale)


def module_statistics(network) -> np.ndarray:
    """W̃_L of a ``torch.nn.Module``, or of a ``state_dict`` (its 2-d and 4-d weights and
    their biases, in order)."""
    import torch
    from torch import nn

    from common.probes import layer_statistics, pair_statistics

    if isinstance(network, nn.Module):
        return layer_statistics(network)
    if not isinstance(network, dict):
        raise TypeError(f"expected a torch.nn.Module or a state_dict, got {type(network).__name__}")
    pairs = [
        (value, network.get(name[: -len("weight")] + "bias"))
        for name, value in network.items()
        if name.endswith("weight") and torch.is_tensor(value) and value.dim() in (2, 4)
    ]
    if not pairs:
        raise ValueError("the state_dict holds no convolution or linear weights")
    return pair_statistics(pairs)
