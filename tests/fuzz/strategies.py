"""Hypothesis strategies shared by the fuzz tests: TOML/JSON values and their text."""

from __future__ import annotations

import json
import math

from hypothesis import strategies as st

KEYS = st.text(st.characters(categories=("L", "N", "P")), min_size=1,
               max_size=12)
SCALARS = st.one_of(st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
                    st.text(max_size=20))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=3)), max_leaves=8)


def toml_value(value) -> str:
    """A TOML literal for `value` (may be invalid TOML, e.g. mixed or out-of-range: good)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string, except for lone surrogates: good too
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_text(data: dict) -> str:
    """TOML for a two-level dict: scalars first, then one [table] per dict value."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in data.items()
             if not isinstance(v, dict)]
    for key, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{json.dumps(key)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


@st.composite
def mutated(draw, base: dict, depth: int = 2):
    """`base` with some keys dropped, some values replaced by anything, some unknown keys added;
    nested tables are mutated the same way."""
    out = {}
    for key, value in base.items():
        action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "replace"]))
        if action == "drop":
            continue
        if action == "replace":
            out[key] = draw(VALUES)
        elif isinstance(value, dict) and depth > 1:
            out[key] = draw(mutated(value, depth - 1))
        else:
            out[key] = value
    for key, value in draw(st.dictionaries(KEYS, VALUES, max_size=2)).items():
        out.setdefault(key, value)
    return out


@st.composite
def damaged_text(draw, text: str):
    """`text` truncated, or with characters inserted, deleted or replaced."""
    kind = draw(st.sampled_from(["truncate", "insert", "delete", "replace"]))
    at = draw(st.integers(0, max(0, len(text) - 1)))
    if kind == "truncate":
        return text[:at]
    if kind == "delete":
        return text[:at] + text[at + draw(st.integers(1, 8)):]
    junk = draw(st.text(min_size=1, max_size=6))
    return text[:at] + junk + text[at + (1 if kind == "replace" else 0):]
