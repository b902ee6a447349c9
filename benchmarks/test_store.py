"""Results store at scale: runs written per second, and the resume scan over 100,000 runs.

- `Store.write_run`: one transaction per run (what `harness evaluate` does after each run; a
  killed harness never leaves half a run). Timed over `NUM_TIMED_WRITES` runs.
- `Store.import_results`: the same rows, all in one transaction (what `harness results
  import` does). Timed over `NUM_IMPORTED` runs.
- The store is then grown to `NUM_STORED` runs by copying those rows under new keys in SQL
  (nothing a user does, only a fast way to get a large store), and the resume path is timed:
  `Store.statuses()` over everything, `statuses(keys)` for one campaign's keys (what each phase
  and each tuning decision asks), and `get_run` per stored run (what a resumed phase does for
  every run it skips). Also timed: the same campaign lookup done by primary key, the change
  proposed for `statuses(keys)`.
"""

from __future__ import annotations

import json
import sqlite3
import time

from benchmarks.helpers import synthetic_run
from harness.runner.spec import Phase
from harness.store import Store

NUM_TIMED_WRITES, NUM_IMPORTED, NUM_STORED = 1_000, 9_000, 100_000
CAMPAIGN_RUNS = 500  # a resumed campaign: e.g. 10 methods × (20 trials + 30 seeds)
NUM_GET_RUN = 1_000


def _runs(count: int, offset: int = 0):
    return [synthetic_run("bench", "class", f"m{i % 20}", Phase.EVALUATE, seed=i + offset,
                          trial=-1, score=0.5) for i in range(count)]


def _grow(path, factor: int) -> None:
    """Copy every run, metric and curve `factor - 1` times under new keys, in one transaction."""
    db = sqlite3.connect(path)
    copies = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
    with db:
        db.execute("CREATE TEMP TABLE originals AS SELECT run_key FROM runs")
        db.execute(f"{copies} INSERT INTO runs SELECT r.run_key || '-' || n.i, suite, "
                   "suite_version, scenario, phase, submission, submission_hash, hparams, "
                   "seed + 1000000 * n.i, trial, study, status, reason, wall_time_s, "
                   "started_at, finished_at, hardware, hardware_class, dataset_fingerprints, "
                   "harness_version FROM runs r JOIN originals USING (run_key), n",
                   (factor - 1,))
        for table in ("metrics", "curves"):
            db.execute(f"{copies} INSERT INTO {table} SELECT t.run_key || '-' || n.i, name, "
                       f"value FROM {table} t JOIN originals USING (run_key), n",
                       (factor - 1,))
    db.close()


def _statuses_by_key_lookup(path, keys: list[str]) -> dict[str, str]:
    """The proposed `Store.statuses(keys)`: primary-key lookups instead of a full scan."""
    db = sqlite3.connect(path)
    rows = db.execute("SELECT run_key, status FROM runs WHERE run_key IN "
                      "(SELECT value FROM json_each(?))", (json.dumps(keys),)).fetchall()
    db.close()
    return dict(rows)


def test_store_write_rate_and_resume_scan(benchmark, tmp_path):
    path = tmp_path / "store.db"
    timed, imported = _runs(NUM_TIMED_WRITES), _runs(NUM_IMPORTED, offset=NUM_TIMED_WRITES)
    with Store(path) as store:
        start = time.perf_counter()
        for run in timed:
            store.write_run(run)
        write_run_per_s = NUM_TIMED_WRITES / (time.perf_counter() - start)
        start = time.perf_counter()
        assert store.import_results(imported) == NUM_IMPORTED
        import_per_s = NUM_IMPORTED / (time.perf_counter() - start)
    _grow(path, NUM_STORED // (NUM_TIMED_WRITES + NUM_IMPORTED))
    campaign = [run.spec.key for run in imported[:CAMPAIGN_RUNS]]
    with Store(path) as store:
        statuses = benchmark.pedantic(store.statuses, rounds=5, iterations=1)
        num_stored = len(statuses)
        start = time.perf_counter()
        assert len(store.statuses(campaign)) == CAMPAIGN_RUNS
        campaign_scan_s = time.perf_counter() - start
        start = time.perf_counter()
        assert len(_statuses_by_key_lookup(path, campaign)) == CAMPAIGN_RUNS
        proposed_scan_s = time.perf_counter() - start
        start = time.perf_counter()
        for key in campaign[:NUM_GET_RUN]:
            store.get_run(key)
        get_run_s = (time.perf_counter() - start) / min(NUM_GET_RUN, len(campaign))
    assert num_stored >= NUM_STORED
    scan_s = benchmark.stats.stats.median
    benchmark.extra_info.update({
        "write_run_per_s": write_run_per_s, "import_results_per_s": import_per_s,
        "stored_runs": num_stored, "statuses_all_s": scan_s,
        "statuses_campaign_keys_s": campaign_scan_s, "campaign_runs": CAMPAIGN_RUNS,
        "proposed_statuses_campaign_keys_s": proposed_scan_s,
        "get_run_ms": get_run_s * 1e3,
        "extrapolated_write_run_s_for_100k": NUM_STORED / write_run_per_s,
        "extrapolated_import_s_for_100k": NUM_STORED / import_per_s,
        "store_mb": path.stat().st_size / 2**20,
    })
    print(f"\nwrite_run {write_run_per_s:,.0f} runs/s (100k: {NUM_STORED / write_run_per_s:.0f} "
          f"s); import_results {import_per_s:,.0f} runs/s; {num_stored:,} stored: statuses() "
          f"{scan_s * 1e3:.0f} ms, statuses({CAMPAIGN_RUNS} keys) {campaign_scan_s * 1e3:.0f} "
          f"ms (by key lookup: {proposed_scan_s * 1e3:.1f} ms), get_run "
          f"{get_run_s * 1e3:.2f} ms")
