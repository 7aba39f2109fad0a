"""The Small CNN Zoo's family ``smallcnn`` (Unterthiner et al., Sec. 4.1, Appendix A.1–A.2).

One architecture: three 3×3 convolutions of 16 filters with stride 2, each followed by the
activation and dropout, global average pooling and one dense layer (4,970 weights for one
input channel and 10 classes). Per network, sampled independently (Appendix A.2): optimiser
{SGD, Adam, RMSProp}; learning rate LogU[5e-4, 5e-2]; L2 coefficient LogU[1e-8, 1e-2];
dropout U[0, 0.7]; initialiser variance LogU[1e-3, 0.5]; initialiser {Xavier normal, He
normal, orthogonal, normal, truncated normal}; activation {ReLU, tanh}; fraction of the
training data {0.1, 0.25, 0.5, 1.0}; biases zero. Inputs are scaled to [−1, 1] (the zoo
spec's ``symmetric`` scaling).

Where the paper's text leaves a detail open, the authors' released training code
(google-research ``dnn_predict_accuracy/train_network.py``, Keras) settles it. We follow it
except where noted, and say which:

- padding: the released code's convolutions use Keras' default ``valid`` padding. On 8×8
  digits three valid 3×3/2 convolutions collapse the image (8 → 3 → 1 → nothing), so we use
  padding 1 (TensorFlow's ``same`` for stride 2 and odd inputs); on 28×28 and 32×32 inputs
  this keeps one more row and column per layer than the released code. A departure.
- initialiser variance: Appendix A.2 calls it a variance; the released code assigns the
  sampled value to the initialiser's ``stddev``. We read it as the paper's text does (a
  variance, `common.train.initialize` takes its square root). A departure from the code,
  kept because the text is what the zoo's λ columns describe.
- L2: the released code adds ``l2 · Σ w²`` over *kernels only* (Keras kernel regularisers).
  We use the optimiser's weight decay (adds ``l2 · w`` to the gradient, half the released
  gradient) on kernels and biases. A departure; biases start at zero and stay small.
- RMSProp: the released code takes Keras' default ρ = 0.9; both our trainers keep torch's
  default α = 0.99 (`batched.RMS_ALPHA`, `common.train.make_optimizer`). A departure.
- He normal: Keras' ``he_normal`` draws from a *truncated* normal; ours is torch's untruncated
  ``kaiming_normal_``. A departure.
- SGD is plain (``vanilla`` in Appendix A.2, Keras ``sgd``: no momentum), the learning rate
  is constant (the released code's ``reduce_learningrate`` defaults to off), and the
  minibatch has 32 images (the released code's flag defaults to 512; the paper does not say
  which the zoo used). The initialiser variance applies to the normal and truncated-normal
  initialisers only (the released code sets ``stddev`` on exactly those two).
"""

from __future__ import annotations

import numpy as np

from common import zoo
from common.train import Recipe
from weights_to_acc.batched import train_batched
from weights_to_acc.smallcnn import ACTIVATIONS, FILTERS, N_CONV, architecture, describe

# architecture, describe and the constants stay importable from here (re-exported)
__all__ = ["ACTIVATIONS", "FILTERS", "N_CONV", "architecture", "describe", "sample"]

OPTIMIZERS = ("sgd", "adam", "rmsprop")
INITS = ("xavier_normal", "he_normal", "orthogonal", "normal", "truncated_normal")
TRAIN_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
BATCH_SIZE = 32


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def sample(
    rng: np.random.Generator,
    *,
    input_shape,
    num_classes: int,
    epochs: float = 86.0,
    filters: int = FILTERS,
    subset: float = 1.0,
):
    """One network of the zoo: (architecture, recipe, {"activation", "dropout", "fraction"}).

    `subset` < 1 shrinks the dataset for small scales: the network trains on its sampled
    fraction of a `subset` of the training split (recipe.train_fraction is the product; the
    sampled fraction is the column ``fraction``)."""
    optimizer = OPTIMIZERS[rng.integers(len(OPTIMIZERS))]
    lr = log_uniform(rng, 5e-4, 5e-2)
    l2 = log_uniform(rng, 1e-8, 1e-2)
    dropout = float(rng.uniform(0.0, 0.7))
    variance = log_uniform(rng, 1e-3, 0.5)
    init = INITS[rng.integers(len(INITS))]
    activation = ACTIVATIONS[rng.integers(len(ACTIVATIONS))]
    fraction = TRAIN_FRACTIONS[rng.integers(len(TRAIN_FRACTIONS))]
    if not 0 < subset <= 1:
        raise ValueError(f"subset={subset}: expected a fraction in (0, 1]")
    recipe = Recipe(
        optimizer=optimizer,
        lr=lr,
        momentum=0.0,
        weight_decay=l2,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        train_fraction=fraction * subset,
        init=init,
        init_variance=variance,
    )
    arch = architecture(input_shape, num_classes, activation, dropout, filters)
    return arch, recipe, {"activation": activation, "dropout": dropout, "fraction": fraction}


zoo.register_family("smallcnn", sample, batch_trainer=train_batched)
