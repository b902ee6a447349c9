"""Results as JSON: the same inputs give byte-identical text.

`to_jsonable` turns the frozen result dataclasses of this package (and containers, numpy
arrays and scalars) into plain JSON values, keeping field order; floats that are not finite
become null, since JSON has no NaN or infinity.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """A JSON-compatible copy of `value`: dataclass -> object (field order), mapping -> object
    (keys as text; tuple keys joined by " vs "), sequence/array -> list, NaN/inf -> null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"cannot turn {type(value).__name__} into JSON")


def _key(key: Any) -> str:
    if isinstance(key, tuple):
        return " vs ".join(map(str, key))
    return str(key)


def dumps(value: Any) -> str:
    """`value` as indented JSON text ending in a newline (see `to_jsonable`)."""
    return json.dumps(to_jsonable(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
