"""The import check of a submission folder, run in a fresh interpreter.

    python -m harness.submission_check FOLDER [API]

imports `FOLDER/submission.py` as an isolated module and checks it against `harness.api`: for
the continual API, a class `Learner` subclassing `ContinualLearner` that overrides `learn` and
`predict` with signatures that accept the documented parameters. Each problem is printed on
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
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.api import ContinualLearner

__all__ = ["check_continual", "import_submission_module", "main"]

SUBMISSION_FILE = "submission.py"

# Method name -> the calls the harness makes (positional args after self, keyword args).
_CALLS: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "__init__": [(("ctx", "hparams"), ())],
    "learn": [(("task", "data"), ())],
    "predict": [(("x",), ()), (("x", "task"), ()), (("x",), ("task",))],
    "end_of_task": [(("task",), ())],
    "state_size_bytes": [((), ())],
}
_REQUIRED = ("learn", "predict")


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
    try:
        with contextlib.redirect_stdout(sys.stderr):
            module = import_submission_module(folder)
    except BaseException as exc:  # noqa: BLE001 - any failure of user code is a problem to report
        return [_import_failure(path, exc)]
    if api == "continual":
        return check_continual(module, path)
    return []  # the training-algorithm API has no class contract in harness.api yet


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
    learner = getattr(module, "Learner", None)
    if learner is None:
        return [f"{path}: no `Learner` defined; define `class Learner(ContinualLearner)` "
                "(see submissions/_template/submission.py)"]
    line = _line_of(learner, path)
    if not inspect.isclass(learner):
        return [f"{_at(path, line)}: `Learner` must be a class, got {type(learner).__name__}"]
    if not issubclass(learner, ContinualLearner):
        return [f"{_at(path, line)}: `Learner` must subclass harness.api.ContinualLearner "
                "(`from harness.api import ContinualLearner`)"]
    problems = []
    for method in _REQUIRED:
        if getattr(learner, method) is getattr(ContinualLearner, method):
            problems.append(f"{_at(path, line)}: `Learner` must override `{method}` "
                            f"(see harness.api.ContinualLearner.{method})")
    for method, calls in _CALLS.items():
        func = getattr(learner, method)
        if func is getattr(ContinualLearner, method) or not callable(func):
            continue
        problem = _signature_problem(func, method, calls)
        if problem:
            problems.append(f"{_at(path, _line_of(func, path) or line)}: {problem}")
    return problems


def _signature_problem(func: Callable[..., Any], method: str,
                       calls: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> str | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None  # builtins and C extensions: nothing to check
    for positional, keywords in calls:
        try:
            signature.bind(None, *positional, **{k: k for k in keywords})
        except TypeError as exc:
            shown = ", ".join(["self", *positional, *(f"{k}=..." for k in keywords)])
            return (f"`Learner.{method}{signature}` cannot be called as "
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
