"""`harness data import|list` through the real `harness.cli.main`."""

from __future__ import annotations

import socket
import sys
from dataclasses import replace
from functools import partial
from types import MappingProxyType

import pytest

import harness.cli as cli
from harness.data import sources
from harness.data.cache import load_cached
from harness.data.sources.mnist import MNIST_MD5, import_mnist
from tests.data.test_sources_mnist import write_fake_mnist


@pytest.fixture(autouse=True)
def only_working_subcommands(monkeypatch):
    """Other subcommands are developed in parallel; if one does not import yet, test ours alone."""
    try:
        cli.build_parser()
    except Exception:  # noqa: BLE001 - any breakage elsewhere must not fail these tests
        monkeypatch.setattr(cli, "SUBCOMMANDS", {"data": "harness.cli.data"})


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """Tiny MNIST files, and the registry's mnist importer expecting their md5s."""
    _, md5s = write_fake_mnist(tmp_path / "mnist")
    entry = replace(sources.KNOWN_DATASETS["mnist"],
                    importer=partial(import_mnist, expected_md5=md5s))
    monkeypatch.setattr(sources, "KNOWN_DATASETS",
                        MappingProxyType({**sources.KNOWN_DATASETS, "mnist": entry}))
    return tmp_path / "mnist"


def data(*args, cache):
    return cli.main(["data", *args, "--cache-dir", str(cache)])


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness: error: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_import_then_import_again_is_idempotent(fake_mnist, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert data("import", "mnist", str(fake_mnist), cache=cache) == 0
    first = capsys.readouterr().out
    assert first.startswith("imported mnist in ")
    assert "train=40 val=10 test=10, images 1x28x28, fingerprint " in first
    folders = list(cache.iterdir())
    assert len(folders) == 1 and str(folders[0]) in first
    assert data("import", "mnist", str(fake_mnist), cache=cache) == 0
    second = capsys.readouterr().out
    assert second.startswith("mnist is already imported") and str(folders[0]) in second
    assert list(cache.iterdir()) == folders


def test_list_shows_sizes_shape_fingerprint_folder_and_what_is_importable(
        fake_mnist, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert data("list", cache=cache) == 0
    assert "(empty)" in capsys.readouterr().out
    data("import", "mnist", str(fake_mnist), cache=cache)
    capsys.readouterr()
    assert data("list", cache=cache) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"cache: {cache}"
    assert out[1].split() == ["name", "splits", "shape", "fingerprint", "folder", "size"]
    dataset = load_cached(next(cache.iterdir()))
    row = out[2].split()
    assert row[:4] == ["mnist", "train=40", "val=10", "test=10"]
    assert row[4:7] == ["1x28x28", dataset.fingerprint[:12], dataset.root.name]
    assert row[8] == "KiB" and float(row[7]) > 20, "40+10+10 images of 784 bytes"
    assert out[3].startswith("importable, not in the cache: usps, cifar10, cifar100")


def test_bad_md5_exits_2_with_one_line(tmp_path, capsys):
    write_fake_mnist(tmp_path / "mnist")
    assert data("import", "mnist", str(tmp_path / "mnist"), cache=tmp_path / "c") == 2
    line = one_error_line(capsys)
    assert "train-images-idx3-ubyte.gz" in line and MNIST_MD5["train-images-idx3-ubyte.gz"] in line


def test_truncated_file_exits_2_with_one_line(fake_mnist, tmp_path, capsys, monkeypatch):
    path = fake_mnist / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])
    entry = replace(sources.KNOWN_DATASETS["mnist"],
                    importer=partial(import_mnist, expected_md5=None))
    monkeypatch.setattr(sources, "KNOWN_DATASETS",
                        MappingProxyType({**sources.KNOWN_DATASETS, "mnist": entry}))
    assert data("import", "mnist", str(fake_mnist), cache=tmp_path / "c") == 2
    assert "t10k-images-idx3-ubyte.gz" in one_error_line(capsys)


def test_unknown_name_gets_did_you_mean(tmp_path, capsys):
    assert data("import", "cifar-100", str(tmp_path), cache=tmp_path / "c") == 2
    assert '(did you mean "cifar100"?)' in one_error_line(capsys)


@pytest.mark.parametrize("args", [["import", "mnist"], ["import", "mnist", ".", "--hub"]])
def test_path_xor_hub(args, tmp_path, capsys):
    assert data(*args, cache=tmp_path / "c") == 2
    line = one_error_line(capsys)
    assert "give either PATH (the folder holding train-images-idx3-ubyte.gz" in line
    assert "`harness data import mnist --hub`" in line


def test_hub_unreachable_exits_2_naming_the_offline_command(tmp_path, capsys, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("Network is unreachable")

    for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HTTPS_PROXY", "https_proxy",
                     "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert data("import", "cifar10", "--hub", cache=tmp_path / "c") == 2
    line = one_error_line(capsys)
    assert "uoft-cs/cifar10" in line and "`harness data import cifar10 PATH`" in line


def test_usps_without_h5py_exits_2_naming_pip_install(tmp_path, capsys, monkeypatch):
    (tmp_path / "usps.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    monkeypatch.setitem(sys.modules, "h5py", None)
    assert data("import", "usps", str(tmp_path / "usps.h5"), cache=tmp_path / "c") == 2
    assert "`pip install h5py`" in one_error_line(capsys)


def test_list_and_verify_name_damaged_folders(tmp_path, fake_mnist, capsys):
    """A truncated file made the folder vanish from `data list` ("not in the cache"), and a
    file changed in place at the same size was never noticed."""
    cache = tmp_path / "cache"
    assert data("import", "mnist", str(fake_mnist), cache=cache) == 0
    [folder] = [p for p in cache.iterdir() if p.name.startswith("mnist-")]
    assert data("verify", cache=cache) == 0
    assert f"{folder.name}: ok" in capsys.readouterr().out
    images = folder / "test_images.npy"
    flipped = bytearray(images.read_bytes())
    flipped[-1] ^= 0xFF  # same size, one pixel changed
    images.write_bytes(bytes(flipped))
    assert data("verify", "mnist", cache=cache) == 1
    assert "DAMAGED" in capsys.readouterr().out
    images.write_bytes(bytes(flipped)[:-100])  # truncated
    assert data("list", cache=cache) == 0
    assert f"damaged, cannot be read: {folder.name}" in capsys.readouterr().out
    assert data("verify", cache=cache) == 1
    assert f"{folder.name}: DAMAGED" in capsys.readouterr().out
    assert data("verify", "cifar10", cache=cache) == 2
    assert "not in the cache" in capsys.readouterr().err
