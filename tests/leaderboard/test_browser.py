"""The built site in a real headless Chromium, offline: links, assets, sorting, filtering.

Needs the ``playwright`` Python package and a Chromium binary (Debian: ``apt-get install
chromium``); Playwright's own browser download is not used, so this works on machines without
network. Skipped, with the reason, when either is missing. Set ``HARNESS_CHROMIUM`` to use
another Chromium or Chrome binary.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="needs the playwright package (pip install playwright)"
)

CHROMIUM = os.environ.get("HARNESS_CHROMIUM") or next(
    (path for name in ("chromium", "chromium-browser", "google-chrome")
     if (path := shutil.which(name))),
    None,
)  # fmt: skip
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs a Chromium binary on PATH (apt-get install chromium) or HARNESS_CHROMIUM",
)

CLASS_TABLE = "table-split-mnist-class"
# every href/src of a page, resolved by the browser (the element properties are absolute URLs)
_COLLECT_LINKS = """() => Array.from(
  document.querySelectorAll('a[href], img[src], link[href], script[src]'),
  e => ({tag: e.tagName.toLowerCase(),
         url: (e.tagName === 'IMG' || e.tagName === 'SCRIPT') ? e.src : e.href}))"""
_BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))"""
_ROW_ORDER = f"""() => Array.from(document.querySelectorAll('#{CLASS_TABLE} tbody tr'))
  .filter(r => !r.hidden).map(r => r.dataset.method)"""


@pytest.fixture(scope="module")
def site(example_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leaderboard.build import build_site

    return build_site(example_store, tmp_path_factory.mktemp("browser") / "site").parent


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """An offline page whose every request off file:// is blocked and recorded (the test then
    fails), as is every JavaScript error."""
    context = browser.new_context(offline=True)
    page = context.new_page()
    escaped: list[str] = []
    errors: list[str] = []

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            escaped.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.on("request", lambda r: None if r.url.startswith("file://") else escaped.append(r.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not escaped, f"requests left file://: {sorted(set(escaped))}"
    assert not errors, f"JavaScript errors: {errors}"


def _ids(html_file: Path) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html_file.read_text(encoding="utf-8")))


def test_links_lead_from_the_index_to_a_suite_and_a_method(site, page):
    page.goto((site / "index.html").as_uri())
    assert page.title().startswith("Overview")
    page.click('#suites a[href="suites/split-mnist.html"]')
    page.wait_for_url("**/suites/split-mnist.html")
    assert page.locator("h1").inner_text().startswith("split-mnist")
    page.click(f'#{CLASS_TABLE} a[href="../methods/replay.html"]')
    page.wait_for_url("**/methods/replay.html")
    assert page.locator("h1").inner_text().startswith("replay")
    assert "Tuning trials" in page.content()


def test_sorting_is_kept_in_the_url_hash_and_restored_on_reload(site, page):
    page.goto((site / "suites/split-mnist.html").as_uri())
    before = page.evaluate(_ROW_ORDER)
    assert before == ["joint", "replay", "replay-twin", "finetune"]  # by mean, best first
    page.click(f"#{CLASS_TABLE} thead th:nth-child(2) button.sort")  # "Method"
    after = page.evaluate(_ROW_ORDER)
    assert after == sorted(before) and after != before
    assert f"{CLASS_TABLE}.sort=1.asc" in page.url
    header = page.locator(f"#{CLASS_TABLE} thead th:nth-child(2)")
    assert header.get_attribute("aria-sort") == "ascending"
    page.click(f"#{CLASS_TABLE} thead th:nth-child(2) button.sort")
    assert page.evaluate(_ROW_ORDER) == sorted(before, reverse=True)
    assert f"{CLASS_TABLE}.sort=1.desc" in page.url
    page.reload()
    assert page.evaluate(_ROW_ORDER) == sorted(before, reverse=True)


def test_filtering_hides_rows_and_survives_a_reload(site, page):
    page.goto((site / "suites/split-mnist.html").as_uri())
    box = page.locator(f'input[aria-controls="{CLASS_TABLE}"]')
    box.fill("TWIN")  # case-insensitive
    assert page.evaluate(_ROW_ORDER) == ["replay-twin"]
    assert f"{CLASS_TABLE}.q=TWIN" in page.url
    page.reload()
    assert page.locator(f'input[aria-controls="{CLASS_TABLE}"]').input_value() == "TWIN"
    assert page.evaluate(_ROW_ORDER) == ["replay-twin"]
    page.locator(f'input[aria-controls="{CLASS_TABLE}"]').fill("")
    assert len(page.evaluate(_ROW_ORDER)) == 4 and ".q=" not in page.url


def _check_links(page, site: Path, pages: list[Path]) -> int:
    """Open every page of `pages` and check each link and asset: it loads, is a file inside
    `site` (a self-contained folder), and its #anchor exists. Return the number checked."""
    checked = 0
    for html_file in pages:
        page.goto(html_file.as_uri())
        page.wait_for_load_state("load")
        where = html_file.relative_to(site)
        assert page.evaluate(_BROKEN_IMAGES) == [], f"{where}: images that did not load"
        for link in page.evaluate(_COLLECT_LINKS):
            parts = urlsplit(link["url"])
            if parts.scheme in ("http", "https", "mailto"):
                assert link["tag"] == "a", f"{where}: external asset {link['url']}"
                continue
            assert parts.scheme == "file", f"{where}: {link['url']}"
            target = Path(unquote(parts.path))
            assert target.is_file(), f"{where}: broken {link['tag']} -> {link['url']}"
            assert site in target.parents, f"{where}: link outside the site {link['url']}"
            if parts.fragment and target.suffix == ".html":
                anchor = unquote(parts.fragment).split("&")[0]
                assert anchor in _ids(target), f"{where}: no anchor for {link['url']}"
            checked += 1
    return checked


def test_every_link_and_asset_on_every_page_resolves(site, page):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 7
    assert _check_links(page, site, pages) > 100


def test_a_release_and_latest_are_self_contained_folders(release_tree, page):
    root = release_tree.root
    for folder in (root / "releases" / "v2", root / "latest"):
        pages = sorted(folder.rglob("*.html"))
        assert {"changelog.html", "ttr-tiny.html", "rel.html"} <= {p.name for p in pages}
        assert _check_links(page, folder, pages) > 30
    assert _check_links(page, root, [root / "index.html"]) >= 6  # into releases/ and latest/


def test_from_the_releases_index_to_a_changelog_and_a_time_to_result_page(release_tree, page):
    page.goto((release_tree.root / "index.html").as_uri())
    assert page.locator("#table-releases tbody tr").count() == 2
    page.click('#table-releases a[href="releases/v2/changelog.html"]')
    page.wait_for_url("**/releases/v2/changelog.html")
    assert page.locator("h1").inner_text() == "Changes in release v2"
    assert "passed alpha" in page.content()
    page.click('nav a[href="suites/ttr-tiny.html"]')
    page.wait_for_url("**/releases/v2/suites/ttr-tiny.html")
    table = "table-ttr-tiny-time-to-result"
    order = f"""() => Array.from(document.querySelectorAll('#{table} tbody tr'))
      .filter(r => !r.hidden).map(r => r.dataset.method)"""
    assert page.evaluate(order) == ["fast-opt", "nadamw"]
    page.click(f"#{table} thead th:nth-child(3) button.sort")  # benchmark score, ascending
    assert page.evaluate(order) == ["nadamw", "fast-opt"]
    assert f"{table}.sort=2.asc" in page.url


GAP_TABLE = "table-split-mnist-class-protocol-gap"
_GAP_ORDER = f"""() => Array.from(document.querySelectorAll('#{GAP_TABLE} tbody tr'))
  .map(r => r.dataset.method)"""


def test_gap_stability_and_compute_sections_render_and_sort(site, page):
    page.goto((site / "suites/split-mnist.html").as_uri() + "#split-mnist-class-protocol-gap")
    assert page.evaluate(_GAP_ORDER) == ["replay", "replay-twin", "finetune"]  # fair ranks
    page.click(f"#{GAP_TABLE} thead th:nth-child(6) button.sort")  # "Rank (legacy)"
    assert page.evaluate(_GAP_ORDER) == ["finetune", "replay", "replay-twin"]
    assert f"{GAP_TABLE}.sort=5.asc" in page.url
    assert page.url.split("#", 1)[1].startswith("split-mnist-class-protocol-gap&")
    for figure in ("#split-mnist-class-stability img", "#split-mnist-class-protocol-gap img"):
        image = page.locator(figure)
        assert image.evaluate("i => i.complete && i.naturalWidth > 0"), figure
        assert len(image.get_attribute("alt")) > 80, figure
    compute = page.locator("#table-split-mnist-class-compute tbody tr")
    assert compute.count() == 4
    assert "2.50 TFLOPs" in page.locator("#table-split-mnist-class-compute").inner_text()


def test_the_site_is_complete_without_javascript(browser, site):
    context = browser.new_context(offline=True, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((site / "suites/split-mnist.html").as_uri())
        rows = page.locator(f"#{CLASS_TABLE} tbody tr")
        assert rows.count() == 4
        assert page.locator(f"#{GAP_TABLE} tbody tr").count() == 3
        assert page.locator(".table-filter").count() == 0  # controls are added by table.js
    finally:
        context.close()
