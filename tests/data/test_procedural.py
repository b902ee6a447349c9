"""Procedural datasets: determinism, split hygiene, balance, learnability, versioning."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from harness.data import glyphs, shapes
from harness.data.procedural import (
    PROCEDURAL_DATASETS,
    SPLITS,
    ProceduralSpec,
    dataset_version,
    generate,
    generate_split,
    get_spec,
)
from harness.errors import DatasetMissingError

SMALL = {"train": 12, "val": 4, "test": 8}
NAMES = sorted(PROCEDURAL_DATASETS)


@pytest.fixture(scope="module")
def small_data() -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    return {name: generate(PROCEDURAL_DATASETS[name], SMALL) for name in NAMES}


def test_registry_has_the_promised_datasets():
    assert {"glyphs-digits", "glyphs-letters", "shapes", "textures"} <= set(NAMES)
    assert PROCEDURAL_DATASETS["glyphs-digits"].class_names == tuple("0123456789")
    assert PROCEDURAL_DATASETS["glyphs-letters"].class_names == tuple("ABCDEFGHIJ")
    for spec in PROCEDURAL_DATASETS.values():
        assert spec.per_class() == {"train": 500, "val": 100, "test": 200}


@pytest.mark.parametrize("name", NAMES)
def test_shapes_dtypes_and_balanced_labels(small_data, name):
    num_classes = len(PROCEDURAL_DATASETS[name].class_names)
    for split in SPLITS:
        images, labels = small_data[name][split]
        n = SMALL[split] * num_classes
        assert images.shape == (n, 3, 32, 32) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert np.bincount(labels, minlength=num_classes).tolist() == [SMALL[split]] * num_classes
        assert images.std() > 20, "images should not be blank"


@pytest.mark.parametrize("name", NAMES)
def test_same_spec_gives_identical_bytes(small_data, name):
    again = generate(PROCEDURAL_DATASETS[name], SMALL)
    for split in SPLITS:
        assert again[split][0].tobytes() == small_data[name][split][0].tobytes()
        assert again[split][1].tobytes() == small_data[name][split][1].tobytes()


@pytest.mark.parametrize("name", NAMES)
def test_splits_share_no_image(small_data, name):
    seen: dict[bytes, str] = {}
    for split in SPLITS:
        for image in small_data[name][split][0]:
            digest = hashlib.sha256(image.tobytes()).digest()
            first = seen.setdefault(digest, split)
            assert first == split, f"an image is in both {first} and {split}"


def test_split_does_not_depend_on_other_splits_sizes():
    spec = PROCEDURAL_DATASETS["shapes"]
    a = generate_split(spec, "test", 3)
    b = generate(spec, {"train": 5, "val": 2, "test": 3})["test"]
    assert a[0].tobytes() == b[0].tobytes()


def _mask(images: np.ndarray) -> np.ndarray:
    """Polarity-free content mask: distance of each pixel's grey level from the border's."""
    grey = images.astype(np.float32).mean(axis=1)
    border = np.concatenate([grey[:, 0], grey[:, -1], grey[:, :, 0], grey[:, :, -1]], axis=1)
    mask = np.abs(grey - np.median(border, axis=1)[:, None, None])
    top = np.percentile(mask.reshape(len(mask), -1), 99, axis=1)[:, None, None]
    return np.clip(mask / (top + 1e-6), 0.0, 1.0)


def _shape_features(images: np.ndarray) -> np.ndarray:
    """Translation- and rotation-free: radial mass histogram and angular harmonics |m_k|."""
    mask = _mask(images)
    mask = np.where(mask > 0.5, mask, 0.0)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    mass = mask.sum(axis=(1, 2)) + 1e-6
    cy = (mask * yy).sum(axis=(1, 2)) / mass
    cx = (mask * xx).sum(axis=(1, 2)) / mass
    dy, dx = yy - cy[:, None, None], xx - cx[:, None, None]
    radius, angle = np.hypot(dx, dy), np.arctan2(dy, dx)
    rms = np.sqrt((mask * radius**2).sum(axis=(1, 2)) / mass)
    bins = np.minimum((radius / rms[:, None, None] / 0.2).astype(int), 9)
    hist = np.stack([(mask * (bins == b)).sum(axis=(1, 2)) for b in range(10)], axis=1)
    harmonics = [np.abs((mask * np.exp(1j * k * angle)).sum(axis=(1, 2))) for k in range(1, 9)]
    return np.concatenate([hist, np.stack(harmonics, axis=1)], axis=1) / mass[:, None]


def _spectrum_features(images: np.ndarray) -> np.ndarray:
    """Translation-free: log magnitude of the 2-D spectrum of the content mask."""
    mask = _mask(images)
    mask /= mask.std(axis=(1, 2), keepdims=True) + 1e-6
    return np.log1p(np.abs(np.fft.rfft2(mask))).reshape(len(images), -1)


@pytest.mark.parametrize(
    ("name", "features"),
    [
        ("shapes", _shape_features),
        ("glyphs-digits", _shape_features),
        ("glyphs-letters", _shape_features),
        ("textures", _spectrum_features),
    ],
)
def test_classes_are_distinguishable(name, features):
    """A nearest-class-mean classifier on simple invariant features beats chance (10%) clearly:
    the class, not a nuisance, decides what the image looks like."""
    data = generate(PROCEDURAL_DATASETS[name], {"train": 30, "val": 1, "test": 20})
    train_x, test_x = features(data["train"][0]), features(data["test"][0])
    mu, sd = train_x.mean(axis=0), train_x.std(axis=0) + 1e-6
    train_x, test_x = (train_x - mu) / sd, (test_x - mu) / sd
    train_y, test_y = data["train"][1], data["test"][1]
    means = np.stack([train_x[train_y == k].mean(axis=0) for k in range(10)])
    predicted = ((test_x[:, None, :] - means[None]) ** 2).sum(axis=-1).argmin(axis=1)
    accuracy = (predicted == test_y).mean()
    assert accuracy > 0.35, f"{name}: nearest-class-mean accuracy {accuracy:.2f}"


def test_version_follows_params_sizes_and_seed():
    spec = PROCEDURAL_DATASETS["shapes"]
    base = dataset_version(spec)
    assert base == dataset_version(PROCEDURAL_DATASETS["shapes"])
    assert len(base) == 12 and int(base, 16) >= 0
    noisier = ProceduralSpec(**{**_fields(spec), "params": {**spec.params, "noise_std": 0.1}})
    reseeded = ProceduralSpec(**{**_fields(spec), "seed": spec.seed + 1})
    assert len({base, dataset_version(noisier), dataset_version(reseeded),
                dataset_version(spec, {"train": 3})}) == 4


def _fields(spec: ProceduralSpec) -> dict:
    return {name: getattr(spec, name) for name in spec.__dataclass_fields__}


def test_params_change_the_data():
    spec = PROCEDURAL_DATASETS["textures"]
    other = ProceduralSpec(**{**_fields(spec), "params": {**spec.params, "noise_std": 0.2}})
    before, after = generate_split(spec, "val", 2)[0], generate_split(other, "val", 2)[0]
    assert before.tobytes() != after.tobytes()


def test_wrong_name_suggests_the_closest():
    with pytest.raises(DatasetMissingError, match='did you mean "glyphs-digits"'):
        get_spec("glyph-digits")
    assert get_spec("shapes") is PROCEDURAL_DATASETS["shapes"]


def test_bad_sizes_and_generators_are_rejected():
    spec = PROCEDURAL_DATASETS["shapes"]
    with pytest.raises(ValueError, match='did you mean "train"'):
        spec.per_class({"trian": 3})
    with pytest.raises(ValueError, match=">= 1"):
        spec.per_class({"test": 0})
    broken = ProceduralSpec(
        "broken", ("a", "b"), lambda rng, labels, params: np.zeros((len(labels), 32, 32))
    )
    with pytest.raises(ValueError, match="expected uint8"):
        generate_split(broken, "train", 2)
    with pytest.raises(ValueError, match="unknown shapes"):
        params = {**spec.params, "shapes": ["circle", "blob"]}
        shapes.render_shapes(np.random.default_rng(0), np.array([0, 1]), params)


def test_every_font_renders_every_character():
    chars = "".join(PROCEDURAL_DATASETS["glyphs-digits"].params["chars"])
    chars += "".join(PROCEDURAL_DATASETS["glyphs-letters"].params["chars"])
    for font_file in glyphs.FONT_FILES:
        assert (glyphs.font_dir() / font_file).is_file()
        params = {**glyphs.DEFAULT_PARAMS, "fonts": [font_file], "chars": list(chars),
                  "noise_std": 0.0, "min_contrast": 0.5}
        labels = np.arange(len(chars))
        images = glyphs.render_glyphs(np.random.default_rng(0), labels, params)
        ink = _mask(images) > 0.5
        assert ink.mean(axis=(1, 2)).min() > 0.02, f"{font_file} leaves a character blank"


def test_editing_a_module_a_generator_draws_on_changes_its_cache_version(monkeypatch):
    """The NEVIS "fonts" generator paints with glyphs' helpers and "noise-level" with textures'
    renderer: editing those modules changes the bytes, so it must change the version (else an
    old cache keeps serving old data while a fresh machine makes new data)."""
    import inspect

    from harness.data import textures
    from harness.nevis.generators import GENERATORS

    kind = GENERATORS["fonts"]
    spec = ProceduralSpec("fonts-test", ("a", "b"), kind.render, train_per_class=2,
                          val_per_class=1, test_per_class=1, seed=0,
                          params=dict(kind.defaults))
    before = dataset_version(spec)
    real = inspect.getsource
    for edited in (glyphs, textures):
        monkeypatch.setattr(inspect, "getsource",
                            lambda obj, m=edited: real(obj) + ("\n# edit" if obj is m else ""))
        assert dataset_version(spec) != before, edited.__name__
    monkeypatch.setattr(inspect, "getsource", real)
    assert dataset_version(spec) == before


def test_editing_the_text_or_click_generator_changes_the_ttr_data_folder(monkeypatch):
    import inspect

    from harness.data import click_logs, text_corpus
    from harness.suite import load_suite
    from harness.ttr_data import _source_key

    workloads = {w.kind: w for w in load_suite("ttr-quick").workloads}
    real = inspect.getsource
    for module in (text_corpus, click_logs):
        [workload] = [w for w in workloads.values()
                      if w.dataset in ("markov-text", "synthetic-clicks")
                      and (module is text_corpus) == (w.dataset == "markov-text")]
        before = _source_key(workload)
        monkeypatch.setattr(inspect, "getsource",
                            lambda obj, m=module: real(obj) + ("\n# edit" if obj is m else ""))
        assert _source_key(workload) != before, module.__name__
        monkeypatch.setattr(inspect, "getsource", real)
