"""The replication's computations (Deng et al., Sec. 5): zoos per scale, Table 2 statistics,
Tables 3–4 against curve-based baselines, the Sec. 5.3 selection adapted, and the
representation studies of Sec. 5.4 (Figs. 6–7). The notebook only calls these and plots.

Scales: ``smoke`` (a dozen tiny `blocks` networks on digits), ``book`` (digits, and an MNIST
training subset when MNIST is under the data root; narrow networks capped in weights, a few
epochs, on a 2-core CPU) and ``paper`` (CIFAR-10 and MNIST with the paper's 844 + 800 and
471 + 400 networks, base width 16, no cap; a GPU and days). The paper does not state its
total epochs (the lr drops every 60 / 80 epochs): we train 160.

Baselines come from other packages (packages do not import each other): the notebook passes
them in as `common.compare.Predictor` objects, e.g. ``srm_earlystop``'s ν-SVR and Bayesian
linear regression (BLR) on 25 % of each curve. Klein et al.'s BNN is out of scope; BLR is the
Bayesian baseline and is labelled so, beside the paper's BNN numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch
from sklearn.manifold import TSNE

from common import archs, compare, data, metrics, scales, scaling, train, zoo
from peephole import blocks, model
from peephole.predictor import PeepholePredictor
from peephole.ulc import TYPE_CODES, encode

PAPER = {
    # Table 2: size, mean, std, min, max of the validation accuracies
    "table2": {
        "cifar10": {
            "train": (844, 0.74, 0.07, 0.50, 0.89),
            "validation": (800, 0.73, 0.08, 0.48, 0.88),
        },
        "mnist": {
            "train": (471, 0.98, 0.03, 0.52, 0.99),
            "validation": (400, 0.98, 0.04, 0.49, 0.99),
        },
    },
    # Tables 3 (CIFAR-10) and 4 (MNIST): MSE, Kendall τ, R²
    "table3": {
        "Peephole": (0.0010, 0.7696, 0.8596),
        "ν-SVR": (0.0018, 0.6232, 0.7321),
        "BNN": (0.0032, 0.5417, 0.5400),
    },
    "table4": {
        "Peephole": (0.0003, 0.5036, 0.4681),
        "ν-SVR": (0.0008, 0.3489, 0.2121),
        "BNN": (0.0004, 0.3380, 0.1921),
    },
    # Table 5: parameters, CIFAR-10 predicted / real, ImageNet top-1 / top-5 (%)
    "table5": {
        "VGG-13": ("126M", None, None, 71.55, 90.37),
        "Selected": ("35M", 87.52, 88.06, 71.91, 90.53),
    },
}
PAPER_NAME = {"Peephole": "Peephole", "ν-SVR": "ν-SVR", "BLR": "BNN"}  # ours -> paper's row


@dataclass(frozen=True, kw_only=True)
class Scale:
    """Sizes of one scale and dataset."""

    n_networks: int
    epochs: float
    base_width: int
    max_params: int | None  # cap on a sampled network's weights (None: the paper, no cap)
    train_share: float = 0.5  # networks that train Peephole (paper: 844 of 1,644)
    train_fraction: float = 1.0  # of the dataset's training split
    val_size: float | int = 0.2
    predictor_epochs: int = 300  # Peephole's own training epochs
    n_search: int = 100  # random-search configurations of the baselines
    candidates: int = 1000  # unseen architectures scored for the Sec. 5.3 selection
    scale_up: int = 2  # width multiplier of the selected network, on this scale's dataset
    lr: float = 0.1  # the recipe's (Sec. 5.1: SGD, lr 0.1)
    optimizer: str = "sgd"
    batch_size: int | None = None  # imposed on every network (None: the recipe's 64)
    eval_every: float = 1.0
    probes: tuple[str, ...] = ()
    copies: int = 2  # block copies per stage (the paper: "a stack of blocks")


# Book scale on digits, calibrated (issue 14). The paper trains every network with one
# recipe (SGD, lr 0.1) for tens of thousands of steps; at 8 epochs of batch 64 (144 steps)
# and base width 8, 54 % of 24 sampled networks stayed at chance. Measured on 12-24 networks
# each: more steps alone (batch 16, 20 epochs) did not help (lr 0.1 kills deep sigmoid/tanh
# stacks); SGD lr 0.01 left 25-33 % at chance; width 8 lets channel ratios of 1/4 make 1-2
# channel bottlenecks. The book keeps one recipe for all networks, as the paper does, but
# Adam at lr 1e-3 (divided by 10 at 50 % and 75 %), batch 16 (72 steps an epoch, 1,080 in
# 15 epochs), base width 16 (the paper's) under a 150k-weight cap, and one block per stage
# (the paper's "stack of blocks" has no stated height; with two, the chain's sigmoid/tanh
# runs repeat six times and their training loss stays at ln 10: on 8 networks each, 2 of 8
# at chance with two copies, 1 of 8 with one). The digits zoo is the
# comparison chapter's architecture zoo (same spec: validated every half epoch, with the
# weight_stats and fh probes), so one build serves both chapters.
BOOK_DIGITS = Scale(
    n_networks=160,
    epochs=15.0,
    base_width=16,
    max_params=150_000,
    predictor_epochs=150,
    n_search=20,
    lr=1e-3,
    optimizer="adam",
    batch_size=16,
    eval_every=0.5,
    probes=("weight_stats", "fh"),
    copies=1,
)
# Book scale on MNIST (NNPERF_DATA; shipped under zoos/), calibrated (issue 14) with the
# digits recipe above: at the old setting (2 % subset, 4 epochs of batch 64: 76 steps, base
# width 4) 56 % of 32 networks sat at chance. A 5 % subset (2,900 images) in 5 epochs of
# batch 16 gives 910 steps, near the digits zoo's 1,080; base width 16 under the 150k cap as
# on digits (probe of 6 networks, 6 epochs: none at chance, median 0.88, best 0.97; base
# width 8 left a quarter near 0.35). 2,000 validation images (binomial noise 0.7 points at
# 0.9). 160 networks (48 until 2026-12-03, grown to 160 in 46 min of two cores, ~50 s a
# network a worker), as many as the digits zoo: the chapter's headline τ is measured here when
# MNIST is present (`headline_dataset`: its ceiling, 0.823 τ, is over 0.8; digits' 0.784 is
# not), with the same 80 training architectures as on digits; the paper has 471 + 400.
# Health of the 160: 4.4 % at chance, median 0.937, best 0.981. Validated once an epoch,
# without the comparison's probes.
BOOK_MNIST = replace(
    BOOK_DIGITS,
    n_networks=160,
    epochs=5.0,
    train_fraction=0.05,
    val_size=2000,
    eval_every=1.0,
    probes=(),
    scale_up=1,  # the transfer target's widening: 2× at 28×28 trained ~4× longer (~10 min)
)
SCALES = {
    "smoke": {
        "digits": Scale(
            n_networks=20,  # 12 held out: no metric on fewer than 10 networks
            epochs=2.0,
            base_width=4,
            max_params=4_000,
            predictor_epochs=20,
            n_search=3,
            candidates=20,
        )
    },
    "book": {
        "digits": BOOK_DIGITS,
        "mnist": BOOK_MNIST,
    },
    "paper": {
        "cifar10": Scale(
            n_networks=1644, epochs=160.0, base_width=16, max_params=None, train_share=844 / 1644
        ),
        "mnist": Scale(
            n_networks=871, epochs=160.0, base_width=16, max_params=None, train_share=471 / 871
        ),
    },
}


def scale_of(dataset: str, scale: str, **overrides) -> Scale:
    """The settings of `dataset` at `scale`; keywords that are not None replace fields
    (the chapters' ``n_networks`` and ``epochs`` parameters)."""
    return scales.settings(SCALES, dataset, scale, **overrides)


def default_datasets(scale: str, root=None) -> list[str]:
    """The scale's datasets present under the data root (the rest are logged and skipped)."""
    return scales.datasets(SCALES, scale, root)


def zoo_spec(dataset: str, scale: str, seed: int = 0, **overrides) -> zoo.ZooSpec:
    """The ``blocks`` zoo of `dataset` at `scale` (options at the paper's values are left
    out of the spec, so the book's digits zoo is the comparison chapter's)."""
    s = scale_of(dataset, scale, **overrides)
    options = {"base_width": s.base_width, "max_params": s.max_params}
    options |= {"train_fraction": s.train_fraction} if s.train_fraction != 1.0 else {}
    options |= {"lr": s.lr, "optimizer": s.optimizer} if (s.lr, s.optimizer) != (0.1, "sgd") else {}
    options |= {"copies": s.copies} if s.copies != 2 else {}
    return zoo.ZooSpec(
        "blocks",
        dataset,
        n_networks=s.n_networks,
        seed=seed,
        epochs=s.epochs,
        eval_every=s.eval_every,
        family_options=options,
        val_size=s.val_size,
        batch_size=s.batch_size,
        probes=s.probes,
    )


PAPER_DATASET = {"mnist": "mnist", "fashion_mnist": "mnist"}  # the rest compare to CIFAR-10
TRANSFER_PREFERENCE = ("cifar10", "fashion_mnist", "mnist", "digits")  # largest first


def paper_dataset(dataset: str) -> str:
    """The paper's dataset whose numbers stand beside ours for `dataset`."""
    return PAPER_DATASET.get(dataset, "cifar10")


def paper_table(dataset: str) -> dict:
    """The paper's Table 3 (CIFAR-10) or Table 4 (MNIST), whichever stands beside `dataset`."""
    return PAPER["table4" if paper_dataset(dataset) == "mnist" else "table3"]


PAPER_SETTING = {"cifar10": "CIFAR-10, 844 architectures", "mnist": "MNIST, 471 architectures"}
HEADLINE_PREFERENCE = ("mnist",)  # measured first where present (the ceiling: README)


def headline_dataset(datasets) -> str:
    """The dataset of `datasets` whose zoo the headline τ is measured on: MNIST when it is
    there, else the first. The noise ceiling decides it: on digits' 288 validation images the
    book's blocks networks end within a few images of each other (ceiling τ 0.784), on
    MNIST's 2,000 they can be ranked (0.823; both over 40 re-trained networks, README)."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("no dataset to measure the headline on")
    return next((d for d in HEADLINE_PREFERENCE if d in datasets), datasets[0])


def paper_headline(dataset: str) -> tuple[float, str]:
    """The paper's Peephole τ that stands beside ours on `dataset`, and its setting (Table 3
    on CIFAR-10's 844 training architectures, Table 4 on MNIST's 471)."""
    return paper_table(dataset)["Peephole"][1], PAPER_SETTING[paper_dataset(dataset)]


def transfer_dataset(datasets) -> str:
    """The largest of `datasets` (Sec. 5.3 trains the selected network on a larger one)."""
    ranked = [d for p in TRANSFER_PREFERENCE for d in datasets if data.base_name(d) == p]
    return ranked[0] if ranked else list(datasets)[0]


def split(z: zoo.Zoo, s: Scale, seed: int = 0) -> tuple[zoo.Zoo, zoo.Zoo]:
    """(train, validation) zoos of the finished networks, `train_share` of them training."""
    z = z.finished()
    order = np.random.default_rng(seed).permutation(len(z))
    cut = max(2, round(s.train_share * len(order)))
    if len(order) - cut < 2:
        raise ValueError(f"{len(order)} finished networks: too few to split")
    return z.subset(np.sort(order[:cut])), z.subset(np.sort(order[cut:]))


def peephole_predictor(s: Scale, device="auto", seed: int = 0) -> PeepholePredictor:
    """Peephole at the scale's size (Sec. 5.1's network, the scale's epochs)."""
    config = replace(model.SEC_5_1, epochs=s.predictor_epochs, seed=seed)
    return PeepholePredictor(config, device)


def compare_methods(
    train_zoo: zoo.Zoo,
    val_zoo: zoo.Zoo,
    s: Scale,
    baselines=None,
    fraction: float = 0.25,
    device="auto",
):
    """Tables 3–4: Peephole (architecture only) against `baselines` (label -> Predictor)
    given `fraction` of each validation curve, on the held-out networks, beside the paper's
    table of the zoo's dataset (`paper_table`).

    Returns (metrics table with the paper's numbers, predictions per method for Fig. 5, the
    fitted `PeepholePredictor`)."""
    methods = {"Peephole": (peephole_predictor(s, device), 0.0)}
    methods |= {
        label: (p, fraction * val_zoo.spec.epochs) for label, p in (baselines or {}).items()
    }
    truth = val_zoo.target("final_val_acc")
    rows, predictions, fitted = [], [], {}
    for label, (predictor, budget) in methods.items():
        fitted[label], pred, fit_s, _ = compare.fit_predict(predictor, train_zoo, val_zoo, budget)
        paper = paper_table(val_zoo.spec.dataset).get(PAPER_NAME.get(label, label), (np.nan,) * 3)
        rows.append(
            {
                "method": label,
                "curve seen (epochs)": budget,
                "MSE": metrics.mse(truth, pred),
                "Tau": metrics.kendall_tau(truth, pred),
                "R2": metrics.r2(truth, pred),
                "fit seconds": fit_s,
                "paper MSE": paper[0],
                "paper Tau": paper[1],
                "paper R2": paper[2],
                "paper row": PAPER_NAME.get(label, "-"),
            }
        )
        predictions.append(pd.DataFrame({"method": label, "actual": truth, "predicted": pred}))
    return pd.DataFrame(rows), pd.concat(predictions, ignore_index=True), fitted["Peephole"]


def tau_scaling(z: zoo.Zoo, s: Scale, sizes=None, seeds=(0, 1, 2), device="auto"):
    """The headline claim's scaling curve (issue 14): Kendall τ of Peephole on the held-out
    half of split `seed` against the number of training architectures (a random `n` of the
    split's training half), one value per (size, seed)."""
    halves = {seed: split(z, s, seed) for seed in seeds}
    top = min(len(train) for train, _ in halves.values())
    sizes = sizes or sorted({n for n in (10, 40, top) if 4 <= n <= top} or {top})

    def measure(n: int, seed: int) -> float:
        train, held = halves[seed]
        rows = np.sort(np.random.default_rng(seed).permutation(len(train))[:n])
        _, pred, _, _ = compare.fit_predict(
            peephole_predictor(s, device, seed), train.subset(rows), held, 0.0
        )
        return metrics.kendall_tau(held.target("final_val_acc"), pred)

    return scaling.curve(measure, sizes, seeds)


def _tensors(codes, net: model.Peephole) -> list[torch.Tensor]:
    return model.as_tensors(codes, next(net.parameters()).device)


@torch.no_grad()
def structural_features(net: model.Peephole, codes) -> np.ndarray:
    """The LSTM's last hidden state per architecture (the structural feature), [n, hidden]."""
    return net.structure(_tensors(codes, net)).cpu().numpy()


def tsne(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """Fig. 7: a 2-d t-SNE embedding of the structural features. Exact gradients up to
    `TSNE_EXACT` points: scikit-learn's Barnes-Hut approximation spent 35-43 s on 4 to 400
    points on a busy 2-core machine (its OpenMP threads wait on each other at every
    iteration), the exact method 0.06-6 s."""
    perplexity = min(30.0, (len(features) - 1) / 3)
    method = "exact" if len(features) <= TSNE_EXACT else "barnes_hut"
    return TSNE(
        2, perplexity=perplexity, random_state=seed, init="pca", method=method
    ).fit_transform(features)


TSNE_EXACT = 1000  # the paper scale's 800 held-out networks included (O(n²): ~25 s)


@torch.no_grad()
def cell_states(net: model.Peephole, codes: np.ndarray) -> np.ndarray:
    """The LSTM's cell state after each layer of one architecture, [n_layers, hidden]."""
    x = net.layer_vectors(_tensors([codes], net)[0]).unsqueeze(0)  # [1, L, 4d]
    state, cells = None, []
    for t in range(x.shape[1]):
        _, state = net.lstm(x[:, t : t + 1], state)
        cells.append(state[1][-1, 0].cpu().numpy())
    return np.stack(cells)


def cell_trace(net: model.Peephole, codes: np.ndarray, unit: int) -> pd.DataFrame:
    """Fig. 6: one unit's cell state along one architecture's layers."""
    names = {code: name for name, code in TYPE_CODES.items()}
    return pd.DataFrame(
        {
            "layer": np.arange(len(codes)),
            "type": [names[int(c)] for c in codes[:, 0]],
            "response": cell_states(net, codes)[:, unit],
        }
    )


def conv_cell(net: model.Peephole, codes_list) -> tuple[int, float]:
    """Fig. 6: the LSTM unit whose cell-state change correlates best with "this layer is a
    convolution" over the given architectures; (unit, correlation)."""
    steps, is_conv = [], []
    for codes in codes_list:
        cells = cell_states(net, codes)
        steps.append(np.diff(cells, axis=0, prepend=np.zeros((1, cells.shape[1]))))
        is_conv.append(codes[:, 0] == 1)
    d, c = np.concatenate(steps), np.concatenate(is_conv).astype(float)
    d = (d - d.mean(0)) / (d.std(0) + 1e-12)
    corr = (d * ((c - c.mean()) / c.std())[:, None]).mean(0)
    unit = int(np.argmax(corr))
    return unit, float(corr[unit])


def vgg_like(input_shape, num_classes: int, width: int) -> archs.Architecture:
    """The VGG-style baseline: `common.archs.vgg_style` with three stages of two convs."""
    return archs.vgg_style(input_shape, num_classes, width)


def vgg_of_size(input_shape, num_classes: int, n_params: int) -> archs.Architecture:
    """The VGG-style network whose weight count is closest to `n_params`."""
    candidates = [vgg_like(input_shape, num_classes, w) for w in range(1, 257)]
    return min(candidates, key=lambda a: abs(archs.num_params(a) - n_params))


def zoo_recipe(s: Scale, epochs: float) -> train.Recipe:
    """The recipe every network of the scale's zoo trains with (`blocks.recipe` with the
    scale's lr, optimiser and batch size), for a network trained outside the zoo."""
    recipe = blocks.recipe(epochs, s.train_fraction, s.lr, s.optimizer)
    return replace(recipe, batch_size=s.batch_size or recipe.batch_size)


def select_and_transfer(
    predictor: PeepholePredictor,
    source: zoo.Zoo,
    s: Scale,
    target_dataset: str,
    target: Scale,
    seed: int = 0,
    device="auto",
):
    """Sec. 5.3 adapted: score `s.candidates` unseen architectures of the source zoo's space,
    take the best-predicted one (and, as a control, the median-predicted one), train each on
    the source dataset (its real accuracy), then widen it `target.scale_up`× and train it and a
    VGG-style network of similar size on `target_dataset` with the target scale's recipe
    (both trainings use the zoos' own recipes, `zoo_recipe`, so the real accuracy on the
    source is comparable with the zoo Peephole learnt from)."""
    small = data.load(source.spec.dataset, val_size=source.spec.val_size, seed=source.spec.seed)
    large = data.load(target_dataset, val_size=target.val_size, seed=seed)
    rng = np.random.default_rng([seed, 5_3])  # a stream the zoo's networks never use
    drawn = [
        blocks.sample_valid(
            rng, small.input_shape, small.num_classes, s.base_width, max_params=s.max_params
        )[0]
        for _ in range(s.candidates)
    ]
    skeletons = [
        blocks.skeleton(b, small.input_shape, small.num_classes, s.base_width) for b in drawn
    ]
    epoch = predictor.epoch(source)
    predicted = model.predict(predictor.model_, [encode(a) for a in skeletons], epoch)
    order = np.argsort(predicted)
    picks = {
        "Selected (best predicted)": order[-1],
        "Control (median predicted)": order[len(order) // 2],
    }
    rows = []
    for label, i in picks.items():
        real = train.train(
            skeletons[i],
            zoo_recipe(s, source.spec.epochs),
            small,
            seed=seed,
            device=device,
        )
        big = blocks.skeleton(
            drawn[i], large.input_shape, large.num_classes, s.base_width * target.scale_up
        )
        rows.append((label, big, predicted[i], real.curves["val_acc"][-1]))
    rows.append(
        (
            "VGG-style",
            vgg_of_size(large.input_shape, large.num_classes, archs.num_params(rows[0][1])),
            np.nan,
            np.nan,
        )
    )
    recipe = zoo_recipe(target, target.epochs)
    out = []
    for label, arch, pred, real in rows:
        result = train.train(arch, recipe, large, seed=seed, device=device)
        out.append(
            {
                "network": label,
                "weights": archs.num_params(arch),
                f"predicted on {source.spec.dataset}": pred,
                f"real on {source.spec.dataset}": real,
                f"test accuracy on {target_dataset}": result.test_acc,
            }
        )
    return pd.DataFrame(out), len(drawn)
