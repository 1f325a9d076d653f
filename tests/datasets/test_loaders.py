"""The image loaders: the bundled digits, MNIST and Fashion-MNIST (real files when present).

Expected figures (label counts, mean pixel values) come from ../shared/data/README.md.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from importlib import resources

import numpy as np
import pytest

from chainrule.datasets.loaders import load_digits, load_fashion_mnist, load_mnist

# --------------------------------------------------------------------------- digits


def test_bundled_digits_file_is_the_documented_one():
    data = resources.files("chainrule.datasets").joinpath("data", "digits.csv.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    )
    attribution = resources.files("chainrule.datasets").joinpath("data", "ATTRIBUTION.md")
    text = attribution.read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "Alpaydin" in text and "Kaynak" in text


def test_load_digits(monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA", "/nonexistent")  # never looks anywhere else
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    assert np.array_equal(X, np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_load_digits_matches_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = load_digits()
    X_ref, y_ref = datasets.load_digits(return_X_y=True)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_a_damaged_bundled_digits_file_is_refused(monkeypatch, tmp_path):
    """A truncated installation: the shape check names the file, the shape and the expected one."""
    from types import SimpleNamespace

    from chainrule.datasets import loaders

    (tmp_path / "data").mkdir()
    rows = "\n".join(",".join(["0"] * 65) for _ in range(3)) + "\n"
    (tmp_path / "data" / "digits.csv.gz").write_bytes(gzip.compress(rows.encode()))
    monkeypatch.setattr(loaders, "resources", SimpleNamespace(files=lambda package: tmp_path))
    with pytest.raises(ValueError, match=r"bundled digits\.csv\.gz has shape \(3, 65\), "
                                         r"expected \(1797, 65\)"):
        load_digits()


# --------------------------------------------------------------------------- MNIST-style

EXPECTED = {
    "mnist": {
        "load": load_mnist,
        "train_counts": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        "test_counts": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
        "means": (33.318, 33.791),
    },
    "fashion_mnist": {
        "load": load_fashion_mnist,
        "train_counts": [6000] * 10,
        "test_counts": [1000] * 10,
        "means": (72.940, 73.147),
    },
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_real_idx_data_matches_the_readme(name, shared_data):
    if not (shared_data / name).is_dir():
        pytest.skip(f"{name} not in {shared_data}")
    expected = EXPECTED[name]
    (X_train, y_train), (X_test, y_test) = expected["load"](
        shared_data, download=False, normalize=False
    )
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == X_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64
    assert np.bincount(y_train).tolist() == expected["train_counts"]
    assert np.bincount(y_test).tolist() == expected["test_counts"]
    train_mean, test_mean = expected["means"]
    assert round(float(X_train.mean()), 3) == train_mean
    assert round(float(X_test.mean()), 3) == test_mean
    assert X_train.max() == 255 and X_train.min() == 0


def test_mnist_normalized(shared_data):
    if not (shared_data / "mnist").is_dir():
        pytest.skip("mnist absent")
    (X_train, y_train), (X_test, _) = load_mnist(shared_data, download=False)
    assert X_train.dtype == X_test.dtype == np.float32
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert abs(float(X_test.mean(dtype=np.float64)) - 33.791 / 255) < 1e-5
    # The first training image is a 5 (the classic first MNIST sample); a row is one image.
    assert y_train[0] == 5
    assert X_train[0].reshape(28, 28)[:4].sum() == 0  # blank top rows


@pytest.fixture
def small_mnist(tmp_path):
    """A fake MNIST folder with 3 training and 2 test images, in IDX .gz files."""

    def write(name: str, array: np.ndarray) -> None:
        header = bytes([0, 0, 8, array.ndim]) + b"".join(
            int(s).to_bytes(4, "big") for s in array.shape
        )
        (tmp_path / "mnist" / name).write_bytes(gzip.compress(header + array.tobytes()))

    (tmp_path / "mnist").mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 3), ("t10k", 2)):
        write(f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write(f"{prefix}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8))
    return tmp_path, write


def test_loader_reads_a_data_directory(small_mnist):
    root, _ = small_mnist
    (X_train, y_train), (X_test, y_test) = load_mnist(root, download=False)
    assert X_train.shape == (3, 784) and X_test.shape == (2, 784)
    assert y_train.tolist() == [0, 1, 2] and y_test.tolist() == [0, 1]
    raw = gzip.decompress((root / "mnist" / "train-images-idx3-ubyte.gz").read_bytes())
    pixels = np.frombuffer(raw[16:], np.uint8).reshape(3, 784)
    np.testing.assert_allclose(X_train, pixels / 255.0, rtol=1e-6)


def test_loader_reads_decompressed_files(small_mnist):
    root, _ = small_mnist
    expected = load_mnist(root, download=False, normalize=False)
    for path in (root / "mnist").iterdir():
        with gzip.open(path) as src, open(path.with_suffix(""), "wb") as dst:
            shutil.copyfileobj(src, dst)
        path.unlink()
    result = load_mnist(root, download=False, normalize=False)
    for (a, b), (c, d) in zip(expected, result):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_loader_rejects_mismatched_labels(small_mnist):
    root, write = small_mnist
    write("train-labels-idx1-ubyte.gz", np.arange(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz.*3 uint8 labels"):
        load_mnist(root, download=False)


def test_loader_rejects_wrong_image_size(small_mnist):
    root, write = small_mnist
    write("t10k-images-idx3-ubyte.gz", np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz.*28, 28"):
        load_mnist(root, download=False)


def test_loader_rejects_labels_above_nine(small_mnist):
    root, write = small_mnist
    write("t10k-labels-idx1-ubyte.gz", np.array([0, 12], np.uint8))
    with pytest.raises(ValueError, match="0-9"):
        load_mnist(root, download=False)


def test_loader_missing_files_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="fashion_mnist/train-images-idx3-ubyte.gz"):
        load_fashion_mnist(tmp_path, download=False)
