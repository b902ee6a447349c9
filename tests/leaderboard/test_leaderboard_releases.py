"""Immutable releases, latest/, the releases index and the changelog between releases.

The `release_tree` fixture (conftest) builds releases v1 and v2 of a store whose second state
holds known moves: beta passes alpha within noise, gamma improves significantly but keeps its
rank, delta is new, and a time-to-result suite appears.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UserError
from leaderboard.build import MARKER, build_site
from leaderboard.changelog import (
    NOT_SIGNIFICANT,
    SIGNIFICANT,
    UNCHANGED,
    compare_manifests,
    read_manifest,
)
from leaderboard.releases import build_release, check_release_id


def _changelog(tree) -> dict:
    return json.loads((tree.root / "releases/v2/data/changelog.json").read_text())


def _rows(changelog: dict, key: str) -> dict[str, dict]:
    table = next(t for t in changelog["tables"] if t["key"] == key)
    return {r["method"]: r for r in table["rows"]}


def test_the_tree_holds_both_releases_latest_and_an_index(release_tree):
    root = release_tree.root
    for release in ("v1", "v2"):
        folder = root / "releases" / release
        for name in ("index.html", "methodology.html", "changelog.html", "data/manifest.json",
                     "data/changelog.json", "data/stats.json", "static/style.css"):
            assert (folder / name).is_file(), f"{release}/{name}"
        assert f"release {release}" in (folder / "index.html").read_text()
    index = json.loads((root / "releases.json").read_text())
    assert [r["id"] for r in index["releases"]] == ["v1", "v2"]
    assert index["releases"][1]["previous"] == "v1"
    page = (root / "index.html").read_text()
    assert page.index('href="releases/v2/index.html"') < page.index('href="releases/v1/index.html"')
    assert 'href="latest/index.html"' in page and (root / "static/style.css").is_file()


def test_latest_was_a_copy_of_the_newest_release_until_an_unreleased_build(release_tree):
    v2 = release_tree.snapshot(release_tree.root / "releases" / "v2")
    copied = {k: v for k, v in release_tree.latest_after_v2.items() if k != MARKER}
    assert copied == v2
    latest = (release_tree.root / "latest" / "index.html").read_text()
    assert "release unreleased" in latest
    index = json.loads((release_tree.root / "releases.json").read_text())
    assert index["latest"]["release"] == "unreleased"
    assert "unreleased build" in (release_tree.root / "index.html").read_text()
    assert "Since v2" in (release_tree.root / "latest" / "changelog.html").read_text()


def test_a_release_is_never_rewritten(release_tree):
    assert release_tree.snapshot(release_tree.root / "releases" / "v1") == release_tree.v1_files
    with pytest.raises(UserError, match="already exists.*immutable") as error:
        build_release(release_tree.store, release_tree.root, "v1")
    assert "\n" not in str(error.value)
    assert release_tree.snapshot(release_tree.root / "releases" / "v1") == release_tree.v1_files


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "unreleased", "x" * 65, "v 1"])
def test_release_ids_name_a_folder_safely(bad):
    with pytest.raises(UserError, match="release id"):
        check_release_id(bad)


def test_a_plain_build_never_replaces_a_release_tree(release_tree):
    with pytest.raises(UserError, match="holds releases"):
        build_site(release_tree.store, release_tree.root)
    assert (release_tree.root / "releases" / "v1" / "index.html").is_file()


def test_foreign_folders_are_refused_and_plain_sites_become_release_trees(tmp_path):
    from harness.store import Store

    store = tmp_path / "empty.db"
    Store(store).close()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("keep")
    with pytest.raises(UserError, match="not empty"):
        build_release(store, foreign, "v1")
    assert (foreign / "thesis.tex").read_text() == "keep"
    plain = tmp_path / "site"
    build_site(store, plain)
    build_release(store, plain, "first")
    assert (plain / "releases/first/index.html").is_file() and not (plain / MARKER).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "foreign", "site"]


def test_the_first_release_has_nothing_to_compare_with(release_tree):
    log = json.loads((release_tree.root / "releases/v1/data/changelog.json").read_text())
    assert log["previous"] is None and log["summary"].startswith("First release")
    assert {r["status"] for t in log["tables"] for r in t["rows"]} == {"new"}


def test_changelog_marks_what_moved_and_whether_it_is_significant(release_tree):
    log = _changelog(release_tree)
    rows = _rows(log, "rel/class")
    assert (rows["beta"]["old_rank"], rows["beta"]["new_rank"]) == (2, 1)
    assert rows["beta"]["rank_verdict"] == NOT_SIGNIFICANT  # passed alpha within noise
    assert "passed alpha" in rows["beta"]["rank_text"]
    assert rows["beta"]["score_verdict"] == NOT_SIGNIFICANT
    assert (rows["alpha"]["old_rank"], rows["alpha"]["new_rank"]) == (1, 2)
    assert rows["alpha"]["score_verdict"] == UNCHANGED  # same seeds: no test, no claim
    assert rows["gamma"]["rank_verdict"] == UNCHANGED
    assert rows["gamma"]["score_verdict"] == SIGNIFICANT and rows["gamma"]["p_adjusted"] < 0.05
    assert rows["delta"]["status"] == "new"
    assert log["new_suites"] == ["ttr-tiny"]
    ttr = next(t for t in log["tables"] if t["key"] == "ttr-tiny/time-to-result")
    assert ttr["status"] == "new"
    page = (release_tree.root / "releases/v2/changelog.html").read_text()
    assert "passed alpha within overlapping intervals" in page and "Since v1" in page


def test_a_rank_swap_is_significant_when_the_new_table_separates_the_pair():
    def manifest(release, ranks, pairs):
        rows = [{"method": m, "rank": r, "value": 1.0 / r, "ci_low": None, "ci_high": None,
                 "n": 3, "seeds": None} for m, r in ranks.items()]
        return {"format": 1, "release": release, "alpha": 0.05, "suites": [{"name": "s"}],
                "tables": [{"key": "s/x", "kind": "benchmark", "title": "x", "version": "1",
                            "href": "suites/s.html", "rows": rows,
                            "significant_pairs": pairs}]}

    old = manifest("a", {"m1": 1, "m2": 2, "m3": 3}, [])
    new = manifest("b", {"m1": 3, "m2": 1, "m3": 2}, [["m1", "m2"]])
    rows = {r.method: r for r in compare_manifests(old, new).tables[0].rows}
    assert rows["m2"].rank_verdict == SIGNIFICANT and "m1" in rows["m2"].rank_text
    assert rows["m3"].rank_verdict == NOT_SIGNIFICANT  # passed m1, a pair not separated
    assert rows["m1"].rank_verdict == SIGNIFICANT
    assert rows["m2"].score_verdict not in (SIGNIFICANT, UNCHANGED)  # no seeds, no CI


def test_manifests_of_other_formats_are_refused(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(UserError, match="format 99"):
        read_manifest(path)


def test_cli_release_and_refusal_exit_codes(tmp_path, capsys):
    from harness.cli import main
    from harness.store import Store

    store, out = tmp_path / "empty.db", tmp_path / "tree"
    Store(store).close()
    build = ["leaderboard", "build", "--store", str(store), "--out", str(out)]
    assert main([*build, "--release", "r1"]) == 0
    assert capsys.readouterr().out.strip().endswith("/releases/r1/index.html")
    code = main([*build, "--release", "r1"])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and "already exists" in error
    assert main(build) == 0  # into a release tree: refreshes latest/ only
    assert Path(capsys.readouterr().out.strip().removeprefix("file://")).parts[-2] == "latest"
    assert sorted(p.name for p in (out / "releases").iterdir()) == ["r1"]


def test_manifests_are_reproducible_and_an_unchanged_store_changes_nothing(release_tree):
    from harness.store import Store
    from leaderboard.manifest import manifest_document, manifest_json
    from leaderboard.view import build_site_view

    def manifest(built_at):
        with Store(release_tree.store) as store:
            return build_site_view(store, built_at=built_at, release="x")

    first, second = manifest("2025-01-01 00:00 UTC"), manifest("2026-06-06 06:06 UTC")
    assert manifest_json(first) == manifest_json(second)  # no build time inside
    document = manifest_document(first)
    log = compare_manifests(document, document)
    assert log.changed_tables == () and "0 of" in log.summary
    class_table = next(t for t in document["tables"] if t["key"] == "rel/class")
    assert class_table["rows"][0]["seeds"] == [0.802, 0.812, 0.792, 0.822, 0.8]  # beta, v2
    assert ["beta", "gamma"] in class_table["significant_pairs"]
    assert ["alpha", "beta"] not in class_table["significant_pairs"]
