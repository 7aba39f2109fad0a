"""The Peephole predictor (Sec. 3, Fig. 2; sizes from Sec. 5.1).

Each layer's ULC integers are embedded by three lookup tables (type; kernel size, shared by
KW and KH; channel ratio) and concatenated; an LSTM (hidden size 160) reads the layer
sequence and its last hidden state is the structural feature; the epoch index is embedded
(40-d; layer embeddings are 40-d too); an MLP of 3 linear layers with 200 hidden units, batch
norm and ReLU maps [structure, epoch] to the predicted accuracy at that epoch. Trained with
the smooth L1 loss on the final epoch (Eq. 2), on the GPU when there is one, with variable-
length sequences packed into one batch.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from peephole.ulc import TYPE_CODES


@dataclass(frozen=True)
class PeepholeConfig:
    """Sizes of the predictor; defaults from Sec. 5.1."""

    embed_dim: int = 40  # each layer-code embedding and the epoch embedding
    hidden: int = 160  # LSTM hidden size
    mlp_hidden: int = 200  # units of the MLP's hidden layers
    max_epoch: int = 400  # epochs the epoch embedding can index
    epochs: int = 300  # training epochs of the predictor itself
    lr: float = 1e-3  # Adam (the paper does not give its optimiser; our choice)
    batch_size: int = 64
    seed: int = 0


SEC_5_1 = PeepholeConfig()  # the paper's sizes


class Peephole(nn.Module):
    """Peephole's network (Sec. 3): layer embeddings, an LSTM over them, an epoch embedding, an
    MLP."""

    def __init__(self, config: PeepholeConfig = SEC_5_1):
        super().__init__()
        d = config.embed_dim
        self.type_embed = nn.Embedding(len(TYPE_CODES) + 1, d)  # codes 1..7 (0 unused)
        self.kernel_embed = nn.Embedding(6, d)  # kernel sizes 1..5, shared by KW and KH
        self.channel_embed = nn.Embedding(9, d)  # channel bins 1..8
        self.epoch_embed = nn.Embedding(config.max_epoch + 1, d)
        self.lstm = nn.LSTM(4 * d, config.hidden, batch_first=True)
        h = config.mlp_hidden
        self.mlp = nn.Sequential(
            nn.Linear(config.hidden + d, h),
            nn.BatchNorm1d(h),
            nn.ReLU(),
            nn.Linear(h, h),
            nn.BatchNorm1d(h),
            nn.ReLU(),
            nn.Linear(h, 1),
        )

    def layer_vectors(self, codes: torch.Tensor) -> torch.Tensor:
        """[..., 4] ULC integers -> [..., 4·d] concatenated embeddings."""
        ty, kw, kh, ch = codes.unbind(-1)
        parts = [
            self.type_embed(ty),
            self.kernel_embed(kw),
            self.kernel_embed(kh),
            self.channel_embed(ch),
        ]
        return torch.cat(parts, dim=-1)

    def structure(self, codes: list[torch.Tensor]) -> torch.Tensor:
        """Last LSTM hidden state of each variable-length code sequence: [batch, hidden]."""
        lengths = torch.tensor([len(c) for c in codes])
        padded = pad_sequence(codes, batch_first=True)  # [batch, max_len, 4]
        packed = pack_padded_sequence(
            self.layer_vectors(padded), lengths, batch_first=True, enforce_sorted=False
        )
        _, (h, _) = self.lstm(packed)
        return h[-1]

    def forward(self, codes: list[torch.Tensor], epoch: torch.Tensor) -> torch.Tensor:
        """Predicted accuracy of each coded architecture at `epoch`."""
        features = torch.cat([self.structure(codes), self.epoch_embed(epoch)], dim=-1)
        return self.mlp(features).squeeze(-1)


def as_tensors(codes: list[np.ndarray], device) -> list[torch.Tensor]:
    """ULC code arrays as long tensors on `device`; ValueError on an empty architecture."""
    if not codes or any(len(c) == 0 for c in codes):
        raise ValueError("every architecture needs at least one encoded layer")
    return [torch.as_tensor(c, dtype=torch.long, device=device) for c in codes]


def fit(
    codes: list[np.ndarray],
    epoch: int,
    accuracy,
    config: PeepholeConfig = SEC_5_1,
    device: str | torch.device = "auto",
) -> Peephole:
    """Train a Peephole on (ULC codes, final accuracy at `epoch`) pairs with smooth L1."""
    from common.train import resolve_device

    dev = resolve_device(device)
    with one_thread():
        return _fit(codes, epoch, accuracy, config, dev)


@contextlib.contextmanager
def one_thread():
    """Train on one CPU thread: the result then does not depend on the thread count (a
    multithreaded GEMM sums in another order), so a Peephole fitted in a worker process
    equals one fitted here."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _fit(codes, epoch, accuracy, config: PeepholeConfig, dev) -> Peephole:
    """`fit` on device `dev`."""
    if not 0 <= epoch <= config.max_epoch:
        raise ValueError(f"epoch {epoch} outside the embedding's 0..{config.max_epoch}")
    y = torch.as_tensor(np.asarray(accuracy, dtype=np.float32), device=dev)
    if len(y) != len(codes) or len(y) < 2 or not torch.isfinite(y).all():
        raise ValueError("need one finite accuracy per architecture, at least 2 architectures")
    sequences = as_tensors(codes, dev)
    torch.manual_seed(config.seed)
    model = Peephole(config).to(dev).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    epochs = torch.full((len(y),), epoch, dtype=torch.long, device=dev)
    for _ in range(config.epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), config.batch_size):
            idx = order[start : start + config.batch_size]
            if len(idx) < 2:  # batch norm needs two samples
                continue
            pred = model([sequences[i] for i in idx], epochs[idx.to(dev)])
            loss = nn.functional.smooth_l1_loss(pred, y[idx.to(dev)])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def predict(
    model: Peephole, codes: list[np.ndarray], epoch: int, batch_size: int = 4096, bf16: bool = False
):
    """Predicted accuracy at `epoch` for each architecture (batched, packed sequences).

    `bf16` runs the model under bfloat16 autocast: about 2.4× faster on CPUs with AVX-512
    BF16 (benchmarks/peephole_inference.py), at a cost: predictions of the book-scale model
    moved by up to 0.035 (accuracy units) from float32. Off by default."""
    dev = next(model.parameters()).device
    sequences = as_tensors(codes, dev)
    out = []
    with one_thread(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, len(sequences), batch_size):
            batch = sequences[start : start + batch_size]
            epochs = torch.full((len(batch),), epoch, dtype=torch.long, device=dev)
            out.append(model(batch, epochs))
    return torch.cat(out).float().cpu().numpy()
