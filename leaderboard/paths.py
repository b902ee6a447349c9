"""Where things live in the site: file names and links, relative to the site root.

Pages in sub-folders reach the root through the ``root`` prefix their template is given
(``"../"``), so every link in the site is relative and the site opens from ``file://``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def slugify(name: str) -> str:
    """A file-name-safe, lower-case form of `name` ("EWC (online)" → "ewc-online")."""
    return re.sub(r"[^a-z0-9._]+", "-", name.lower()).strip("-.") or "unnamed"


def suite_href(suite: str) -> str:
    return f"suites/{slugify(suite)}.html"


def benchmark_slug(suite: str, scenario: str) -> str:
    """Names a benchmark's table: its anchor on the suite page and its download files."""
    return f"{slugify(suite)}-{slugify(scenario)}"


def protocol_gap_slug(suite: str, scenario: str) -> str:
    """Names a benchmark's protocol-gap section: its anchor and its download files."""
    return f"{benchmark_slug(suite, scenario)}-protocol-gap"


def benchmark_href(suite: str, scenario: str) -> str:
    return f"{suite_href(suite)}#{benchmark_slug(suite, scenario)}"


def method_hrefs(hashes: Mapping[str, str]) -> dict[str, str]:
    """Page of each method; names that slug alike get a hash suffix so no page overwrites
    another. `hashes` maps each submission name to its current content hash."""
    hrefs: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(hashes):
        slug = slugify(name)
        if slug in taken:
            slug = f"{slug}-{hashes[name][:8]}"
        taken.add(slug)
        hrefs[name] = f"methods/{slug}.html"
    return hrefs
