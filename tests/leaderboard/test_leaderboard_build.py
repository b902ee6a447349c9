import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest

from harness.errors import UserError
from harness.store import Store
from leaderboard.build import MARKER, build_site
from leaderboard.view import build_site_view


class _Tags(HTMLParser):
    """Start tags (name, attrs) and element ids of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.add(attributes["id"])


def _parse(page: Path) -> _Tags:
    parser = _Tags()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _links(page: Path) -> list[str]:
    return [
        attrs[key] for _, attrs in _parse(page).tags for key in ("href", "src") if key in attrs
    ]


def _row(page_html: str, method: str, table: str) -> str:
    section = page_html.split(f'id="table-split-mnist-{table}"', 1)[1].split("</table>", 1)[0]
    match = re.search(rf'<tr class="[^"]*" data-method="{re.escape(method)}">(.*?)</tr>',
                      section, re.S)
    assert match, f"no row for {method}"
    return match.group(1)


def _cells(row_html: str) -> list[str]:
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row_html, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def _primary_cell(row_html: str) -> str:
    return re.search(r'<td class="num primary"[^>]*>(.*?)</td>', row_html, re.S).group(1)


def assert_relative_links_resolve(site: Path) -> int:
    """Every relative href/src of every page points at an existing file (and anchor)."""
    checked = 0
    for page in site.rglob("*.html"):
        for link in _links(page):
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            assert not parts.scheme and not link.startswith("/"), f"{page}: non-relative {link}"
            target = (page.parent / parts.path).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(site)} links to missing {link}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in _parse(target).ids, f"{page}: no anchor in {link}"
            checked += 1
    return checked


def test_site_has_its_pages_downloads_and_figures(example_site):
    for path in ("index.html", "methodology.html", "suites/split-mnist.html",
                 "methods/replay.html", "methods/joint.html", "data/runs.csv",
                 "data/split-mnist-class.csv", "data/split-mnist-class.json",
                 "plots/split-mnist-class-intervals.svg", "static/style.css",
                 "static/table.js", MARKER):
        assert (example_site / path).is_file(), path


def test_every_relative_link_resolves_and_index_links_the_suite(example_site):
    assert assert_relative_links_resolve(example_site) > 20
    index_links = _links(example_site / "index.html")
    assert "suites/split-mnist.html" in index_links
    assert "suites/split-mnist.html#split-mnist-class" in index_links
    suite_links = _links(example_site / "suites/split-mnist.html")
    assert "../methods/replay.html" in suite_links
    assert "../data/split-mnist-class.csv" in suite_links


def test_no_asset_is_fetched_from_the_network(example_site):
    for page in example_site.rglob("*.html"):
        for tag, attrs in _parse(page).tags:
            url = attrs.get("src", "") if tag in ("script", "img") else ""
            url = attrs.get("href", "") if tag == "link" else url
            assert not re.match(r"(https?:)?//", url), f"{page}: external asset {url}"
    css = (example_site / "static/style.css").read_text()
    assert "url(" not in css and "@import" not in css
    for svg in example_site.rglob("*.svg"):
        assert not re.search(r'href="(https?:)?//', svg.read_text()), svg


def test_best_is_bold_and_only_the_equal_method_is_tied(example_site):
    page = (example_site / "suites/split-mnist.html").read_text(encoding="utf-8")
    assert "<strong>" in _primary_cell(_row(page, "replay", "class"))
    twin, worse = _row(page, "replay-twin", "class"), _row(page, "finetune", "class")
    assert "<strong>" not in _primary_cell(twin) + _primary_cell(worse)
    assert 'class="mark tied"' in twin and "tied with best (p = " in twin
    assert "Holm-adjusted p = " in twin and "Welch&#39;s t-test" in twin  # tooltip
    assert 'class="mark tied"' not in worse and "tied with best" not in worse
    assert "worse than best" in worse


def test_cells_show_ci_n_hparams_failures_and_tuning_cost(example_site):
    page = (example_site / "suites/split-mnist.html").read_text(encoding="utf-8")
    replay = _cells(_row(page, "replay", "class"))
    assert replay[0] == "1"
    assert replay[2] == "0.800 ± [0.780, 0.820], n=5"
    assert "lr=0.01, memory=200" in replay
    assert "3 trials, 1.5 min" in replay
    finetune = _cells(_row(page, "finetune", "class"))
    assert finetune[2].endswith("n=4")
    assert finetune[-3] == "0"  # failed runs
    assert _cells(_row(page, "joint", "class"))[-3] == "1"
    single = _cells(_row(page, "finetune", "task"))
    assert "cannot be tested with this many seeds" in single


def test_upper_bound_is_flagged_unranked_and_not_bold(example_site):
    page = (example_site / "suites/split-mnist.html").read_text(encoding="utf-8")
    joint = _row(page, "joint", "class")
    cells = _cells(joint)
    assert cells[0] == "—"
    assert "upper bound · not continual" in cells[1]
    assert "<strong>" not in _primary_cell(joint)


def test_csv_and_json_match_the_view_model(example_site, example_store):
    with Store(example_store) as store:
        site = build_site_view(store, built_at="x")
    bench = next(b for b in site.suites[0].benchmarks if b.scenario == "class")
    table = pd.read_csv(example_site / "data/split-mnist-class.csv")
    assert list(table["method"]) == [r.method for r in bench.rows]
    for row, record in zip(bench.rows, table.to_dict("records"), strict=True):
        assert record["final_avg_acc_mean"] == pytest.approx(row.primary.mean, abs=1e-12)
        assert record["final_avg_acc_ci_low"] == pytest.approx(row.primary.ci_low, abs=1e-12)
        assert record["final_avg_acc_n"] == row.primary.n
        assert record["failed_runs"] == row.failed_runs
        assert record["versus_best"] == row.versus_best.value
    assert table.loc[table["method"] == "replay", "rank"].item() == 1
    document = pd.read_json(example_site / "data/split-mnist-class.json", typ="series")
    assert document["best"] == "replay"


def test_runs_csv_is_long_format_with_every_run(example_site, example_store):
    runs = pd.read_csv(example_site / "data/runs.csv")
    with Store(example_store) as store:
        stored = store.runs_frame()
    assert set(runs["run_key"]) == set(stored["run_key"])
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 1 and failed["metric"].isna().all()
    assert {"metric", "value", "current"} <= set(runs.columns)
    assert not runs.loc[runs["submission_hash"] == "replay-hash-1", "current"].any()


def test_method_page_shows_stale_hash_trials_and_hardware(example_site, example):
    page = (example_site / "methods/replay.html").read_text(encoding="utf-8")
    assert example.stale_replay_hash in page and "stale" in page
    assert example.hashes["replay"] in page
    assert "Test CPU 3000" in page and "torch_version" in page
    joint = (example_site / "methods/joint.html").read_text(encoding="utf-8")
    assert "loss became NaN at step 12" in joint


def test_methodology_is_generated_from_the_settings(example_site):
    text = (example_site / "methodology.html").read_text(encoding="utf-8")
    for phrase in ("95% Student-t", "Welch&#39;s t-test", "Holm", "α = 0.05",
                   "cannot be tested with this many seeds", "5 seeds", "3 trials"):
        assert phrase in text, phrase


def _strip_stamp(text: str) -> str:
    return re.sub(r'<p class="build-stamp">.*?</p>', "", text, flags=re.S)


def test_two_builds_differ_only_in_the_build_stamp(example_site, example_store, tmp_path,
                                                  monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the first build used the clock
    second = build_site(example_store, tmp_path / "again", release="r-test").parent
    first = example_site
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    stamps_differ = False
    for name in files:
        a, b = (first / name).read_bytes(), (second / name).read_bytes()
        if name.suffix == ".html":
            stamps_differ |= a != b
            a, b = _strip_stamp(a.decode()).encode(), _strip_stamp(b.decode()).encode()
        assert a == b, name
    assert stamps_differ
    assert "built 2023-11-14 22:13 UTC" in (second / "index.html").read_text()


@pytest.fixture
def empty_store(tmp_path) -> Path:
    Store(tmp_path / "empty.db").close()
    return tmp_path / "empty.db"


def test_rebuild_replaces_the_site_and_leaves_no_temporary_folders(empty_store, tmp_path):
    out = tmp_path / "out" / "site"
    build_site(empty_store, out, release="one")
    (out / "left-over.html").write_text("from an older build")
    build_site(empty_store, out, release="two")
    assert "release two" in (out / "index.html").read_text()
    assert not (out / "left-over.html").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]


def test_refuses_to_replace_a_folder_it_did_not_write(example_store, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    with pytest.raises(UserError, match="not empty"):
        build_site(example_store, out)
    assert (out / "thesis.tex").read_text() == "do not delete"


def test_missing_store_is_a_one_line_user_error(tmp_path):
    with pytest.raises(UserError) as error:
        build_site(tmp_path / "nope.db", tmp_path / "site")
    assert "\n" not in str(error.value) and "harness evaluate" in str(error.value)
    assert not (tmp_path / "site").exists() and not (tmp_path / "nope.db").exists()


def test_empty_store_builds_a_no_results_site(empty_store, tmp_path):
    index = build_site(empty_store, tmp_path / "site")
    text = index.read_text(encoding="utf-8")
    assert "No results yet" in text and "harness evaluate" in text
    assert (tmp_path / "site/methodology.html").is_file()
    assert_relative_links_resolve(tmp_path / "site")


def _benchmark_section(page: Path, slug: str) -> str:
    """The benchmark's section of a suite page, up to the next benchmark's."""
    html_text = page.read_text(encoding="utf-8")
    return html_text.split(f'<section class="benchmark" id="{slug}">', 1)[1].split(
        '<section class="benchmark"', 1)[0]


def test_benchmark_shows_a_seed_strip_plot_with_every_stored_seed(example_site, example,
                                                                  parse_svg):
    section = _benchmark_section(example_site / "suites/split-mnist.html", "split-mnist-class")
    match = re.search(r'<figure class="plot seed_strip">\s*<img src="\.\./([^"]+)" '
                      r'alt="([^"]+)"', section)
    assert match, "no strip plot in the benchmark section"
    assert "replay: 5 seeds from 0.780 to 0.820" in html.unescape(match.group(2))
    root = parse_svg((example_site / match.group(1)).read_text(encoding="utf-8"))
    # the value axis, read back from its tick labels: pixel = a + b * value
    ticks = [(float(t.text), float(t.get("x"))) for t in root.iter("text")
             if t.get("class") == "tick"]
    (v0, x0), (v1, x1) = ticks[0], ticks[-1]
    for method, scores in example.class_scores.items():
        group = root.find(f".//g[@data-method='{method}']")
        dots = [float(d.get("cx")) for d in group.findall("circle[@class='seed']")]
        values = sorted(v0 + (x - x0) * (v1 - v0) / (x1 - x0) for x in dots)
        assert values == pytest.approx(sorted(scores), abs=1e-3), method  # one dot per seed
