"""The registry of procedural datasets and the seeded generation of their splits.

A procedural dataset is written by the project (no download): a `ProceduralSpec` names a
generator (glyphs, shapes, textures) and its parameters. Generation is deterministic: each split
draws from its own `numpy.random.Generator` derived from the spec's seed and the split's name, so
the same spec always gives byte-identical arrays and splits never share images. Labels are
balanced (`*_per_class` samples of every class) and shuffled.

`dataset_version` hashes the generating code's source text with the spec, so the on-disk cache
(`harness.data.cache`) is rebuilt whenever either changes. Font rasterisation comes from the
installed Pillow/FreeType; their versions are recorded in `provenance` (not in the version), and
the data fingerprint recorded with every run catches any difference they make.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any, Literal

import numpy as np

from harness.configfile import did_you_mean
from harness.data import compositing, glyphs, shapes, textures
from harness.errors import DatasetMissingError

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")

# (rng, labels int64 (N,), params) -> uint8 images (N, 3, 32, 32)
Generator = Callable[[np.random.Generator, np.ndarray, Mapping[str, Any]], np.ndarray]


@dataclass(frozen=True)
class ProceduralSpec:
    """A named procedural dataset: what to draw, how many samples per class and split, the seed.

    `params` must be JSON-serialisable: it is hashed into the cache version and stored as
    provenance.
    """

    name: str
    class_names: tuple[str, ...]
    generator: Generator
    train_per_class: int = 500
    val_per_class: int = 100
    test_per_class: int = 200
    seed: int = 0
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if len(set(self.class_names)) != len(self.class_names) or len(self.class_names) < 2:
            raise ValueError(f"{self.name}: class_names must be >= 2 distinct names")
        for split, count in self.per_class().items():
            if count < 1:
                raise ValueError(f"{self.name}: {split}_per_class must be >= 1, got {count}")
        object.__setattr__(self, "class_names", tuple(self.class_names))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def per_class(self, overrides: Mapping[str, int] | None = None) -> dict[Split, int]:
        """Samples per class of each split, with `overrides` (split -> count) applied."""
        counts: dict[Split, int] = {
            "train": self.train_per_class,
            "val": self.val_per_class,
            "test": self.test_per_class,
        }
        for split, count in (overrides or {}).items():
            if split not in counts:
                raise ValueError(f'unknown split "{split}"{did_you_mean(split, counts)}')
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"samples per class of {split} must be an int >= 1, got {count!r}")
            counts[split] = count
        return counts


def generate_split(
    spec: ProceduralSpec, split: Split, per_class: int
) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 3, 32, 32) and labels int64 (N,) of one split, N = per_class * classes."""
    # The split's name (not its position) picks the stream, so adding a split changes no other.
    seed = np.random.SeedSequence(spec.seed, spawn_key=(zlib.crc32(split.encode()),))
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(spec.class_names), dtype=np.int64), per_class)
    labels = rng.permutation(labels)
    images = spec.generator(rng, labels, spec.params)
    expected = (len(labels), 3, 32, 32)
    if images.dtype != np.uint8 or images.shape != expected:
        raise ValueError(
            f"{spec.name}: generator returned {images.dtype} {images.shape}, "
            f"expected uint8 {expected}"
        )
    return images, labels


def generate(
    spec: ProceduralSpec, per_class: Mapping[str, int] | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every split of `spec`: {split: (images, labels)}; `per_class` overrides the sizes."""
    counts = spec.per_class(per_class)
    return {split: generate_split(spec, split, counts[split]) for split in SPLITS}


def _code_text(spec: ProceduralSpec) -> str:
    """Source text of everything that decides the bytes: the generator's module and every
    harness module it draws on (`code_closure`), the painter, the splitter."""
    generator_module = sys.modules[spec.generator.__module__]
    try:
        parts = [inspect.getsource(m) for m in code_closure(generator_module, compositing)]
    except (OSError, TypeError) as exc:
        raise ValueError(
            f"{spec.name}: cannot read the source of {_qualified_name(spec.generator)}, which "
            "the cache version hashes; define the generator in a module file"
        ) from exc
    parts.append(inspect.getsource(generate_split))
    return "\n".join(parts)


def code_closure(*modules: ModuleType) -> list[ModuleType]:
    """`modules` and every data-making harness module they use, transitively (a module, or a
    function or class of one, among their globals), in a stable order. A generator that
    paints with another module's helpers (textures, glyph masks) changes when they do."""
    found: dict[str, ModuleType] = {}
    pending = list(modules)
    while pending:
        module = pending.pop()
        if module.__name__ in found:
            continue
        found[module.__name__] = module
        for value in vars(module).values():
            used = value if isinstance(value, ModuleType) else sys.modules.get(
                getattr(value, "__module__", "") or "")
            if used is not None and used.__name__.startswith(_DATA_MAKING) and \
                    not used.__name__.startswith(_PLUMBING) and used.__name__ not in found:
                pending.append(used)
    return [found[name] for name in sorted(found)]


# Modules whose code decides generated bytes, and the cache and import plumbing around them,
# which does not (the splitter of this module is hashed on its own).
_DATA_MAKING = ("harness.data.", "harness.nevis.generators")
_PLUMBING = ("harness.data.cache", "harness.data.sources", "harness.data.procedural",
             "harness.data.hub_split")


def code_digest(*modules: ModuleType) -> str:
    """sha256 of the source of `modules` and what they use (`code_closure`)."""
    text = "\n".join(inspect.getsource(m) for m in code_closure(*modules))
    return hashlib.sha256(text.encode()).hexdigest()


def dataset_version(spec: ProceduralSpec, per_class: Mapping[str, int] | None = None) -> str:
    """12 hex digits of sha256 over the generating code's source and the spec (sizes included)."""
    payload = {
        "code_sha256": hashlib.sha256(_code_text(spec).encode()).hexdigest(),
        "provenance": provenance(spec, per_class, include_code=False),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _qualified_name(generator: Generator) -> str:
    # A callable object has no __qualname__ of its own: name its class.
    name = getattr(generator, "__qualname__", type(generator).__qualname__)
    return f"{generator.__module__}.{name}"


def provenance(
    spec: ProceduralSpec, per_class: Mapping[str, int] | None = None, include_code: bool = True
) -> dict[str, Any]:
    """How the data was made, as JSON-ready values (stored in the cache's meta.json)."""
    info: dict[str, Any] = {
        "kind": "procedural",
        "generator": _qualified_name(spec.generator),
        "params": dict(spec.params),
        "seed": spec.seed,
        "per_class": dict(spec.per_class(per_class)),
        "class_names": list(spec.class_names),
    }
    if include_code:
        from PIL import __version__ as pillow_version

        info["code_sha256"] = hashlib.sha256(_code_text(spec).encode()).hexdigest()
        info["numpy"] = np.__version__
        info["pillow"] = pillow_version
    return info


def _builtin_specs() -> dict[str, ProceduralSpec]:
    digits = tuple("0123456789")
    letters = tuple("ABCDEFGHIJ")
    specs = [
        ProceduralSpec(
            "glyphs-digits", digits, glyphs.render_glyphs, seed=1,
            params={**glyphs.DEFAULT_PARAMS, "chars": list(digits)},
        ),
        ProceduralSpec(
            "glyphs-letters", letters, glyphs.render_glyphs, seed=2,
            params={**glyphs.DEFAULT_PARAMS, "chars": list(letters)},
        ),
        ProceduralSpec(
            "shapes", shapes.SHAPE_NAMES, shapes.render_shapes, seed=3,
            params={**shapes.DEFAULT_PARAMS, "shapes": list(shapes.SHAPE_NAMES)},
        ),
        ProceduralSpec(
            "textures", textures.TEXTURE_NAMES, textures.render_textures, seed=4,
            params={**textures.DEFAULT_PARAMS, "textures": list(textures.TEXTURE_NAMES)},
        ),
    ]
    # "clean" glyphs: fewer fonts, less rotation and shift, more contrast. A small CNN learns a
    # pair of them in a few hundred steps on a CPU, which the quickstart suite needs.
    clean = {**glyphs.DEFAULT_PARAMS, "fonts": ["DejaVuSans-Bold.ttf", "DejaVuSans.ttf",
                                                 "DejaVuSerif-Bold.ttf"],
             "max_rotation_deg": 10.0, "max_shift_px": 2.0, "em_px": [20.0, 26.0],
             "min_contrast": 0.5, "noise_std": 0.03}
    specs += [
        ProceduralSpec("glyphs-digits-clean", digits, glyphs.render_glyphs, seed=5,
                       params={**clean, "chars": list(digits)}),
        ProceduralSpec("glyphs-letters-clean", letters, glyphs.render_glyphs, seed=6,
                       params={**clean, "chars": list(letters)}),
    ]
    return {spec.name: spec for spec in specs}


PROCEDURAL_DATASETS: Mapping[str, ProceduralSpec] = MappingProxyType(_builtin_specs())


def get_spec(
    name: str, specs: Mapping[str, ProceduralSpec] = PROCEDURAL_DATASETS
) -> ProceduralSpec:
    """The spec called `name`; a wrong name raises DatasetMissingError with a did-you-mean."""
    if name in specs:
        return specs[name]
    raise DatasetMissingError(
        f'no procedural dataset "{name}"{did_you_mean(name, specs)}; '
        f"procedural datasets: {', '.join(sorted(specs))}"
    )
