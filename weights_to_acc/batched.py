"""Many Small CNNs trained at once on one device (`torch.func.vmap` over stacked parameters).

Every network keeps its own hyperparameters, initialisation, data subset, minibatch order
and dropout masks, drawn exactly as `common.train.Run` draws them, so the same seed gives the
same weights within float tolerance (tested for every optimiser and activation):

- initial weights: ``torch.manual_seed(seed)``, build, `common.train.initialize`;
- the training subset: NumPy's generator seeded with `seed`; the order of each epoch: a torch
  generator seeded with `seed`;
- dropout masks: a generator continuing the global stream after initialisation, drawing one
  Bernoulli tensor per dropout layer and step, as ``nn.Dropout`` does on the CPU.

Only the arithmetic is batched: one vmapped forward/backward per step for all networks of a
group (networks with the same number of training images, batch size and epochs, hence the
same steps), and the SGD / Adam / RMSProp updates of ``torch.optim`` written as batched
tensor operations with per-network learning rates, weight decays and momenta.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import grad_and_value, vmap

from common import archs
from common.data import Splits
from common.train import (
    Evaluation,
    Recipe,
    RunResult,
    epoch_order,
    eval_steps,
    initialize,
    lr_factor,
    resolve_device,
)
from weights_to_acc.smallcnn import N_CONV, describe

ADAM_BETAS, RMS_ALPHA, EPS = (0.9, 0.999), 0.99, 1e-8  # torch.optim's defaults
ACTIVATION_BUDGET = 2**25  # floats of first-layer activations per evaluation chunk


def forward(params, x, masks, relu):
    """One Small CNN: logits and penultimate features. `masks` None: evaluation mode."""
    h = x
    for i in range(N_CONV):
        h = F.conv2d(h, params[2 * i], params[2 * i + 1], stride=2, padding=1)
        h = torch.where(relu, F.relu(h), torch.tanh(h))
        if masks is not None:
            h = h * masks[i]
    feats = h.mean(dim=(2, 3))
    return F.linear(feats, params[-2], params[-1]), feats


def _loss(params, x, y, masks, relu):
    logits, _ = forward(params, x, masks, relu)
    return F.cross_entropy(logits, y), logits


_step = vmap(grad_and_value(_loss, has_aux=True))
_infer = vmap(forward, in_dims=(0, None, None, 0))


def _per_net(values, like: torch.Tensor) -> torch.Tensor:
    """[N] values shaped to broadcast against a stacked parameter [N, ...]."""
    return values.view(-1, *([1] * (like.dim() - 1)))


class _Group:
    """Networks that share their step count: trained in lockstep."""

    def __init__(self, nets, splits: Splits, eval_every: float, device, probes, keep_weights):
        self.nets, self.dev, self.keep_weights = nets, device, keep_weights
        factories = dict(probes or {})
        self.probes = [{name: make() for name, make in factories.items()} for _ in nets]
        if any(hasattr(p, "on_train_batch") for ps in self.probes for p in ps.values()):
            raise ValueError("probes with on_train_batch need the one-at-a-time trainer")
        self.probe_names = list(factories)
        self.data = splits.to(device)
        self.start = time.perf_counter()
        self.recipes = [r for _, r, _ in nets]
        first = self.recipes[0]
        n_all = len(self.data.train_y)
        self.n_train = max(1, round(first.train_fraction * n_all))
        self.batch = first.batch_size
        self.steps_per_epoch = math.ceil(self.n_train / self.batch)
        self.eval_epochs, self.eval_steps = eval_steps(
            first.epochs, eval_every, self.steps_per_epoch
        )
        params, self.generators, self.subsets, self.shuffles = [], [], [], []
        self.templates = []
        for arch, recipe, seed in nets:
            torch.manual_seed(seed)
            model = archs.build(arch)
            initialize(model, recipe.init, recipe.init_variance)
            params.append([p.detach() for p in model.parameters()])
            self.templates.append(model)
            dropout_stream = torch.Generator()
            dropout_stream.set_state(torch.get_rng_state())
            self.generators.append(dropout_stream)
            perm = np.random.default_rng(seed).permutation(n_all)[: self.n_train]
            self.subsets.append(torch.from_numpy(perm))
            self.shuffles.append(torch.Generator().manual_seed(seed))
        self.params = [torch.stack(ps).to(device) for ps in zip(*params, strict=True)]
        described = [describe(arch) for arch, _, _ in nets]
        self.relu = torch.tensor([a == "relu" for a, _ in described], device=device)
        self.p_drop = [p for _, p in described]
        layers = zip(archs.shapes(nets[0][0]), nets[0][0].layers, strict=True)
        self.shapes = [shape for shape, layer in layers if layer["type"] == "dropout"]

        def per_net(name):
            return torch.tensor([float(getattr(r, name)) for r in self.recipes], device=device)

        self.lr, self.wd, self.momentum = (
            per_net("lr"),
            per_net("weight_decay"),
            per_net("momentum"),
        )
        kinds = [r.optimizer for r in self.recipes]
        self.kind = {
            k: torch.tensor([x == k for x in kinds], device=device)
            for k in ("sgd", "adam", "rmsprop")
        }
        self.state = {k: [torch.zeros_like(p) for p in self.params] for k in ("buf", "m", "v")}
        self.scheduled = any(r.schedule != "constant" for r in self.recipes)

    # -- one step ------------------------------------------------------------------------
    def masks(self, b: int) -> list[torch.Tensor]:
        """Dropout masks [N, b, C, H, W] per dropout layer, each network from its stream."""
        out = []
        for shape in self.shapes:
            mask = torch.ones((len(self.nets), b, *shape))
            for n, (p, gen) in enumerate(zip(self.p_drop, self.generators, strict=True)):
                if p >= 1:
                    mask[n].zero_()
                elif p > 0:  # p = 0 draws nothing, as F.dropout
                    mask[n].bernoulli_(1 - p, generator=gen).div_(1 - p)
            out.append(mask.to(self.dev))
        return out

    def update(self, grads, step: int):
        lr = self.lr
        if self.scheduled:
            epoch = step / self.steps_per_epoch
            factors = [lr_factor(r, epoch) for r in self.recipes]
            lr = lr * torch.tensor(factors, device=self.dev)
        b1, b2 = ADAM_BETAS
        t = step + 1
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            g = g + _per_net(self.wd, p) * p
            buf, m, v = self.state["buf"][i], self.state["m"][i], self.state["v"][i]
            # SGD (momentum buffer starts as the first gradient), Adam, RMSProp share `v`
            buf.copy_(g if step == 0 else _per_net(self.momentum, p) * buf + g)
            m.lerp_(g, 1 - b1)
            alpha = torch.where(_per_net(self.kind["adam"], p), b2, RMS_ALPHA)
            v.mul_(alpha).add_((1 - alpha) * g * g)
            denom_adam = (v.sqrt() / math.sqrt(1 - b2**t)).add_(EPS)
            sgd = buf * _per_net(self.momentum > 0, p) + g * _per_net(self.momentum == 0, p)
            adam = m / denom_adam / (1 - b1**t)
            rms = g / (v.sqrt() + EPS)
            kind = self.kind
            direction = torch.where(
                _per_net(kind["sgd"], p), sgd, torch.where(_per_net(kind["adam"], p), adam, rms)
            )
            p.sub_(_per_net(lr, p) * direction)

    # -- evaluation ----------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, alive: np.ndarray, with_probes: bool):
        """Loss, accuracy (and probe values) of the alive networks on (x, y)."""
        n_nets = len(self.nets)
        loss, acc = np.full(n_nets, np.nan), np.full(n_nets, np.nan)
        probes = {}
        per_image = math.prod(self.shapes[0])
        rows = max(1, min(len(x), 4096))
        chunk = max(1, ACTIVATION_BUDGET // (per_image * rows))
        live = np.flatnonzero(alive)
        for start in range(0, len(live), chunk):
            ids = torch.as_tensor(live[start : start + chunk], device=self.dev)
            params = [p[ids] for p in self.params]
            parts = [
                _infer(params, x[i : i + rows], None, self.relu[ids])
                for i in range(0, len(x), rows)
            ]
            logits = torch.cat([lg for lg, _ in parts], dim=1)
            feats = torch.cat([f for _, f in parts], dim=1)
            for k, n in enumerate(ids.tolist()):
                loss[n] = F.cross_entropy(logits[k], y).item()
                acc[n] = (logits[k].argmax(1) == y).float().mean().item()
                if with_probes and self.probe_names:
                    model = self.load(n)
                    probes[n] = {
                        name: np.asarray(p(model, feats[k], y))
                        for name, p in self.probes[n].items()
                    }
        return loss, acc, probes

    def load(self, n: int) -> torch.nn.Module:
        """Network `n`'s current weights in its own module (for probes)."""
        model = self.templates[n].to(self.dev).eval()
        with torch.no_grad():
            for target, stacked in zip(model.parameters(), self.params, strict=True):
                target.copy_(stacked[n])
        return model

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> list[RunResult]:
        n_nets = len(self.nets)
        alive = np.ones(n_nets, dtype=bool)
        nonfinite = torch.zeros(n_nets, dtype=torch.bool, device=self.dev)
        loss_sum = torch.zeros(n_nets, device=self.dev)
        correct = torch.zeros(n_nets, device=self.dev)
        seen, history = 0, [[] for _ in range(n_nets)]
        eval_at = {int(s): k for k, s in enumerate(self.eval_steps)}
        order = None
        for step in range(int(self.eval_steps[-1])):
            if step % self.steps_per_epoch == 0:
                order = torch.stack(
                    [
                        epoch_order(sub, self.n_train, g)
                        for sub, g in zip(self.subsets, self.shuffles, strict=True)
                    ]
                )
                order = order.to(self.dev)
            lo = (step % self.steps_per_epoch) * self.batch
            idx = order[:, lo : lo + self.batch]
            x, y = self.data.train_x[idx], self.data.train_y[idx]
            grads, (loss, logits) = _step(self.params, x, y, self.masks(idx.shape[1]), self.relu)
            self.update(grads, step)
            nonfinite |= ~torch.isfinite(loss)
            loss_sum += loss.detach() * idx.shape[1]
            correct += (logits.argmax(-1) == y).sum(-1)
            seen += idx.shape[1]
            if step + 1 not in eval_at:
                continue
            finite = torch.stack([torch.isfinite(p).flatten(1).all(1) for p in self.params])
            broken = (nonfinite | ~finite.all(0)).cpu().numpy()
            newly = alive & broken
            alive &= ~broken
            parked = torch.as_tensor(newly, device=self.dev)
            for t in [*self.params, *(x for xs in self.state.values() for x in xs)]:
                t[parked] = 0.0  # diverged networks rest at zero (no NaN arithmetic)
            val_loss, val_acc, probe_values = self.evaluate(
                self.data.val_x, self.data.val_y, alive, True
            )
            k = eval_at[step + 1]
            train_loss, train_acc = (loss_sum / seen).cpu().numpy(), (correct / seen).cpu().numpy()
            for n in np.flatnonzero(alive):
                history[n].append(
                    Evaluation(
                        epoch=float(self.eval_epochs[k]),
                        train_loss=float(train_loss[n]),
                        train_acc=float(train_acc[n]),
                        val_loss=val_loss[n],
                        val_acc=val_acc[n],
                        probes=probe_values.get(n, {}),
                    )
                )
            loss_sum.zero_(), correct.zero_()
            seen = 0
        return self.results(alive, history)

    def results(self, alive, history) -> list[RunResult]:
        test_loss, test_acc, _ = self.evaluate(self.data.test_x, self.data.test_y, alive, False)
        wall = (time.perf_counter() - self.start) / len(self.nets)  # the group's time, shared
        out = []
        for n, evals in enumerate(history):
            ok = bool(alive[n])
            weights = None
            if ok and self.keep_weights:
                weights = torch.cat([p[n].flatten().cpu() for p in self.params]).float().numpy()
            out.append(
                RunResult.from_evaluations(
                    evals,
                    self.probe_names,
                    status="ok" if ok else "diverged",
                    test_loss=float(test_loss[n]),
                    test_acc=float(test_acc[n]),
                    wall_time=wall,
                    weights=weights,
                )
            )
        return out


def _check(nets) -> None:
    for i, (arch, recipe, _) in enumerate(nets):
        describe(arch)  # ValueError unless a Small CNN
        if not isinstance(recipe, Recipe) or recipe.nesterov:
            raise ValueError(f"network {i}: the batched trainer needs a Recipe without Nesterov")


def train_batched(
    nets: Sequence[tuple[archs.Architecture, Recipe, int]],
    splits: Splits,
    *,
    eval_every: float = 1.0,
    probes: Mapping[str, object] | None = None,
    device: str | torch.device = "auto",
    keep_weights: bool = False,
) -> list[RunResult]:
    """Train Small CNNs together; one `RunResult` per (architecture, recipe, seed), in order.

    Networks are grouped by their step count (training images, batch size, epochs); each
    group runs in lockstep. `probes` maps a name to a factory of fresh probes (one per
    network, as the zoo does); probes with a training-batch hook are not supported here.
    The wall time of each result is its group's time divided among its networks.
    """
    _check(nets)
    dev = resolve_device(device)
    groups: dict[tuple, list[int]] = {}
    n_all = len(splits.train_y)
    for i, (_, r, _) in enumerate(nets):
        key = (max(1, round(r.train_fraction * n_all)), r.batch_size, r.epochs)
        groups.setdefault(key, []).append(i)
    results: list[RunResult | None] = [None] * len(nets)
    for members in groups.values():
        group = _Group([nets[i] for i in members], splits, eval_every, dev, probes, keep_weights)
        for i, result in zip(members, group.run(), strict=True):
            results[i] = result
    return results
