"""One split of a Hugging Face dataset, for the time-to-result text and click-log workloads.

`load_split` calls `datasets.load_dataset(path, config, split=..., data_files=...)`: with a Hub
id (`Salesforce/wikitext`, `reczoo/Criteo_x1`) it downloads (failing in seconds, with one line,
when the Hub is unreachable); with a packaged builder (`text`, `csv`, `json`, `parquet`) and
`data_files` it reads local files — the same code path, which is how the tests exercise it and
how an offline machine supplies the corpus. `split` may carry a slice (`train[:200000]`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.data.sources.hub import check_hub_reachable
from harness.data.sources.importing import MissingDependencyError
from harness.errors import UserError

PACKAGED_BUILDERS = ("text", "csv", "json", "parquet")


def load_split(path: str, split: str, *, config: str | None = None,
               data_files: dict[str, Any] | None = None, cache_dir: Path | None = None,
               **builder_options: Any) -> Any:
    """A `datasets.Dataset` with the rows of `split`."""
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependencyError("the Hugging Face `datasets` package is needed for "
                                     f"{path}; pip install datasets") from exc
    if path not in PACKAGED_BUILDERS:
        check_hub_reachable(path, "use a local copy instead: set dataset_options.data_files to "
                            'the split files and the dataset to "hf:parquet" (or csv/text/json)')
    try:
        return datasets.load_dataset(path, config, split=split, data_files=data_files,
                                     cache_dir=str(cache_dir) if cache_dir else None,
                                     **builder_options)
    except Exception as exc:  # noqa: BLE001 - any loading failure is one line for the user
        message = " ".join(str(exc).split())[:200]
        raise UserError(f"cannot load split {split!r} of {path}"
                        f"{f' ({config})' if config else ''}: {type(exc).__name__}: {message}") \
            from exc
