"""The static leaderboard site, built from the results store.

Data flows one way: `harness.store` → `view` (a view model of frozen dataclasses; every number,
rank, significance mark and formatted string is computed there) → `build` (renders the jinja2
templates in `templates/`, draws the figures of `plots`, writes CSV/JSON/LaTeX downloads and
``data/stats.json``). Templates only format. The site is self-contained: it opens from
``file://`` with no server or network.

Entry points: `leaderboard.build.build_site` and the ``harness leaderboard build`` command
(`leaderboard.cli`).
"""
