"""Datasets: one loader per benchmark, returning in-memory train / validation / test tensors.

`digits` (scikit-learn's bundled 8×8 digits) is always available and is the default. The
other datasets are read with torchvision under a data root (argument, else ``NNPERF_DATA``,
else a user cache folder), downloaded when the machine is online. CIFAR-10 is also read from
the NumPy layout of ``../shared/data/cifar10`` because torchvision's CIFAR class only accepts
the checksummed official pickles. Grayscale CIFAR-10 / SVHN are the inputs of Unterthiner et
al. (Sec. 4.1). A split is a stratified, seeded validation set carved from train, plus the
official test set.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

# ITU-R 601 luma weights, as in tf.image.rgb_to_grayscale (Unterthiner et al. used TensorFlow).
GRAY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140], dtype=np.float32)
SCALINGS = ("standard", "unit", "symmetric")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are missing under the data root and could not be downloaded."""


class DatasetCorruptError(ValueError):
    """A dataset's files are all there but cannot be read (corrupt or truncated)."""


@dataclass(frozen=True)
class Availability:
    """Whether a dataset loads without a download, and why not (true when it does)."""

    name: str
    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class Splits:
    """Train / validation / test tensors of one dataset, ready for the trainer.

    Images are float32 [N, C, H, W]; labels int64 [N].
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    input_shape: tuple[int, int, int]  # (C, H, W)
    class_freq: np.ndarray  # fraction of each class in the training split

    def to(self, device: str | torch.device) -> Splits:
        """A copy with every tensor on `device` (data moves to the device once, not per batch)."""
        moved = {
            k: getattr(self, k).to(device)
            for k in ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y")
        }
        return replace(self, **moved)


def cache_dir() -> Path:
    """The user cache folder: ``NNPERF_CACHE``, else ``$XDG_CACHE_HOME/nnperf``; a clear
    NotADirectoryError when ``NNPERF_CACHE`` names a file (each zoo worker would otherwise
    fail on its first write, with the path in the last line of a long traceback)."""
    if os.environ.get("NNPERF_CACHE"):
        path = Path(os.environ["NNPERF_CACHE"])
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(
                f"NNPERF_CACHE={str(path)!r} is a file; expected a folder (created when "
                "missing) for the zoos, arrays and executed chapters, or unset it for "
                "~/.cache/nnperf"
            )
        return path
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnperf"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data root: the argument, else ``NNPERF_DATA``, else ``<cache>/data``."""
    if root is not None:
        return Path(root)
    if os.environ.get("NNPERF_DATA"):
        return Path(os.environ["NNPERF_DATA"])
    return cache_dir() / "data"


# Raw arrays: (train_x uint8 [N, C, H, W] or float, train_y, test_x, test_y).
RawArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _missing(name: str, folder: Path, expected: list[str], cause: Exception | None = None):
    msg = (
        f"dataset {name!r} not found in {folder} (expected files: {', '.join(expected)})"
        f" and it could not be downloaded{f' ({cause})' if cause else ''}. Point the data root"
        " at a folder holding it (root=... or NNPERF_DATA), or use the bundled offline"
        " dataset 'digits'."
    )
    return DatasetNotFoundError(msg)


def _torchvision(name, cls_name, folder, expected, download, make):
    """Open a torchvision dataset, downloading if allowed; clear error when impossible."""
    import torchvision.datasets as tvd  # imported here: a cold import costs ~15 s

    cls = getattr(tvd, cls_name)
    try:
        return make(cls, False)
    except Exception as failed:  # noqa: BLE001 - torchvision raises many kinds on bad files
        there = [f for f in expected if (folder / f).exists() or (folder / f"{f}.gz").exists()]
        if expected and len(there) == len(expected):  # all there, yet unreadable
            raise DatasetCorruptError(
                f"{name}: its files under {folder} cannot be read "
                f"({type(failed).__name__}: {failed}); a corrupt or truncated copy? Replace "
                "them, or delete them to download again"
            ) from failed
        if not download:
            raise _missing(name, folder, expected) from failed
    try:
        return make(cls, True)
    except Exception as failed:  # noqa: BLE001 - any network or archive failure
        raise _missing(name, folder, expected, failed) from failed


def _load_digits(root: Path, download: bool) -> RawArrays:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images * (255.0 / 16.0)).round().astype(np.uint8)[:, None]  # 0..16 -> 0..255
    y = bunch.target.astype(np.int64)
    # digits has no official test set: a fixed stratified 20 % stands in for it, the same for
    # every seed, so that only the validation split varies with `seed` as for other datasets.
    train_x, test_x, train_y, test_y = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=0
    )
    return train_x, train_y, test_x, test_y


def _mnist_like(name: str, cls_name: str):
    files = [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ]

    def loader(root: Path, download: bool) -> RawArrays:
        def make(cls, dl):
            return [cls(str(root), train=t, download=dl) for t in (True, False)]

        train, test = _torchvision(name, cls_name, root / cls_name / "raw", files, download, make)
        return (
            train.data.numpy()[:, None],
            train.targets.numpy().astype(np.int64),
            test.data.numpy()[:, None],
            test.targets.numpy().astype(np.int64),
        )

    return loader


def _cifar(name: str, cls_name: str, folder: str, files: list[str]):
    def loader(root: Path, download: bool) -> RawArrays:
        numpy_dir = root / name
        if cls_name == "CIFAR10" and (numpy_dir / "train_x.npy").exists():
            arrays = [np.load(numpy_dir / f"{s}_{v}.npy") for s in ("train", "test") for v in "xy"]
            tx, ty, sx, sy = arrays
            return tx.transpose(0, 3, 1, 2), ty.astype(np.int64), sx.transpose(0, 3, 1, 2), sy

        def make(cls, dl):
            return [cls(str(root), train=t, download=dl) for t in (True, False)]

        train, test = _torchvision(name, cls_name, root / folder, files, download, make)
        return (
            train.data.transpose(0, 3, 1, 2),
            np.asarray(train.targets, dtype=np.int64),
            test.data.transpose(0, 3, 1, 2),
            np.asarray(test.targets, dtype=np.int64),
        )

    return loader


def _load_svhn(root: Path, download: bool) -> RawArrays:
    folder = root / "svhn"

    def make(cls, dl):
        return [cls(str(folder), split=s, download=dl) for s in ("train", "test")]

    train, test = _torchvision(
        "svhn", "SVHN", folder, ["train_32x32.mat", "test_32x32.mat"], download, make
    )
    return train.data, train.labels.astype(np.int64), test.data, test.labels.astype(np.int64)


_cifar10 = _cifar(
    "cifar10",
    "CIFAR10",
    "cifar-10-batches-py",
    ["cifar10/train_x.npy (NumPy layout)", "or cifar-10-batches-py/data_batch_1..5, test_batch"],
)
_cifar100 = _cifar("cifar100", "CIFAR100", "cifar-100-python", ["cifar-100-python/train, test"])


def _mapped(loader: Callable[[Path, bool], RawArrays], transform: Callable):
    """`loader` with `transform` ([N, C, H, W] uint8 -> uint8) applied to its train and test
    images; the labels unchanged."""

    def mapped(root: Path, download: bool) -> RawArrays:
        tx, ty, sx, sy = loader(root, download)
        return transform(tx), ty, transform(sx), sy

    return mapped


def _to_gray(x: np.ndarray) -> np.ndarray:
    """[N, 3, H, W] uint8 -> [N, 1, H, W] uint8 luma (`GRAY_WEIGHTS`)."""
    luma = np.einsum("nchw,c->nhw", x.astype(np.float32), GRAY_WEIGHTS)
    return luma.round()[:, None].astype(np.uint8)


def _shrunk(factor: int) -> Callable:
    """Images shrunk `factor`× by averaging each factor×factor block, the way NAS-Bench-201
    makes its 16×16 ImageNet16-120 (Dong & Yang, 2020, Sec. 3.2)."""

    def shrink(x: np.ndarray) -> np.ndarray:  # [N, C, H, W] -> [N, C, H / f, W / f]
        n, c, h, w = x.shape
        blocks = x.reshape(n, c, h // factor, factor, w // factor, factor)
        return blocks.mean(axis=(3, 5), dtype=np.float32).round().astype(np.uint8)

    return shrink


LOADERS: dict[str, Callable[[Path, bool], RawArrays]] = {
    "digits": _load_digits,
    "mnist": _mnist_like("mnist", "MNIST"),
    "fashion_mnist": _mnist_like("fashion_mnist", "FashionMNIST"),
    "cifar10": _cifar10,
    "cifar100": _cifar100,
    "svhn": _load_svhn,
    "cifar10_gs": _mapped(_cifar10, _to_gray),
    "svhn_gs": _mapped(_load_svhn, _to_gray),
    "cifar10_16": _mapped(_cifar10, _shrunk(2)),  # 16×16, for the small CPU scales
}


def base_name(name: str) -> str:
    """The dataset of a name, without a subset's size: ``"cifar10@512"`` -> ``"cifar10"``."""
    return str(name).partition("@")[0]


def parse_name(name: str) -> tuple[str, int | None]:
    """(dataset, images) of a dataset name: ``"cifar10"`` is the whole dataset, and
    ``"cifar10@512"`` a fixed stratified subset of 512 training and at most 512 test images
    (the paper scale in miniature, or a smaller variant of a real dataset); ValueError naming
    an unknown dataset or a bad size."""
    base, at, size = str(name).partition("@")
    if base not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(LOADERS)}")
    if not at:
        return base, None
    if not (size.isdigit() and int(size) > 0):
        raise ValueError(
            f"dataset {name!r}: expected NAME@N with N a number of images > 0 (e.g. {base}@512)"
        )
    return base, int(size)


def _subset(y: np.ndarray, size: int) -> np.ndarray:
    """Indices of a fixed stratified subset of `size` labels of `y` (all when it has fewer)."""
    from sklearn.model_selection import train_test_split

    if size >= len(y):
        return np.arange(len(y))
    classes = len(np.unique(y))
    if size < classes:
        raise ValueError(f"a subset of {size} images cannot hold one of each of {classes} classes")
    keep, _ = train_test_split(np.arange(len(y)), train_size=size, stratify=y, random_state=0)
    return np.sort(keep)


@functools.lru_cache(maxsize=8)
def raw_arrays(name: str, root: str, download: bool = True) -> RawArrays:
    """Decoded uint8 arrays of a dataset, cached in memory and as ``.npz`` in the cache folder.

    Args:
        name: a key of `LOADERS`, or ``NAME@N`` for a subset of it (`parse_name`).
        root: the resolved data root (a string, so that the call is hashable).
        download: let torchvision download missing files.
    """
    base, size = parse_name(name)
    if size is not None:
        tx, ty, sx, sy = raw_arrays(base, root, download)
        train, test = _subset(ty, size), _subset(sy, size)
        return tx[train], ty[train], sx[test], sy[test]
    if name == "digits":  # bundled and small: nothing to cache
        return LOADERS[name](Path(root), download)
    key = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:12]
    cached = cache_dir() / "arrays" / f"{name}-{key}.npz"
    if cached.exists():
        with np.load(cached) as f:
            return f["train_x"], f["train_y"], f["test_x"], f["test_y"]
    arrays = LOADERS[name](Path(root), download)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **dict(zip(("train_x", "train_y", "test_x", "test_y"), arrays, strict=True)))
    os.replace(tmp, cached)  # atomic: a concurrent reader never sees a partial file
    return arrays


def available(name: str, root: str | os.PathLike | None = None) -> Availability:
    """Whether `name` can be loaded without downloading (its files are under the data root
    and readable): true or false with the reason; it never raises for a bad file."""
    try:
        raw_arrays(name, str(data_root(root)), False)
    except (DatasetNotFoundError, DatasetCorruptError) as why:
        return Availability(name, False, str(why))
    except Exception as why:  # noqa: BLE001 - any other unreadable file: an answer, not a crash
        return Availability(name, False, f"{name}: {type(why).__name__}: {why}")
    return Availability(name, True)


def present(names, root: str | os.PathLike | None = None) -> list[str]:
    """The datasets of `names` that load without a download, in order, so a scale's notebook
    runs offline on what this machine has. Each one skipped is logged at INFO, not as a
    warning: on a machine without ``NNPERF_DATA`` skipping is the expected path, and a warning
    record would print into every rendered chapter (each chapter prints the datasets it runs on;
    ``nnperf book`` says once when ``NNPERF_DATA`` is unset: `common.book.data_notice`)."""
    answers = [available(name, root) for name in names]
    for answer in answers:
        if not answer:
            log.info("skipping %s (set NNPERF_DATA): %s", answer.name, answer.reason)
    return [a.name for a in answers if a]


def load(
    name: str = "digits",
    root: str | os.PathLike | None = None,
    *,
    val_size: float | int = 0.2,
    seed: int = 0,
    scaling: str = "standard",
    download: bool = True,
) -> Splits:
    """Load a dataset as train / validation / test tensors.

    Args:
        name: one of `LOADERS` (``digits`` works offline everywhere).
        root: data root; default ``NNPERF_DATA``, else ``<cache>/data``.
        val_size: validation set carved from train: a fraction, or a number of images.
        seed: seed of the stratified validation split.
        scaling: ``standard`` (per-channel mean/std of the training split), ``unit`` ([0, 1])
            or ``symmetric`` ([-1, 1], Unterthiner et al. A.2).
        download: allow torchvision to download missing files.

    Returns:
        The `Splits`.
    """
    from sklearn.model_selection import train_test_split

    if scaling not in SCALINGS:
        raise ValueError(f"unknown scaling {scaling!r}; expected one of {SCALINGS}")
    if isinstance(val_size, float) and not 0.0 < val_size < 1.0:
        raise ValueError(f"val_size={val_size} must be a fraction in (0, 1) or a count")
    train_x, train_y, test_x, test_y = raw_arrays(name, str(data_root(root)), download)
    train_x, val_x, train_y, val_y = train_test_split(
        train_x, train_y, test_size=val_size, stratify=train_y, random_state=seed
    )
    num_classes = int(max(train_y.max(), test_y.max()) + 1)

    def to_unit(x):
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32) / 255.0)

    xs = [to_unit(x) for x in (train_x, val_x, test_x)]
    if scaling == "standard":
        mean = xs[0].mean(dim=(0, 2, 3), keepdim=True)
        std = xs[0].std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
        xs = [(x - mean) / std for x in xs]
    elif scaling == "symmetric":
        xs = [x * 2.0 - 1.0 for x in xs]
    ys = [torch.from_numpy(np.asarray(y, dtype=np.int64)) for y in (train_y, val_y, test_y)]
    return Splits(
        name=name,
        train_x=xs[0],
        train_y=ys[0],
        val_x=xs[1],
        val_y=ys[1],
        test_x=xs[2],
        test_y=ys[2],
        num_classes=num_classes,
        input_shape=tuple(xs[0].shape[1:]),
        class_freq=np.bincount(train_y, minlength=num_classes) / len(train_y),
    )
