"""Datasets: digits offline, every torchvision path on tiny files written in the official
formats, the NumPy CIFAR-10 layout, the array cache, clear errors, and real copies when
NNPERF_DATA points at them."""

import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from common import data

RNG = np.random.default_rng(0)
N_TRAIN, N_TEST = 40, 20  # 4 images per class in train, 2 in test


def _labels(n):
    return np.arange(n) % 10


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPERF_CACHE", str(tmp_path / "cache"))
    data.raw_arrays.cache_clear()


@pytest.fixture
def no_checksums(monkeypatch):
    """Tiny files cannot have the official MD5s: keep torchvision's existence checks only."""
    import torchvision.datasets.cifar as cifar
    import torchvision.datasets.svhn as svhn

    def exists(path, md5=None):
        return os.path.isfile(path)

    monkeypatch.setattr(cifar, "check_integrity", exists)
    monkeypatch.setattr(svhn, "check_integrity", exists)


def write_idx(folder: Path, images: dict, labels: dict):
    folder.mkdir(parents=True)
    for prefix in ("train", "t10k"):
        x, y = images[prefix], labels[prefix]
        header = struct.pack(">IIII", 0x0803, len(x), *x.shape[1:])
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(header + x.tobytes())
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x0801, len(y)) + y.astype(np.uint8).tobytes()
        )


def rgb(n):
    return RNG.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_digits_is_offline_stratified_and_seeded(digits):
    assert digits.input_shape == (1, 8, 8) and digits.num_classes == 10
    assert len(digits.train_y) + len(digits.val_y) + len(digits.test_y) == 1797
    assert len(digits.val_y) == pytest.approx(0.2 * (1797 - 360), abs=1)
    assert np.allclose(digits.class_freq, 0.1, atol=0.01)
    val_freq = np.bincount(digits.val_y.numpy(), minlength=10) / len(digits.val_y)
    assert np.abs(val_freq - digits.class_freq).max() < 0.01  # stratified
    again, other = data.load("digits"), data.load("digits", seed=1)
    assert torch.equal(again.val_x, digits.val_x)
    assert not torch.equal(other.val_x, digits.val_x)
    # the stand-in test set is fixed (standardisation follows the train split, so compare raw)
    unit = [data.load("digits", seed=s, scaling="unit") for s in (0, 1)]
    assert torch.equal(unit[0].test_x, unit[1].test_x)


def test_scalings():
    standard = data.load("digits")
    assert standard.train_x.mean().item() == pytest.approx(0, abs=1e-5)
    assert standard.train_x.std().item() == pytest.approx(1, abs=1e-3)
    unit = data.load("digits", scaling="unit")
    assert unit.train_x.min() == 0 and unit.train_x.max() == 1
    symmetric = data.load("digits", scaling="symmetric")
    assert torch.allclose(symmetric.train_x, unit.train_x * 2 - 1)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="unknown scaling"):
        data.load("digits", scaling="zscore")
    with pytest.raises(ValueError, match="val_size"):
        data.load("digits", val_size=1.5)


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")]
)
def test_idx_files_through_torchvision(tmp_path, name, folder):
    images = {
        p: RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        for p, n in (("train", N_TRAIN), ("t10k", N_TEST))
    }
    labels = {"train": _labels(N_TRAIN), "t10k": _labels(N_TEST)}
    write_idx(tmp_path / folder / "raw", images, labels)
    train_x, train_y, test_x, test_y = data.raw_arrays(name, str(tmp_path), False)
    assert np.array_equal(train_x[:, 0], images["train"])
    assert np.array_equal(test_y, labels["t10k"])
    splits = data.load(name, tmp_path, val_size=10, scaling="unit", download=False)
    assert splits.input_shape == (1, 28, 28) and len(splits.val_y) == 10
    assert torch.allclose(splits.test_x[:, 0], torch.from_numpy(images["t10k"] / 255).float())


def test_cifar_pickle_batches_grayscale_and_downsampled(tmp_path, no_checksums):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = {f"data_batch_{i}": rgb(8) for i in range(1, 6)} | {"test_batch": rgb(N_TEST)}
    for name, x in batches.items():
        entry = {
            "data": x.transpose(0, 3, 1, 2).reshape(len(x), -1),
            "labels": list(_labels(len(x))),
        }
        (folder / name).write_bytes(pickle.dumps(entry))
    (folder / "batches.meta").write_bytes(
        pickle.dumps({"label_names": [str(i) for i in range(10)]})
    )
    train_x, _, test_x, _ = data.raw_arrays("cifar10", str(tmp_path), False)
    expected = np.concatenate([batches[f"data_batch_{i}"] for i in range(1, 6)])
    assert np.array_equal(train_x, expected.transpose(0, 3, 1, 2))
    gray = data.raw_arrays("cifar10_gs", str(tmp_path), False)[2]
    manual = (0.2989 * test_x[:, 0] + 0.5870 * test_x[:, 1] + 0.1140 * test_x[:, 2]).round()
    assert gray.shape == (N_TEST, 1, 32, 32)
    assert np.abs(gray[:, 0].astype(float) - manual).max() <= 1
    small = data.raw_arrays("cifar10_16", str(tmp_path), False)[2]
    assert small.shape == (N_TEST, 3, 16, 16) and small.dtype == np.uint8
    corner = test_x[:, :, :2, :2].astype(float).mean(axis=(2, 3))  # the first 2×2 block
    assert np.abs(small[:, :, 0, 0] - corner).max() <= 0.5
    assert np.abs(small[:, 1, 15, 15] - test_x[:, 1, 30:, 30:].mean(axis=(1, 2))).max() <= 0.5


def test_cifar100_pickles(tmp_path, no_checksums):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for name, n in (("train", N_TRAIN), ("test", N_TEST)):
        x = rgb(n)
        entry = {"data": x.transpose(0, 3, 1, 2).reshape(n, -1), "fine_labels": list(_labels(n))}
        (folder / name).write_bytes(pickle.dumps(entry))
    (folder / "meta").write_bytes(pickle.dumps({"fine_label_names": [str(i) for i in range(10)]}))
    splits = data.load("cifar100", tmp_path, val_size=10, download=False)
    assert splits.input_shape == (3, 32, 32) and len(splits.test_y) == N_TEST


def test_svhn_mat_files_and_label_ten_is_zero(tmp_path, no_checksums):
    folder = tmp_path / "svhn"
    folder.mkdir()
    written = {}
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        x = rgb(n)
        y = _labels(n) + 1  # SVHN labels are 1..10, 10 meaning digit 0
        written[split] = (x, y)
        scipy.io.savemat(
            folder / f"{split}_32x32.mat", {"X": x.transpose(1, 2, 3, 0), "y": y[:, None]}
        )
    train_x, train_y, _, _ = data.raw_arrays("svhn", str(tmp_path), False)
    assert np.array_equal(train_x, written["train"][0].transpose(0, 3, 1, 2))
    assert np.array_equal(train_y, written["train"][1] % 10)
    assert data.load("svhn_gs", tmp_path, val_size=10, download=False).input_shape == (1, 32, 32)


def test_numpy_cifar10_layout_and_array_cache(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    x, y = rgb(N_TRAIN), _labels(N_TRAIN)
    for split in ("train", "test"):
        np.save(folder / f"{split}_x.npy", x)
        np.save(folder / f"{split}_y.npy", y)
    (folder / "classes.json").write_text(json.dumps([str(i) for i in range(10)]))
    first = data.load("cifar10", tmp_path, val_size=10, download=False)
    assert first.input_shape == (3, 32, 32)
    for f in folder.iterdir():  # the cached copy must serve the second load alone
        f.unlink()
    data.raw_arrays.cache_clear()
    second = data.load("cifar10", tmp_path, val_size=10, download=False)
    assert torch.equal(first.train_x, second.train_x)
    assert list((data.cache_dir() / "arrays").glob("cifar10-*.npz"))


def test_missing_files_error_names_dataset_folder_files_and_digits(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as error:
        data.load("mnist", tmp_path, download=False)
    message = str(error.value)
    for part in ("'mnist'", str(tmp_path / "MNIST" / "raw"), "train-images-idx3-ubyte", "digits"):
        assert part in message


def test_data_root_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("NNPERF_DATA", str(tmp_path))
    assert data.data_root() == tmp_path
    assert data.data_root("/elsewhere") == Path("/elsewhere")
    monkeypatch.delenv("NNPERF_DATA")
    assert data.data_root() == data.cache_dir() / "data"


REAL = os.environ.get("NNPERF_DATA")


@pytest.mark.skipif(not REAL, reason="NNPERF_DATA is not set")
@pytest.mark.parametrize(
    ("name", "n_train", "shape", "mean"),
    [
        ("mnist", 60000, (1, 28, 28), [0.1307]),
        ("fashion_mnist", 60000, (1, 28, 28), [0.2860]),
        ("cifar10", 20000, (3, 32, 32), [0.4914, 0.4822, 0.4465]),
    ],
)
def test_real_copies_from_nnperf_data(name, n_train, shape, mean):
    splits = data.load(name, scaling="unit")
    assert splits.input_shape == shape and splits.num_classes == 10
    assert len(splits.train_y) + len(splits.val_y) == n_train
    assert len(splits.test_y) == 10000
    pixels = torch.cat([splits.train_x, splits.val_x])
    assert pixels.mean(dim=(0, 2, 3)).numpy() == pytest.approx(mean, abs=2e-3)
    assert np.bincount(splits.test_y.numpy()).tolist() == [1000] * 10 or name == "mnist"


def test_available_needs_no_download(tmp_path):
    assert data.available("digits", tmp_path)
    assert not data.available("fashion_mnist", tmp_path)


def test_a_subset_name_keeps_a_fixed_stratified_share_of_each_split():
    """``digits@200``: 200 training and 200 test images, every class in proportion, the same
    images on every call, and each a row of the whole dataset."""
    whole = data.raw_arrays("digits", "unused")
    train_x, train_y, test_x, test_y = data.raw_arrays("digits@200", "unused")
    assert (len(train_y), len(test_y)) == (200, 200)
    share = np.bincount(whole[1], minlength=10) / len(whole[1])
    assert np.abs(np.bincount(train_y, minlength=10) / 200 - share).max() < 0.01
    data.raw_arrays.cache_clear()
    again = data.raw_arrays("digits@200", "unused")
    assert np.array_equal(again[0], train_x) and np.array_equal(again[3], test_y)
    rows = {x.tobytes() for x in whole[0]}
    assert all(x.tobytes() in rows for x in train_x)
    splits = data.load("digits@200", val_size=0.2)
    assert len(splits.train_y) + len(splits.val_y) == 200 and splits.name == "digits@200"
    assert data.base_name("digits@200") == "digits"
    assert data.parse_name("digits") == ("digits", None)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("digits@0", r"expected NAME@N with N a number of images > 0 \(e.g. digits@512\)"),
        ("digits@ten", "expected NAME@N"),
        ("imagenet@64", "unknown dataset 'imagenet@64'"),
    ],
)
def test_a_bad_subset_name_is_named(name, message):
    with pytest.raises(ValueError, match=message):
        data.load(name)


def test_a_subset_smaller_than_the_classes_is_refused():
    with pytest.raises(ValueError, match="5 images cannot hold one of each of 10 classes"):
        data.raw_arrays("digits@5", "unused")


def test_a_scale_without_any_of_its_datasets_says_which_and_where(tmp_path):
    """The paper scale on a machine without its datasets: one clear error naming them, the
    folder searched and the way out, not a traceback from inside a zoo build."""
    from common import scales

    table = {"paper": {"cifar100": None, "svhn": None}, "book": {"digits": None}}
    with pytest.raises(scales.MissingDatasetsError) as caught:
        scales.datasets(table, "paper", tmp_path)
    message = str(caught.value)
    assert "cifar100, svhn" in message and str(tmp_path) in message and "NNPERF_DATA" in message
    assert scales.datasets(table, "book", tmp_path) == ["digits"]


def test_a_zoo_spec_names_a_bad_subset_of_a_dataset():
    from common.zoospec import ZooSpec

    ZooSpec("demo", "digits@200").validate()
    with pytest.raises(ValueError, match=r"ZooSpec.dataset='digits@0': expected one of .*NAME@N"):
        ZooSpec("demo", "digits@0").validate()
