"""A tiny results store with known answers, written through the Store API.

Suite "split-mnist", newest version "2", scenario "class" (5 seeds each):

- ``replay``       clearly better than ``finetune``; the best continual method (mean 0.800);
- ``replay-twin``  same distribution as ``replay`` (mean 0.798): tied with the best;
- ``finetune``     clearly worse (mean 0.5025 over 4 seeds);
- ``joint``        ``continual = false`` upper bound with the highest mean (0.950), and one
  failed seed (5).

Scenario "task": ``replay`` (5 seeds) and ``finetune`` with a single seed, which Welch's test
cannot compare ("cannot be tested with this many seeds").

Noise that must not show: an older suite version "1" where ``finetune`` scores 0.99, and an older
content hash of ``replay`` (stale) scoring 0.10.

Class scenario extras, all hand-checkable:

- legacy test-set tuning (phases ``legacy-tune`` / ``legacy``) of the three continual methods,
  where ``finetune`` jumps to 0.97 and would be "best" if legacy runs leaked; ``joint`` has none.
  Legacy runs also record 1000× the compute, so a leak into the compute table would show;
- accuracy matrices ``[[0.1, 0.1], [p, 0.1], [s - 0.02, s + 0.02]]`` (s = the seed's score,
  p = the method's plasticity), so intransigence against joint's mean matrix is
  ((0.92 - p) + (0.95 - s)) / 2 per seed;
- continual-evaluation traces (2 tasks, evaluations at steps 5, 10 and the end of each task)
  with min-ACC and WC-ACC computed from them;
- compute metrics (`COMPUTE`) on the evaluation seeds and 1e11 training FLOPs per tuning trial.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.metrics.continual import minimum_accuracy, worst_case_accuracy
from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec
from harness.store import Decision, Store


def _import_the_real_leaderboard_package() -> None:
    """Make `import leaderboard` find the site builder, not this test folder.

    With pytest's default "prepend" import mode, `tests/conftest.py` puts `tests/` on sys.path,
    where `tests/leaderboard/` (no `__init__.py`) looks like a namespace package `leaderboard`.
    The editable install's finder runs after the path finder, so it never gets asked. A
    regular package anywhere on sys.path wins over namespace portions, so the repository root
    is appended. (Project-level fix: `pythonpath = ["."]` or `--import-mode=importlib`.)
    """
    repo = str(Path(__file__).resolve().parents[2])
    if repo not in sys.path:
        sys.path.append(repo)
    module = sys.modules.get("leaderboard")
    if module is not None and getattr(module, "__file__", None) is None:
        del sys.modules["leaderboard"]


_import_the_real_leaderboard_package()

SUITE = "split-mnist"
VERSION = "2"
HARDWARE = {"cpu_model": "Test CPU 3000", "gpu_model": "", "gpu_count": 0,
            "torch_version": "2.13.0"}
CLASS_SCORES = {
    "replay": [0.80, 0.81, 0.79, 0.82, 0.78],
    "replay-twin": [0.795, 0.805, 0.785, 0.815, 0.79],
    "finetune": [0.50, 0.52, 0.48, 0.51],
    "joint": [0.95, 0.96, 0.94, 0.955, 0.945],
}
CHOSEN = {
    "replay": {"lr": 0.01, "memory": 200},
    "replay-twin": {"lr": 0.02, "memory": 200},
    "finetune": {"lr": 0.1},
    "joint": {"lr": 0.05},
}
HASHES = {name: f"{name}-hash-2" for name in CHOSEN}
LEGACY_SCORES = {
    "replay": [0.84, 0.85, 0.83, 0.86, 0.82],
    "replay-twin": [0.80, 0.81, 0.79, 0.82, 0.78],
    "finetune": [0.97, 0.98, 0.96, 0.99, 0.95],
}
LEGACY_CHOSEN = {
    "replay": {"lr": 0.03, "memory": 200},
    "replay-twin": {"lr": 0.02, "memory": 500},
    "finetune": {"lr": 0.3},
}
# accuracy on task 0 right after learning it (the matrix's acc[1, 0])
PLASTICITY = {"replay": 0.9, "replay-twin": 0.9, "finetune": 0.96, "joint": 0.92}
# accuracy on task 0 at evaluations 1, 2, 4, 5 (steps 5 and 10 of each task); evaluation 3 is
# the end of task 0 (= plasticity) and evaluation 6 the end of the stream (= s - 0.02)
TASK0_TRACE = {"replay": (0.6, 0.85, 0.5, 0.7), "replay-twin": (0.6, 0.85, 0.55, 0.7),
               "finetune": (0.6, 0.9, 0.2, 0.3), "joint": (0.6, 0.9, 0.9, 0.92)}
TRACE_TASKS, TRACE_STEPS = [0, 0, 0, 1, 1, 1], [5, 10, -1, 5, 10, -1]
# method -> (train FLOPs at seed 0, extra per seed, train time s, peak RSS MiB, state bytes)
COMPUTE = {
    "replay": (2.4e12, 0.05e12, 120.0, 1536.0, 204800.0),
    "replay-twin": (2.4e12, 0.05e12, 118.0, 1530.0, 204800.0),
    "finetune": (4e11, 0.0, 45.0, 512.0, 3.0 * 2**20),
    "joint": (1e13, 0.0, 600.0, 2048.0, 0.0),
}
TUNE_FLOPS = 1e11
STALE_REPLAY_HASH = "replay-hash-1"
TRIAL_WALL_TIME_S = 30.0
NUM_TRIALS = 3


def _metadata(name: str, continual: bool = True) -> dict:
    return {
        "name": name, "description": f"{name} baseline", "authors": ["A. Author"],
        "url": "https://example.org/paper", "license": "MIT", "api": "continual",
        "suites": [SUITE], "ruleset": "external", "continual": continual,
    }


def _matrix(name: str, final: float) -> list[list[float]]:
    return [[0.1, 0.1], [PLASTICITY[name], 0.1], [round(final - 0.02, 6), round(final + 0.02, 6)]]


def _trace(name: str, final: float) -> dict:
    early = TASK0_TRACE[name]
    task0 = [early[0], early[1], PLASTICITY[name], early[2], early[3], round(final - 0.02, 6)]
    task1 = [0.1, 0.1, 0.1, 0.4, 0.7, round(final + 0.02, 6)]
    return {"task": TRACE_TASKS, "step": TRACE_STEPS,
            "acc": [[a, b] for a, b in zip(task0, task1, strict=True)]}


def _evaluation_outputs(name: str, phase: Phase, seed: int, score: float, scenario: str):
    """Metrics and curves of an evaluation seed (fair or legacy)."""
    metrics = {"final_avg_acc": score, "avg_incremental_acc": score + 0.02, "bwt": -0.1,
               "forgetting": 0.1}
    matrix = _matrix(name, score)
    curves = {"accuracy_matrix": matrix}
    flops, per_seed, time_s, rss_mb, state = COMPUTE[name]
    scale = 1000.0 if phase is Phase.LEGACY else 1.0  # a leak into the compute table shows
    metrics.update(train_flops=scale * (flops + seed * per_seed), train_time_s=scale * time_s,
                   peak_rss_mb=scale * rss_mb, state_bytes=scale * state)
    if scenario == "class":
        trace = _trace(name, score)
        curves["continual_eval"] = trace
        metrics["min_acc"] = minimum_accuracy(trace["acc"], trace["task"])
        metrics["wc_acc"] = worst_case_accuracy(trace["acc"], trace["task"], matrix[-1])
    return metrics, curves


def _run(name: str, digest: str, phase: Phase, seed: int, score: float | None, *,
         scenario: str = "class", version: str = VERSION, trial: int = -1,
         hparams: dict | None = None, finished_at: str = "2025-03-01T12:00:00+00:00",
         reason: str = "") -> RunResult:
    spec = RunSpec(
        suite=SUITE, suite_version=version, scenario=scenario, phase=phase, submission=name,
        submission_hash=digest, hparams=hparams if hparams is not None else CHOSEN[name],
        seed=seed, trial=trial,
    )
    if score is None:
        return RunResult(spec=spec, status=RunStatus.FAILED, reason=reason, wall_time_s=5.0,
                         finished_at=finished_at, hardware=HARDWARE, harness_version="0.1.0")
    metrics, curves = {"final_avg_acc": score, "train_flops": TUNE_FLOPS}, {}
    if phase in (Phase.EVALUATE, Phase.LEGACY):
        metrics, curves = _evaluation_outputs(name, phase, seed, score, scenario)
    return RunResult(spec=spec, status=RunStatus.OK, metrics=metrics, curves=curves,
                     wall_time_s=TRIAL_WALL_TIME_S if phase.is_trial else 60.0,
                     finished_at=finished_at, hardware=HARDWARE, harness_version="0.1.0")


def _write_method(store: Store, name: str, scores: list[float], scenario: str, *,
                  legacy: bool = False) -> None:
    """Trials, decision and seeds of one protocol: fair, or legacy test-set tuning."""
    digest = HASHES[name]
    chosen = (LEGACY_CHOSEN if legacy else CHOSEN)[name]
    tune_phase, eval_phase = ((Phase.LEGACY_TUNE, Phase.LEGACY) if legacy
                              else (Phase.TUNE, Phase.EVALUATE))
    trial_keys = []
    for trial in range(NUM_TRIALS):
        hparams = chosen if trial == 1 else {**chosen, "lr": 0.001 * (trial + 1)}
        run = _run(name, digest, tune_phase, 0, 0.6 + 0.05 * (trial == 1), scenario=scenario,
                   trial=trial, hparams=hparams)
        store.write_run(run)
        trial_keys.append(run.spec.key)
    store.write_decision(Decision(
        suite=SUITE, suite_version=VERSION, scenario=scenario, submission=name,
        submission_hash=digest, chosen_hparams=chosen, chosen_run_key=trial_keys[1],
        metric_name="final_avg_acc", metric_value=0.65, trial_keys=tuple(trial_keys),
        phase=tune_phase.value,
    ))
    for seed, score in enumerate(scores):
        store.write_run(_run(name, digest, eval_phase, seed, score, scenario=scenario,
                             hparams=chosen))


def write_example_store(path: Path) -> Path:
    with Store(path) as store:
        for name in CHOSEN:
            store.write_submission(name, HASHES[name], _metadata(name, name != "joint"))
        store.write_submission("replay", STALE_REPLAY_HASH, _metadata("replay"))
        for name, scores in CLASS_SCORES.items():
            _write_method(store, name, scores, "class")
        for name, scores in LEGACY_SCORES.items():
            _write_method(store, name, scores, "class", legacy=True)
        store.write_run(_run("joint", HASHES["joint"], Phase.EVALUATE, 5, None,
                             reason="loss became NaN at step 12"))
        _write_method(store, "replay", CLASS_SCORES["replay"], "task")
        _write_method(store, "finetune", [0.7], "task")
        for seed in range(3):  # noise that must not show
            store.write_run(_run("finetune", HASHES["finetune"], Phase.EVALUATE, seed, 0.99,
                                 version="1"))
            store.write_run(_run("replay", STALE_REPLAY_HASH, Phase.EVALUATE, seed, 0.10,
                                 finished_at="2024-01-01T00:00:00+00:00"))
    return path


@pytest.fixture(scope="session")
def parse_svg():
    """A function that reads a figure (a `leaderboard.svg.Canvas`, or SVG text) back as an
    ElementTree root, tags without their namespace (``root.iter("circle")``)."""
    import xml.etree.ElementTree as ET

    def parse(figure) -> ET.Element:
        text = figure if isinstance(figure, str) else figure.svg(title="t", description="d")
        text = text.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
        return ET.fromstring(text.encode("utf-8"))

    return parse


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _tick_value(text: str) -> tuple[float, bool] | None:
    """A tick label's value and whether it is a power-of-ten label ("10⁶", "2×10⁶"); None
    for a label that is not a number (a category)."""
    mantissa, _, power = text.rpartition("×") if "×" in text else ("1", "", text)
    if power.startswith("10") and len(power) > 2:
        return float(mantissa) * 10.0 ** int(power[2:].translate(_SUPERSCRIPTS)), True
    try:
        return float(text), False
    except ValueError:
        return None


def _axis_reader(ticks: list[tuple[float, str]]):
    """pixel -> value of an axis from its (pixel, label) ticks: linear, logarithmic (power-of-
    ten labels) or, for labels that are not numbers, the label of the tick at that pixel.
    Every tick must sit where the first and last put it, so a mislabelled axis fails. No
    ticks: no axis (None)."""
    if not ticks:
        return None
    values = [_tick_value(text) for _, text in ticks]
    if any(v is None for v in values):
        by_pixel = {round(pixel, 1): text for pixel, text in ticks}
        return lambda pixel: by_pixel[round(pixel, 1)]
    log = any(is_power for _, is_power in values)
    numbers = [math.log10(v) if log else v for v, _ in values]
    (p0, v0), (p1, v1) = (ticks[0][0], numbers[0]), (ticks[-1][0], numbers[-1])

    def position(pixel: float) -> float:  # the value, or its logarithm on a log axis
        return v0 + (pixel - p0) * (v1 - v0) / (p1 - p0)

    pixel_size = abs((v1 - v0) / (p1 - p0))  # coordinates are written to 0.01 px
    for (pixel, _), number in zip(ticks, numbers, strict=True):
        assert position(pixel) == pytest.approx(number, abs=pixel_size / 50), "misplaced tick"
    return lambda pixel: 10.0 ** position(pixel) if log else position(pixel)


@pytest.fixture(scope="session")
def read_axes():
    """A function that reads the axes of an x–y figure (a root from `parse_svg`) back from
    their tick marks and tick labels, as the reader does: it returns (x, y), each a function
    from a pixel position to the value that the axis shows there (None: no such axis)."""

    def read(root):
        marks = [e for e in root.iter() if e.get("class") in ("tick-mark", "tick")]
        pairs = list(zip(marks[0::2], marks[1::2], strict=True))
        assert all(m.get("class") == "tick-mark" and t.get("class") == "tick" for m, t in pairs)
        x_ticks = [(float(m.get("x1")), t.text) for m, t in pairs if m.get("x1") == m.get("x2")]
        y_ticks = [(float(m.get("y1")), t.text) for m, t in pairs if m.get("y1") == m.get("y2")]
        return _axis_reader(x_ticks), _axis_reader(y_ticks)

    return read


@pytest.fixture(scope="session")
def modules_imported_by_build(tmp_path_factory: pytest.TempPathFactory):
    """A function that builds the site of a store in a fresh interpreter and returns the
    top-level modules that the build imported."""
    import json
    import subprocess

    def build(store: Path) -> set[str]:
        out = tmp_path_factory.mktemp("fresh-build") / "site"
        code = ("import json, sys\n"
                "from leaderboard.build import build_site\n"
                f"build_site({str(store)!r}, {str(out)!r})\n"
                "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).resolve().parents[2])
        return set(json.loads(done.stdout.splitlines()[-1]))

    return build


@pytest.fixture(scope="session")
def example() -> SimpleNamespace:
    """The example store's known answers (fixtures rather than imports, so the tests work
    under any pytest import mode)."""
    return SimpleNamespace(
        suite=SUITE, version=VERSION, class_scores=CLASS_SCORES, chosen=CHOSEN, hashes=HASHES,
        stale_replay_hash=STALE_REPLAY_HASH, num_trials=NUM_TRIALS,
        trial_wall_time_s=TRIAL_WALL_TIME_S, legacy_scores=LEGACY_SCORES,
        legacy_chosen=LEGACY_CHOSEN, plasticity=PLASTICITY, task0_trace=TASK0_TRACE,
        compute=COMPUTE, tune_flops=TUNE_FLOPS,
    )


@pytest.fixture(scope="session")
def example_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_example_store(tmp_path_factory.mktemp("store") / "harness.db")


@pytest.fixture(scope="session")
def example_site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leaderboard.build import build_site

    index = build_site(example_store, tmp_path_factory.mktemp("out") / "site", release="r-test")
    return index.parent


# --- a second store for comparisons across benchmarks -----------------------------------------

CROSS_SUITE = "toy"
CROSS_SCENARIOS = tuple(f"b{i:02d}" for i in range(1, 11))
# method -> offset from each benchmark's base score; "strong-twin" is "strong" registered again
CROSS_OFFSETS = {"strong": 0.10, "strong-twin": 0.10, "mid": 0.0, "weak": -0.10}
CROSS_PARTIAL = "partial"  # best wherever it ran, but it ran only half of the benchmarks
CROSS_REFERENCE = "oracle"  # not continual


def write_cross_store(path: Path) -> Path:
    """Suite "toy" (10 scenarios, 3 seeds per cell): strong ≈ strong-twin > mid > weak on every
    benchmark; "partial" covers 5 of 10; "oracle" is a non-continual reference."""
    import numpy as np

    rng = np.random.default_rng(12345)
    methods = {**CROSS_OFFSETS, CROSS_PARTIAL: 0.30, CROSS_REFERENCE: 0.35}
    with Store(path) as store:
        for name in methods:
            store.write_submission(name, f"{name}-hash", {
                "name": name, "description": f"{name} (cross-benchmark fixture)",
                "continual": name != CROSS_REFERENCE,
            })
        for index, scenario in enumerate(CROSS_SCENARIOS):
            base = 0.4 + 0.03 * index
            for name, offset in methods.items():
                if name == CROSS_PARTIAL and index >= 5:
                    continue
                for seed in range(3):
                    spec = RunSpec(
                        suite=CROSS_SUITE, suite_version="1", scenario=scenario,
                        phase=Phase.EVALUATE, submission=name, submission_hash=f"{name}-hash",
                        hparams={"lr": 0.1}, seed=seed, trial=-1,
                    )
                    score = round(base + offset + float(rng.normal(0.0, 0.01)), 6)
                    store.write_run(RunResult(
                        spec=spec, status=RunStatus.OK, metrics={"final_avg_acc": score},
                        wall_time_s=1.0, finished_at="2025-03-01T12:00:00+00:00",
                        hardware=HARDWARE, harness_version="0.1.0",
                    ))
    return path


@pytest.fixture(scope="session")
def cross_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cross_store(tmp_path_factory.mktemp("cross") / "harness.db")


@pytest.fixture(scope="session")
def cross_site(cross_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leaderboard.build import build_site

    return build_site(cross_store, tmp_path_factory.mktemp("cross-out") / "site").parent


# --- a store in two states, for releases and their changelog ----------------------------------

RELEASE_SUITE = "rel"
TTR_SUITE = "ttr-tiny"
# v1: alpha > beta (tied) > gamma. v2 adds newer hashes: beta's new seeds pass alpha within
# noise (a rank swap that is not significant), gamma improves significantly but keeps rank 3,
# delta is new; and a time-to-result suite appears.
RELEASE_V1 = {
    "alpha": [0.80, 0.81, 0.79, 0.82, 0.78],
    "beta": [0.795, 0.805, 0.785, 0.815, 0.79],
    "gamma": [0.50, 0.52, 0.48, 0.51, 0.49],
}
RELEASE_V2 = {
    "beta": [0.802, 0.812, 0.792, 0.822, 0.80],
    "gamma": [0.65, 0.66, 0.64, 0.67, 0.63],
    "delta": [0.60, 0.61, 0.59, 0.62, 0.58],
}
# time-to-result: method -> workload -> per-study (trial 0, trial 1) times to target (s)
TTR_TIMES = {
    "nadamw": {"w-cnn": [(4.0, 5.0), (4.4, 6.0)], "w-mlp": [(2.0, 3.0), (2.2, 2.5)]},
    "fast-opt": {"w-cnn": [(2.0, 2.5), (2.4, 2.1)], "w-mlp": [(1.0, 1.5), (1.1, 9.0)]},
}


def _release_run(suite: str, version: str, scenario: str, name: str, digest: str, seed: int,
                 metrics: dict, curves: dict | None = None, *, study: int = 0, trial: int = -1,
                 finished_at: str) -> RunResult:
    spec = RunSpec(suite=suite, suite_version=version, scenario=scenario, phase=Phase.EVALUATE,
                   submission=name, submission_hash=digest, hparams={"lr": 0.1}, seed=seed,
                   trial=trial, study=study)
    return RunResult(spec=spec, status=RunStatus.OK, metrics=metrics, curves=curves or {},
                     wall_time_s=1.0, finished_at=finished_at, hardware=HARDWARE,
                     harness_version="0.1.0")


def _ttr_trace(time_s: float) -> dict:
    """Accuracy rising linearly to the target 0.8 at `time_s`, evaluated every 0.5 s."""
    times = [round(0.5 * k, 6) for k in range(int(time_s / 0.5) + 2)]
    return {"time_s": times, "step": [10 * k for k in range(len(times))],
            "accuracy": [round(min(0.9, 0.8 * t / time_s), 6) for t in times]}


def write_release_store(path: Path, state: int) -> Path:
    """The release fixture store in `state` 1 (v1) or 2 (v1 plus the v2 changes)."""
    scores = RELEASE_V1 if state == 1 else RELEASE_V2
    stamp = f"2025-0{state}-01T12:00:00+00:00"
    with Store(path) as store:
        for name, values in scores.items():
            digest = f"{name}-hash-{state}"
            store.write_submission(name, digest, {"name": name, "description": name,
                                                  "api": "continual", "continual": True})
            for seed, value in enumerate(values):
                store.write_run(_release_run(RELEASE_SUITE, "1", "class", name, digest, seed,
                                             {"final_avg_acc": value}, finished_at=stamp))
        if state == 1:
            return path
        for name, workloads in TTR_TIMES.items():
            store.write_submission(name, f"{name}-hash", {
                "name": name, "description": name, "api": "training-algorithm"})
            for workload, studies in workloads.items():
                for study, trials in enumerate(studies):
                    for trial, time_s in enumerate(trials):
                        store.write_run(_release_run(
                            TTR_SUITE, "1", workload, name, f"{name}-hash",
                            1000 * study + trial, {"time_to_target_s": time_s},
                            {"eval_trace": _ttr_trace(time_s)}, study=study, trial=trial,
                            finished_at=stamp))
    return path


@pytest.fixture(scope="session")
def release_tree(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Releases v1 and v2 of the release store built into one tree; `latest_after_v2` maps
    each file of latest/ right after v2 to its bytes, `v1_files` the same for releases/v1
    before v2 was built; then latest/ is refreshed by an unreleased build."""
    from leaderboard.releases import build_latest, build_release

    root = tmp_path_factory.mktemp("releases")
    store, out = root / "harness.db", root / "site"

    def snapshot(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    build_release(write_release_store(store, 1), out, "v1")
    v1_files = snapshot(out / "releases" / "v1")
    build_release(write_release_store(store, 2), out, "v2")
    latest_after_v2 = snapshot(out / "latest")
    build_latest(store, out)
    return SimpleNamespace(root=out, store=store, v1_files=v1_files,
                           latest_after_v2=latest_after_v2, snapshot=snapshot)
