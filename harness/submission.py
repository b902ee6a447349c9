"""The method folder: a submission's metadata, code and search space (DESIGN §3).

    submissions/my_method/
      submission.toml      metadata (schema below)
      submission.py        implements an API of harness/api.py
      search_space.json    hyperparameter search space (external-tuning ruleset only)

`submission.toml` (closed schema; unknown keys are rejected with a did-you-mean):

    name = "replay"            # required, [a-z0-9_-]+, the name shown on the leaderboard
    description = "..."        # required
    authors = ["..."]          # required, non-empty list of strings
    url = "https://..."        # optional (paper or code)
    license = "Apache-2.0"     # optional
    api = "continual"          # required: "continual" | "training-algorithm"
    suites = ["split-cifar"]   # required, non-empty; "*" means every suite of the API kind
    ruleset = "external-tuning"  # required: "external-tuning" (needs search_space.json)
                                 #        or "self-tuning" (must have none)
    continual = true           # optional (default true); false marks a reference that breaks
                               # the continual rules (e.g. joint training): shown, flagged,
                               # never ranked as a continual method

`submission.py` defines, at module level, the class `CONTRACTS` names for its api kind:
`class Learner(ContinualLearner)` with `learn` and `predict` ("continual"), or
`class Algorithm(TrainingAlgorithm)` with `batch_size`, `init` and `step` ("training-algorithm").

Validation is in two stages, and every problem of a stage is reported at once, each as
"FILE:LINE: message": `static_problems` reads files without running submission code;
`import_problems` imports the code in a fresh interpreter (`harness.submission_check`).
"""

from __future__ import annotations

import ast
import enum
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
from harness.configfile import Problems, did_you_mean, read_json, read_toml
from harness.errors import ConfigError, UserError
from harness.search_space import SearchSpace, parse_search_space

__all__ = [
    "CONTRACTS", "ApiKind", "ClassContract", "Ruleset", "Submission", "SubmissionMeta",
    "content_hash", "discover_submissions", "import_problems", "load_submission", "static_problems",
    "validate_submission",
]

TOML_FILE = "submission.toml"
CODE_FILE = "submission.py"
SEARCH_SPACE_FILE = "search_space.json"

NAME_PATTERN = re.compile(r"[a-z0-9_-]+")
META_KEYS = ("name", "description", "authors", "url", "license", "api", "suites", "ruleset",
             "continual")


class ApiKind(enum.Enum):
    """Which API of harness/api.py a submission implements."""

    CONTINUAL = "continual"
    TRAINING_ALGORITHM = "training-algorithm"


@dataclass(frozen=True)
class ClassContract:
    """What submission.py must define for an API kind: a class, its base, required methods."""

    class_name: str
    base_name: str
    methods: tuple[str, ...]
    template: str  # the folder to copy, named in messages


CONTRACTS = {
    ApiKind.CONTINUAL: ClassContract("Learner", "ContinualLearner", ("learn", "predict"),
                                     "submissions/_template"),
    ApiKind.TRAINING_ALGORITHM: ClassContract(
        "Algorithm", "TrainingAlgorithm", ("batch_size", "init", "step"),
        "submissions/_template_optimizer"),
}


class Ruleset(enum.Enum):
    """How hyperparameters are chosen (AlgoPerf's two rulesets)."""

    EXTERNAL_TUNING = "external-tuning"  # the harness tunes over search_space.json
    SELF_TUNING = "self-tuning"  # no hyperparameters; the method tunes itself


@dataclass(frozen=True)
class SubmissionMeta:
    """The validated contents of submission.toml."""

    name: str
    description: str
    authors: tuple[str, ...]
    url: str
    license: str
    api: ApiKind
    suites: tuple[str, ...]
    ruleset: Ruleset
    continual: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "authors": list(self.authors),
            "url": self.url, "license": self.license, "api": self.api.value,
            "suites": list(self.suites), "ruleset": self.ruleset.value,
            "continual": self.continual,
        }


@dataclass(frozen=True)
class Submission:
    """A statically valid method folder; `content_hash` identifies this version of it."""

    path: Path
    meta: SubmissionMeta
    search_space: SearchSpace | None
    content_hash: str

    def targets(self, suite_name: str, api: ApiKind | None = None) -> bool:
        """Whether the submission enters `suite_name` (of kind `api`, when given)."""
        if api is not None and api is not self.meta.api:
            return False
        return "*" in self.meta.suites or suite_name in self.meta.suites


def check_unique_names(submissions: Sequence[Submission]) -> None:
    """Refuse two folders with one method name: results are keyed by the name (and content
    hash), so they would share run keys and tuning decisions — typically a copied baseline
    not renamed yet."""
    folders: dict[str, list[str]] = {}
    for sub in submissions:
        folders.setdefault(sub.meta.name, []).append(str(sub.path))
    for name, paths in folders.items():
        if len(paths) > 1:
            raise UserError(f"method folders {' and '.join(paths)} are both named {name!r}; "
                            "give each its own name in its submission.toml")


def content_hash(folder: Path) -> str:
    """sha256 (hex) over every file of `folder`: sorted relative POSIX paths and their bytes.

    Skips `__pycache__`, `*.pyc` and dot-files/-folders, which running or editing the code
    creates without changing the method. Each file contributes its path and the sha256 of its
    bytes, so no concatenation of two folders can collide with a third.
    """
    digest = hashlib.sha256()
    for rel in _hashed_files(Path(folder)):
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256((Path(folder) / rel).read_bytes()).digest())
    return digest.hexdigest()


def _hashed_files(folder: Path) -> list[str]:
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
        for filename in filenames:
            if filename.startswith(".") or filename.endswith(".pyc"):
                continue
            files.append((Path(dirpath) / filename).relative_to(folder).as_posix())
    return sorted(files)


def discover_submissions(root: Path) -> list[Path]:
    """Sorted subfolders of `root` holding a submission.toml, skipping `_*` and `.*` names."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such folder; pass the folder that holds method folders")
    return sorted(
        child for child in root.iterdir()
        if child.is_dir() and not child.name.startswith(("_", "."))
        and (child / TOML_FILE).is_file()
    )


def load_submission(folder: Path) -> Submission:
    """Load a method folder after static checks; raises ConfigError with every problem."""
    submission, problems = _load(Path(folder))
    if problems:
        raise ConfigError(problems)
    assert submission is not None
    return submission


def static_problems(folder: Path) -> list[str]:
    """Every problem found without running submission code, each "FILE:LINE: message"."""
    return _load(Path(folder))[1]


def validate_submission(folder: Path, import_check: bool = True,
                        timeout_s: float = 60) -> list[str]:
    """Static problems; if there are none (and `import_check`), the import problems."""
    problems = static_problems(folder)
    if problems or not import_check:
        return problems
    return import_problems(folder, timeout_s=timeout_s)


def import_problems(folder: Path, timeout_s: float = 60) -> list[str]:
    """Import submission.py in a fresh interpreter and check it against harness.api.

    The submission's api kind is read from submission.toml when it can be (else "continual").
    """
    folder = Path(folder)
    api = _api_of(folder)
    command = [sys.executable, "-B", "-m", "harness.submission_check", str(folder), api.value]
    # The child must import this same harness, wherever the current directory is.
    package_root = str(Path(harness.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)}
    code_path = folder / CODE_FILE
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                              env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return [f"{code_path}: importing {CODE_FILE} took longer than {timeout_s:g} s; "
                "do no work at import time (build models in "
                f"{'Learner.__init__' if api is ApiKind.CONTINUAL else 'Algorithm.init'})"]
    problems = _reported_problems(done.stdout)
    if done.returncode not in (0, 1) or (done.returncode == 1 and not problems):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        problems.append(f"{code_path}: the import check crashed "
                        f"(exit code {done.returncode}): {last}")
    return problems


def _reported_problems(stdout: str) -> list[str]:
    problems = []
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("problem"), str):
            problems.append(record["problem"])
    return problems


def _api_of(folder: Path) -> ApiKind:
    try:
        data, _ = read_toml(folder / TOML_FILE)
        return ApiKind(data.get("api"))
    except (ConfigError, ValueError):
        return ApiKind.CONTINUAL


def _load(folder: Path) -> tuple[Submission | None, list[str]]:
    if not folder.is_dir():
        return None, [f"{folder}: no such folder"]
    toml_problems, meta, toml_text = _load_meta(folder)
    space_problems, space = _load_search_space(folder, meta, toml_text)
    code_problems = _code_problems(folder / CODE_FILE, meta.api if meta else ApiKind.CONTINUAL)
    problems = toml_problems + space_problems + code_problems
    if problems or meta is None:
        return None, problems
    try:
        digest = content_hash(folder)
    except OSError as exc:
        return None, [f"{folder}: cannot read every file to hash the folder: {exc}"]
    return Submission(folder, meta, space, digest), []


def _load_meta(folder: Path) -> tuple[list[str], SubmissionMeta | None, str]:
    path = folder / TOML_FILE
    if not path.is_file():
        return [f"{path}: file not found; copy submissions/_template/{TOML_FILE}"], None, ""
    try:
        data, text = read_toml(path)
    except ConfigError as exc:
        return [_with_toml_line(p, path) for p in exc.problems], None, ""
    problems = Problems(path, text)
    meta = parse_meta(data, problems)
    return problems.items, meta, text


def _with_toml_line(problem: str, path: Path) -> str:
    # tomllib reports "... (at line 3, column 7)"; move the line next to the file name.
    match = re.search(r"\(at line (\d+), column \d+\)", problem)
    prefix = f"{path}: "
    if match is None or not problem.startswith(prefix):
        return problem
    return f"{path}:{match.group(1)}: {problem[len(prefix):]}"


def parse_meta(data: dict[str, Any], problems: Problems) -> SubmissionMeta | None:
    """Validate parsed submission.toml; record every problem; None if there were any."""
    before = len(problems.items)
    problems.unknown_keys(data, META_KEYS, TOML_FILE)
    name = problems.require(data, "name", str, TOML_FILE)
    if name is not None and not NAME_PATTERN.fullmatch(name):
        problems.add(f'"name" must match [a-z0-9_-]+ (lower case, digits, "_" and "-"), '
                     f"got {name!r}", key="name")
    description = problems.require(data, "description", str, TOML_FILE)
    if description is not None and not description.strip():
        problems.add('"description" must not be empty', key="description")
    authors = _string_list(data, "authors", problems, required=True)
    url = _optional(data, "url", str, "", problems)
    license_ = _optional(data, "license", str, "", problems)
    api = _enum_value(data, "api", ApiKind, problems)
    suites = _string_list(data, "suites", problems, required=True)
    ruleset = _enum_value(data, "ruleset", Ruleset, problems)
    continual = _optional(data, "continual", bool, True, problems)
    if len(problems.items) > before:
        return None
    return SubmissionMeta(name, description, authors, url, license_, api, suites, ruleset,
                          continual)


def _optional(data: dict[str, Any], key: str, kind: type, default: Any,
              problems: Problems) -> Any:
    if key not in data:
        return default
    return problems.check_type(data, key, kind, TOML_FILE)


def _string_list(data: dict[str, Any], key: str, problems: Problems,
                 required: bool) -> tuple[str, ...] | None:
    if key not in data and not required:
        return ()
    value = problems.require(data, key, list, TOML_FILE)
    if value is None:
        return None
    if not value or not all(isinstance(v, str) and v.strip() for v in value):
        problems.add(f'"{key}" must be a non-empty list of non-empty strings, got {value!r}',
                     key=key)
        return None
    return tuple(value)


def _enum_value(data: dict[str, Any], key: str, kind: type[enum.Enum],
                problems: Problems) -> Any:
    value = problems.require(data, key, str, TOML_FILE)
    if value is None:
        return None
    choices = [member.value for member in kind]
    if value not in choices:
        problems.add(f'"{key}" must be one of {", ".join(choices)}, got {value!r}'
                     f"{did_you_mean(value, choices)}", key=key)
        return None
    return kind(value)


def _load_search_space(folder: Path, meta: SubmissionMeta | None,
                       toml_text: str) -> tuple[list[str], SearchSpace | None]:
    path = folder / SEARCH_SPACE_FILE
    toml = Problems(folder / TOML_FILE, toml_text)
    if meta is not None and meta.ruleset is Ruleset.EXTERNAL_TUNING and not path.is_file():
        toml.add(f'ruleset = "external-tuning" needs {path}; add a search space, or declare '
                 'ruleset = "self-tuning"', key="ruleset")
    if meta is not None and meta.ruleset is Ruleset.SELF_TUNING and path.is_file():
        toml.add(f'ruleset = "self-tuning" must have no {SEARCH_SPACE_FILE}; delete {path}, '
                 'or declare ruleset = "external-tuning"', key="ruleset")
    if not path.is_file():
        return toml.items, None
    try:
        data, text = read_json(path)
    except ConfigError as exc:
        return toml.items + exc.problems, None
    problems = Problems(path, text)
    space = parse_search_space(data, problems)
    return toml.items + problems.items, space


def _code_problems(path: Path, api: ApiKind) -> list[str]:
    contract = CONTRACTS[api]
    if not path.is_file():
        return [f"{path}: file not found; copy {contract.template}/{CODE_FILE}"]
    try:
        source = path.read_text(encoding="utf-8")
        # A full compile also catches errors the parser alone lets through (e.g. a `return`
        # outside a function); nothing is executed.
        compile(source, str(path), "exec", dont_inherit=True)
        tree = ast.parse(source, str(path))
    except SyntaxError as exc:
        return [f"{path}:{exc.lineno}: SyntaxError: {exc.msg}"]
    except (ValueError, OSError) as exc:  # UnicodeDecodeError is a ValueError
        return [f"{path}: cannot read as Python source: {exc}"]
    return _class_problems(tree, path, contract)


def _class_problems(tree: ast.Module, path: Path, contract: ClassContract) -> list[str]:
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    name, base = contract.class_name, contract.base_name
    cls = classes.get(name)
    if cls is None:
        if _binds_name(tree, name):
            return []  # imported or assigned: only the import check can tell what it is
        return [f"{path}: no class `{name}` found; define `class {name}({base})` "
                f"at module level (see {contract.template}/{CODE_FILE})"]
    methods = _methods(cls, classes, base, seen=set())
    if methods is None:
        return []  # inherits from a class defined elsewhere: the import check decides
    return [f"{path}:{cls.lineno}: class `{name}` has no method `{method}`; "
            f"implement `{method}` (see harness.api.{base}.{method})"
            for method in contract.methods if method not in methods]


def _methods(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], api_base: str,
             seen: set[str]) -> set[str] | None:
    """Names defined in `cls` and its bases from the same file; None if a base is elsewhere."""
    seen.add(cls.name)
    names = {node.name for node in cls.body
             if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    for base in cls.bases:
        base_name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
        if base_name == api_base:
            continue  # its required methods only raise NotImplementedError
        if base_name not in classes or base_name in seen:
            return None
        inherited = _methods(classes[base_name], classes, api_base, seen)
        if inherited is None:
            return None
        names |= inherited
    return names


def _binds_name(tree: ast.Module, name: str) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, ast.ImportFrom | ast.Import) and any(
                (alias.asname or alias.name) == name for alias in node.names):
            return True
    return False
