"""The data of each time-to-result workload, prepared once into files a worker can be given.

A workload's data is subsampled (a fixed seed, so every submission trains on the same examples)
and written under `<cache root>/.prepared/ttr-<hash>/`, named by a hash of what produced it and
never by the workload, since the worker's job file is readable by the submission. The parent
keeps the validation labels; only the inputs go to the worker.

Files by kind (only the keys the sandbox binds, `harness.runner.sandbox.DATA_FILE_KEYS`, are used):

- classification: `train_images`, `train_labels`, `eval_inputs` (.npy, uint8 images);
- language-model, click-through, reconstruction: `train_tasks` (an .npz of the training
  arrays) and `eval_inputs` (an .npz of the validation inputs).

Sources (`dataset`, with `dataset_options`):

- classification, reconstruction: a dataset of the cache (`harness data list`; procedural ones
  are generated), read through `train_split`/`eval_split`;
- language-model: "markov-text" (`harness.data.text_corpus.markov_text`) or "hf:PATH", a
  Hugging Face text dataset;
- click-through: "synthetic-clicks" (`harness.data.click_logs.PlantedClickModel`) or "hf:PATH",
  a Criteo-format table.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.cache import DatasetCache
from harness.runner.ttr_scoring import TTRPlan
from harness.ttr_kinds import WorkloadKind

HUB_PREFIX = "hf:"
PROCEDURAL_SOURCES = {WorkloadKind.LANGUAGE_MODEL: "markov-text",
                      WorkloadKind.CLICK_THROUGH: "synthetic-clicks"}
_HUB_COMMON = ("config", "data_files", "train_split", "eval_split")
OPTION_KEYS: dict[tuple[WorkloadKind, str], tuple[str, ...]] = {
    (WorkloadKind.LANGUAGE_MODEL, "procedural"): (
        "grammar_seed", "num_words", "successors", "train_bytes", "eval_bytes",
        "sequence_length"),
    (WorkloadKind.LANGUAGE_MODEL, "hub"): (*_HUB_COMMON, "column", "max_bytes",
                                           "sequence_length"),
    (WorkloadKind.CLICK_THROUGH, "procedural"): (
        "seed", "num_dense", "cardinalities", "train_samples", "eval_samples"),
    (WorkloadKind.CLICK_THROUGH, "hub"): (*_HUB_COMMON, "label_column", "dense_columns",
                                          "categorical_columns", "hash_buckets"),
    (WorkloadKind.CLASSIFICATION, "cache"): (),
    (WorkloadKind.RECONSTRUCTION, "cache"): (),
}


def source_of(kind: WorkloadKind, dataset: str) -> str:
    """"hub", "procedural" or "cache": where a workload's data comes from."""
    if kind in (WorkloadKind.CLASSIFICATION, WorkloadKind.RECONSTRUCTION):
        return "cache"
    return "hub" if dataset.startswith(HUB_PREFIX) else "procedural"


@dataclass(frozen=True)
class Prepared:
    """A prepared workload: the worker's file paths and data description, the parent's plan."""

    files: dict[str, str]
    data: dict[str, Any]
    plan: TTRPlan
    fingerprints: dict[str, str]


def whole_budget(prepared: Prepared) -> Prepared:
    """`prepared` with runs that go on to the max runtime after meeting the target (for
    calibration: its target is the best metric reached within the whole budget)."""
    return replace(prepared, plan=replace(prepared.plan, stop_at_target=False))


def prepare(workload: Any, cache: DatasetCache) -> Prepared:
    """Prepare `workload` (a `harness.ttr_suite.Workload`); cached, so cheap after the first."""
    kind = workload.kind
    if kind in (WorkloadKind.CLASSIFICATION, WorkloadKind.RECONSTRUCTION):
        return _prepare_images(workload, cache)
    if kind is WorkloadKind.LANGUAGE_MODEL:
        return _prepare_text(workload, cache)
    return _prepare_clicks(workload, cache)


def _plan(workload: Any, eval_labels: np.ndarray) -> TTRPlan:
    return TTRPlan(eval_labels=eval_labels, target=workload.target,
                   max_runtime_s=workload.max_runtime_s, kind=workload.kind,
                   metric=workload.metric)


def _materialize(cache: DatasetCache, key: str,
                 write: Callable[[Path], None]) -> Path:
    """The folder for `key`, written by `write(tmp)` and renamed into place atomically."""
    folder = cache.root / ".prepared" / f"ttr-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    if not (folder / "done").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        write(tmp)
        (tmp / "done").touch()
        try:
            tmp.rename(folder)
        except OSError:  # prepared concurrently by another process
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _subset(size: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or limit >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=limit, replace=False))


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return h.hexdigest()[:16]


def _prepare_images(workload: Any, cache: DatasetCache) -> Prepared:
    dataset = cache.get(workload.dataset)
    rng = np.random.default_rng(0)
    labels = dataset.labels(workload.train_split)
    train = _subset(len(labels), workload.max_train_samples, rng)
    eval_labels_all = dataset.labels(workload.eval_split)
    held = _subset(len(eval_labels_all), workload.max_eval_samples, rng)
    key = (f"{dataset.fingerprint}|{workload.train_split}|{workload.eval_split}|"
           f"{train.tobytes().hex()}|{held.tobytes().hex()}")

    def write(tmp: Path) -> None:
        np.save(tmp / "train_images.npy", dataset.images(workload.train_split)[train])
        np.save(tmp / "train_labels.npy", labels[train])
        np.save(tmp / "eval_inputs.npy", dataset.images(workload.eval_split)[held])

    folder = _materialize(cache, key, write)
    data = {"input_shape": list(dataset.image_shape), "mean": list(dataset.mean),
            "std": list(dataset.std), "num_outputs": len(dataset.class_names)}
    if workload.kind is WorkloadKind.RECONSTRUCTION:  # labels unused: no file, no plan labels
        files = {"train_tasks": str(folder / "train_images.npy"),
                 "eval_inputs": str(folder / "eval_inputs.npy")}
        eval_labels = np.zeros(len(held), dtype=np.int64)
    else:
        files = {name: str(folder / f"{name}.npy")
                 for name in ("train_images", "train_labels", "eval_inputs")}
        eval_labels = eval_labels_all[held]
    fingerprints = {f"{dataset.name}/{s}": dataset.split_fingerprints[s]
                    for s in (workload.train_split, workload.eval_split)}
    return Prepared(files, data, _plan(workload, eval_labels), fingerprints)


def _source_key(workload: Any) -> str:
    """What determines the produced arrays: source, options and (local) files' sizes/times."""
    options = dict(workload.dataset_options)
    stamps = []
    for paths in (options.get("data_files") or {}).values():
        for path in [paths] if isinstance(paths, str) else paths:
            stat = Path(path).stat() if Path(path).exists() else None
            stamps.append([path, stat.st_size if stat else None,
                           stat.st_mtime_ns if stat else None])
    return json.dumps([workload.kind.value, workload.dataset, options, stamps,
                       workload.max_train_samples, workload.max_eval_samples,
                       _generator_digest(workload)], sort_keys=True)


def _generator_digest(workload: Any) -> str | None:
    """For project-generated text and click logs, the generating code's digest: editing it
    changes the data, so it must change the folder (`harness.data.procedural.code_digest`)."""
    if workload.dataset != PROCEDURAL_SOURCES.get(workload.kind):
        return None
    from harness.data import click_logs, text_corpus
    from harness.data.procedural import code_digest

    return code_digest(text_corpus if workload.kind is WorkloadKind.LANGUAGE_MODEL
                       else click_logs)


def _hub_args(workload: Any, cache: DatasetCache) -> tuple[str, dict[str, Any], str, str]:
    opts = dict(workload.dataset_options)
    common = {"config": opts.get("config"), "data_files": opts.get("data_files"),
              "cache_dir": cache.root / ".hf"}
    return (workload.dataset[len(HUB_PREFIX):], common, opts.get("train_split", "train"),
            opts.get("eval_split", "validation"))


def _prepare_text(workload: Any, cache: DatasetCache) -> Prepared:
    from harness.data import text_corpus

    opts = dict(workload.dataset_options)
    length = int(opts.get("sequence_length", 64))

    def corpora() -> tuple[bytes, bytes]:
        if source_of(workload.kind, workload.dataset) == "procedural":
            grammar = dict(num_words=int(opts.get("num_words", 48)),
                           successors=int(opts.get("successors", 3)))
            seed = int(opts.get("grammar_seed", 0))
            return (text_corpus.markov_text(seed, 1, int(opts.get("train_bytes", 200_000)),
                                            **grammar),
                    text_corpus.markov_text(seed, 2, int(opts.get("eval_bytes", 20_000)),
                                            **grammar))
        path, common, train_split, eval_split = _hub_args(workload, cache)
        column, limit = opts.get("column", "text"), opts.get("max_bytes")
        return tuple(text_corpus.hub_text(path, split, column=column, max_bytes=limit, **common)
                     for split in (train_split, eval_split))

    def write(tmp: Path) -> None:
        train_text, eval_text = corpora()
        vocab = text_corpus.Vocabulary.of(train_text)
        rng = np.random.default_rng(0)
        train = text_corpus.sequences(vocab.encode(train_text), length)
        held = text_corpus.sequences(vocab.encode(eval_text), length)
        train = train[_subset(len(train), workload.max_train_samples, rng)]
        held = held[_subset(len(held), workload.max_eval_samples, rng)]
        np.savez(tmp / "train.npz", tokens=train)
        np.savez(tmp / "eval_inputs.npz", tokens=held)
        _write_meta(tmp, {"vocab_size": vocab.size, "sequence_length": length},
                    {"train": train}, {"tokens": held})

    folder = _materialize(cache, _source_key(workload), write)
    with np.load(folder / "eval_inputs.npz") as held:
        count = len(held["tokens"])
    # No labels to withhold (the targets are the text itself): one placeholder per sequence.
    return _prepared_arrays(workload, folder, np.zeros(count, dtype=np.int64))


def _prepare_clicks(workload: Any, cache: DatasetCache) -> Prepared:
    from harness.data import click_logs

    opts = dict(workload.dataset_options)

    def logs():
        if source_of(workload.kind, workload.dataset) == "procedural":
            model = click_logs.PlantedClickModel(
                int(opts.get("seed", 0)), num_dense=int(opts.get("num_dense", 4)),
                cardinalities=tuple(opts.get("cardinalities", (40, 30, 20, 10))))
            return (model.sample(1, int(opts.get("train_samples", 20_000))),
                    model.sample(2, int(opts.get("eval_samples", 4_000))))
        path, common, train_split, eval_split = _hub_args(workload, cache)
        columns = {k: opts[k] for k in ("label_column", "dense_columns", "categorical_columns",
                                        "hash_buckets") if k in opts}
        return tuple(click_logs.criteo_logs(path, split, **common, **columns)
                     for split in (train_split, eval_split))

    def write(tmp: Path) -> None:
        train, held = logs()
        rng = np.random.default_rng(0)
        t = _subset(len(train.clicks), workload.max_train_samples, rng)
        e = _subset(len(held.clicks), workload.max_eval_samples, rng)
        np.savez(tmp / "train.npz", dense=train.dense[t], categorical=train.categorical[t],
                 clicks=train.clicks[t])
        np.savez(tmp / "eval_inputs.npz", dense=held.dense[e], categorical=held.categorical[e])
        np.save(tmp / "eval_labels.npy", held.clicks[e])  # the parent's only
        _write_meta(tmp, {"num_dense": int(train.dense.shape[1]),
                          "cardinalities": list(train.cardinalities)},
                    {"dense": train.dense[t], "categorical": train.categorical[t],
                     "clicks": train.clicks[t]},
                    {"dense": held.dense[e], "categorical": held.categorical[e],
                     "clicks": held.clicks[e]})

    folder = _materialize(cache, _source_key(workload), write)
    return _prepared_arrays(workload, folder, np.load(folder / "eval_labels.npy").astype(np.int64))


def _write_meta(tmp: Path, data: dict[str, Any], train: dict[str, np.ndarray],
                held: dict[str, np.ndarray]) -> None:
    meta = {"data": data, "fingerprints": {"train": _digest(train), "eval": _digest(held)}}
    (tmp / "meta.json").write_text(json.dumps(meta))


def _prepared_arrays(workload: Any, folder: Path, eval_labels: np.ndarray) -> Prepared:
    meta = json.loads((folder / "meta.json").read_text())
    files = {"train_tasks": str(folder / "train.npz"),
             "eval_inputs": str(folder / "eval_inputs.npz")}
    fingerprints = {f"{workload.dataset}/{side}": value
                    for side, value in meta["fingerprints"].items()}
    return Prepared(files, meta["data"], _plan(workload, eval_labels), fingerprints)
