"""Reading TOML/JSON config files into validated values, with every problem reported at once.

Config loaders (suites, submissions, search spaces) collect problems in a `Problems` list and
raise one `ConfigError` at the end, so a user fixes everything in one go. Unknown keys get a
did-you-mean suggestion. Problems carry the file and, where it can be found, the line.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.errors import ConfigError


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def key_line(text: str, key: str) -> int | None:
    """1-based line where `key` is first assigned in TOML or JSON text, if it can be found."""
    pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*[=:]', re.MULTILINE)
    match = pattern.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()) + 1


class Problems:
    """Collects problems found in one config file; `raise_if_any` raises them together."""

    def __init__(self, path: Path | str, text: str = ""):
        self.path = Path(path)
        self.text = text
        self.items: list[str] = []

    def add(self, message: str, key: str | None = None, line: int | None = None) -> None:
        if line is None and key is not None and self.text:
            line = key_line(self.text, key)
        where = f"{self.path}:{line}" if line else f"{self.path}"
        self.items.append(f"{where}: {message}")

    def unknown_keys(self, table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
        allowed = list(allowed)
        for key in table:
            if key not in allowed:
                self.add(
                    f'unknown key "{key}" in {where}{did_you_mean(key, allowed)}; '
                    f"allowed: {', '.join(sorted(allowed))}",
                    key=key,
                )

    def require(self, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
                where: str) -> Any:
        """Return `table[key]` if present and of `kind`, else record a problem and return None."""
        if key not in table:
            self.add(f'missing required key "{key}" in {where}')
            return None
        return self.check_type(table, key, kind, where)

    def check_type(self, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
                   where: str) -> Any:
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a config that says `epochs = true` is still wrong.
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            names = " or ".join(k.__name__ for k in kinds)
            self.add(f'"{key}" in {where} must be {names}, got {value!r}', key=key)
            return None
        return value

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; a syntax error becomes a one-line ConfigError with the line."""
    text = _read_text(path)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def read_json(path: Path) -> tuple[Any, str]:
    """Parse a JSON file; a syntax error becomes a one-line ConfigError with the line."""
    text = _read_text(path)
    try:
        return json.loads(text), text
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc


def _read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def suite_version(text: str) -> str:
    """A suite file's version: the first 12 hex digits of the SHA-256 of its text. Stored with
    every run, so results of an edited suite are told apart."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]
