"""`harness data`: import real datasets into the cache and list what the cache holds.

    harness data import NAME PATH     # offline files: PATH is a file or the folder holding them
    harness data import NAME --hub    # download from the Hugging Face Hub
    harness data list

`import` prints one line: the splits and their sizes, the image shape, the fingerprint and the
cache folder (or that this version was imported before; importing is idempotent). `list` prints
one row per cached dataset (name, splits and sizes, image shape, fingerprint, folder, size on
disk), then the importable datasets that are not in the cache yet. The cache root is
`--cache-dir`, else `$HARNESS_CACHE_DIR`, else `~/.cache/harness/data`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from harness.data.cache import CachedDataset, DatasetCache, default_cache_root
from harness.data.sources import (
    KNOWN_DATASETS,
    get_known,
    import_known,
    import_known_from_hub,
)
from harness.errors import DatasetMissingError, UserError

FINGERPRINT_CHARS = 12


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="import real datasets into the cache; list cached datasets",
        description="Import real datasets (offline files or the Hugging Face Hub) into the "
        f"uint8 dataset cache, and list the cache. Importable: {', '.join(KNOWN_DATASETS)}.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="convert a dataset's files (or its Hub copy)")
    imp.add_argument("name", metavar="NAME", help=f"one of: {', '.join(KNOWN_DATASETS)}")
    imp.add_argument("path", nargs="?", type=Path, metavar="PATH",
                     help="the dataset's file, or the folder holding its files")
    imp.add_argument("--hub", action="store_true",
                     help="download from the Hugging Face Hub instead of reading PATH")
    actions.add_parser("list", help="list the datasets in the cache")
    verify = actions.add_parser("verify", help="re-hash cached datasets against their "
                                "fingerprints (finds files changed or damaged on disk)")
    verify.add_argument("names", nargs="*", metavar="NAME",
                        help="dataset names (default: every cached dataset)")
    for action in actions.choices.values():
        action.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                            help="cache root (default: $HARNESS_CACHE_DIR or "
                            "~/.cache/harness/data)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    root = args.cache_dir or default_cache_root()
    if args.action == "import":
        return import_dataset(args.name, args.path, hub=args.hub, root=root)
    if args.action == "verify":
        return verify_datasets(root, args.names)
    return list_datasets(root)


def verify_datasets(root: Path, names: list[str], out: TextIO | None = None) -> int:
    """Re-hash each cached dataset (all, or those named); 1 if any is damaged, else 0."""
    out = out or sys.stdout
    cache = DatasetCache(root)
    damaged = [(folder, reason) for folder, reason in cache.damaged()
               if not names or any(folder.name.startswith(f"{n}-") for n in names)]
    datasets = [d for d in cache.list() if not names or d.name in names]
    unknown = sorted(set(names) - {d.name for d in datasets}
                     - {f.name.rsplit("-", 1)[0] for f, _ in damaged})
    if unknown:
        raise UserError(f"not in the cache at {cache.root}: {', '.join(unknown)} "
                        "(`harness data list` shows what is)")
    for dataset in datasets:
        try:
            dataset.verify()
        except DatasetMissingError as exc:
            damaged.append((dataset.root, str(exc)))
        else:
            print(f"{dataset.root.name}: ok", file=out)
    for folder, reason in damaged:
        print(f"{folder.name}: DAMAGED: {reason}", file=out)
    return 1 if damaged else 0


def import_dataset(name: str, path: Path | None, hub: bool = False, root: Path | None = None,
                   out: TextIO | None = None) -> int:
    """Import `name` from `path` (or the Hub) and print one line about the result; 0."""
    out = out or sys.stdout
    root = Path(root or default_cache_root())
    known = get_known(name)
    if hub == (path is not None):
        raise UserError(f"give either PATH ({known.path_hint}) or --hub: "
                        f"{known.import_command}"
                        + (f" or {known.hub_command}" if known.hub_command else ""))
    before = set(root.iterdir()) if root.is_dir() else set()
    start_s = time.perf_counter()
    dataset = import_known_from_hub(name, root) if hub else import_known(name, path, root)
    elapsed_s = time.perf_counter() - start_s
    summary = (f"{_splits(dataset)}, images {_shape(dataset)}, fingerprint "
               f"{dataset.fingerprint[:FINGERPRINT_CHARS]}, in {dataset.root}")
    if dataset.root in before:
        print(f"{name} is already imported (same source files): {summary}", file=out)
    else:
        print(f"imported {name} in {elapsed_s:.1f} s: {summary}", file=out)
    return 0


def list_datasets(root: Path | None = None, out: TextIO | None = None) -> int:
    """Print a table of the datasets in the cache at `root`, then the importable others; 0."""
    out = out or sys.stdout
    cache = DatasetCache(root or default_cache_root())
    datasets = cache.list()
    if datasets:
        header = ("name", "splits", "shape", "fingerprint", "folder", "size")
        rows = [(d.name, _splits(d), _shape(d), d.fingerprint[:FINGERPRINT_CHARS], d.root.name,
                 _size(d.root)) for d in datasets]
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
        print(f"cache: {cache.root}", file=out)
        for row in (header, *rows):
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(),
                  file=out)
    else:
        print(f"cache: {cache.root} (empty)", file=out)
    for folder, reason in cache.damaged():
        print(f"damaged, cannot be read: {folder.name}: {reason}", file=out)
    cached = {d.name for d in datasets}
    absent = [n for n in KNOWN_DATASETS if n not in cached]
    if absent:
        print(f"importable, not in the cache: {', '.join(absent)} "
              "(`harness data import NAME PATH` or `--hub`)", file=out)
    return 0


def _splits(dataset: CachedDataset) -> str:
    return " ".join(f"{split}={size}" for split, size in dataset.split_sizes.items())


def _shape(dataset: CachedDataset) -> str:
    return "x".join(str(d) for d in dataset.image_shape)


def _size(folder: Path) -> str:
    size_bytes = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    if size_bytes < 2**20:
        return f"{size_bytes / 2**10:.1f} KiB"
    return f"{size_bytes / 2**20:.1f} MiB"
