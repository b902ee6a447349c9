"""The import check of a submission folder, run in a fresh interpreter.

    python -m harness.submission_check FOLDER [API]

imports `FOLDER/submission.py` as an isolated module and checks it against `harness.api`: for
the continual API, a class `Learner` subclassing `ContinualLearner` that overrides `learn` and
`predict`; for the training-algorithm API, a class `Algorithm` subclassing `TrainingAlgorithm`
that overrides `batch_size`, `init` and `step`. Every method defined (hooks included) must
accept the arguments the harness passes (`_Contract.calls`). Each problem is printed on
stdout as one JSON line `{"problem": "FILE:LINE: message"}`; anything the submission itself
prints goes to stderr, so it cannot be mistaken for a problem. Exit code 0 if clean, 1 if not.

It runs in its own process (`harness.submission.import_problems` starts it) because importing
user code can hang, crash the interpreter, or leave state behind (global seeds, monkey-patches).

`import_submission_module` is also the one way the harness loads a submission for a run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import sys
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.api import ContinualLearner, TrainingAlgorithm

__all__ = ["check_continual", "check_training_algorithm", "import_submission_module", "main"]

SUBMISSION_FILE = "submission.py"

# One call the harness makes: positional arguments after self, then keyword arguments.
_Call = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class _Contract:
    """The class an API kind needs: its name, base, required overrides and the harness's calls."""

    class_name: str
    base: type
    required: tuple[str, ...]
    calls: dict[str, list[_Call]]  # method name -> every way the harness calls it
    template: str  # the folder to copy, named in messages


_CONTINUAL = _Contract("Learner", ContinualLearner, ("learn", "predict"), {
    "__init__": [(("ctx", "hparams"), ())],
    "learn": [(("task", "data"), ())],
    "predict": [(("x",), ()), (("x", "task"), ()), (("x",), ("task",))],
    "end_of_task": [(("task",), ())],
    "state_size_bytes": [((), ())],
}, "submissions/_template")
_TRAINING_ALGORITHM = _Contract("Algorithm", TrainingAlgorithm, ("batch_size", "init", "step"), {
    "__init__": [(("hparams",), ())],
    "batch_size": [(("workload",), ())],
    "init": [(("workload", "model"), ())],
    "select_batch": [(("batch", "step_index"), ())],
    "step": [(("batch", "step_index"), ())],
    "prepare_for_eval": [((), ())],
}, "submissions/_template_optimizer")


def import_submission_module(folder: Path) -> ModuleType:
    """Import `folder/submission.py` under a unique module name (no clash between submissions).

    Raises whatever the submission's import raises.
    """
    path = Path(folder) / SUBMISSION_FILE
    name = f"harness_submission_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before executing so that dataclasses and pickling inside the module work.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def check_folder(folder: Path, api: str = "continual") -> list[str]:
    """Import the submission and return every problem found (empty when it conforms)."""
    path = Path(folder) / SUBMISSION_FILE
    # As in the worker (harness.runner.worker), a submission may import its own helper modules.
    sys.path.insert(0, str(folder))
    before = {m for m in sys.modules if m == "harness" or m.startswith("harness.")}
    try:
        with contextlib.redirect_stdout(sys.stderr):
            module = import_submission_module(folder)
    except BaseException as exc:  # noqa: BLE001 - any failure of user code is a problem to report
        return [_import_failure(path, exc)]
    imported = {m for m in sys.modules if m.startswith("harness.")} - before
    problems = [  # the modules named, not the packages above them
        f"{path}: imports {name}: a submission may import only harness.api from the harness "
        "(the rest is its internals, which change without notice)"
        for name in sorted(imported) if not any(m.startswith(f"{name}.") for m in imported)
    ]
    if api == "training-algorithm":
        return problems + check_training_algorithm(module, path)
    return problems + check_continual(module, path)


def _import_failure(path: Path, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    if isinstance(exc, SyntaxError) and exc.lineno and Path(exc.filename or "") == path:
        line: int | None = exc.lineno
    else:
        line = frames[-1].lineno if frames else None
    where = f"{path}:{line}" if line else str(path)
    detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return f"{where}: ImportError: importing {SUBMISSION_FILE} raised {detail}"


def check_continual(module: ModuleType, path: Path) -> list[str]:
    """Problems with the module's `Learner` class against the continual-learner contract."""
    return _check_class(module, path, _CONTINUAL)


def check_training_algorithm(module: ModuleType, path: Path) -> list[str]:
    """Problems with the module's `Algorithm` class against the training-algorithm contract,
    then whether it can be built with its search space's centre (`Algorithm(hparams)` needs
    nothing else): a constructor that refuses the search space's keys would fail every run."""
    problems = _check_class(module, path, _TRAINING_ALGORITHM)
    space_file = path.parent / "search_space.json"
    if problems or not space_file.is_file():
        return problems
    from harness.search_space import load_search_space  # scipy: not in a run's worker

    try:
        space = load_search_space(space_file)
    except Exception:  # noqa: BLE001 - the static check reports a broken search space
        return problems
    centre = {p.name: p.value_at(0.5) for p in space.params}
    try:
        with contextlib.redirect_stdout(sys.stderr):
            module.Algorithm(dict(centre))
    except Exception as exc:  # noqa: BLE001 - any failure of user code is a problem to report
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
        where = _at(path, frames[-1].lineno if frames else None)
        detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
        problems.append(f"{where}: Algorithm(hparams) with search_space.json's centre "
                        f"{centre} raised {detail}")
    return problems


def _check_class(module: ModuleType, path: Path, contract: _Contract) -> list[str]:
    name, base = contract.class_name, contract.base
    cls = getattr(module, name, None)
    if cls is None:
        return [f"{path}: no `{name}` defined; define `class {name}({base.__name__})` "
                f"(see {contract.template}/{SUBMISSION_FILE})"]
    line = _line_of(cls, path)
    if not inspect.isclass(cls):
        return [f"{_at(path, line)}: `{name}` must be a class, got {type(cls).__name__}"]
    if not issubclass(cls, base):
        return [f"{_at(path, line)}: `{name}` must subclass harness.api.{base.__name__} "
                f"(`from harness.api import {base.__name__}`)"]
    problems = []
    for method in contract.required:
        if getattr(cls, method) is getattr(base, method):
            problems.append(f"{_at(path, line)}: `{name}` must override `{method}` "
                            f"(see harness.api.{base.__name__}.{method})")
    for method, calls in contract.calls.items():
        func = getattr(cls, method)
        if func is getattr(base, method) or not callable(func):
            continue
        problem = _signature_problem(func, f"{name}.{method}", calls)
        if problem:
            problems.append(f"{_at(path, _line_of(func, path) or line)}: {problem}")
    return problems


def _signature_problem(func: Callable[..., Any], qualified: str,
                       calls: list[_Call]) -> str | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None  # builtins and C extensions: nothing to check
    method = qualified.rsplit(".", 1)[-1]
    for positional, keywords in calls:
        try:
            signature.bind(None, *positional, **{k: k for k in keywords})
        except TypeError as exc:
            shown = ", ".join(["self", *positional, *(f"{k}=..." for k in keywords)])
            return (f"`{qualified}{signature}` cannot be called as "
                    f"`{method}({shown})`, as the harness does: {exc}")
    return None


def _line_of(obj: Any, path: Path) -> int | None:
    code = getattr(inspect.unwrap(obj), "__code__", None) if callable(obj) else None
    if code is not None and Path(code.co_filename) == path:
        return code.co_firstlineno
    try:
        if Path(inspect.getsourcefile(obj) or "") == path:
            return inspect.getsourcelines(obj)[1]
    except (TypeError, OSError):
        pass
    return None


def _at(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or len(argv) > 2:
        print("usage: python -m harness.submission_check FOLDER [API]", file=sys.stderr)
        return 2
    api = argv[1] if len(argv) == 2 else "continual"
    problems = check_folder(Path(argv[0]), api)
    for problem in problems:
        print(json.dumps({"problem": problem}), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
