"""Tie groups of methods from post-hoc comparisons: cliques for critical-difference diagrams, a
compact letter display, and "Arena-style" ranks.

Input convention: `methods` (names), `average_ranks` (one per method, lower is better, as from
`average_ranks` or `PosthocResult.average_ranks`) and `different`, the pairs of methods found
significantly different (`significant_pairs(posthoc_result)`); any other pair counts as "not
significantly different". Ties in average rank are broken by the order of `methods`.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Sequence

from harness.stats.posthoc import PosthocResult

_LETTERS = string.ascii_lowercase + string.ascii_uppercase


def significant_pairs(result: PosthocResult) -> tuple[tuple[str, str], ...]:
    """The (method, other) pairs a post-hoc procedure found significantly different."""
    return tuple((c.method, c.other) for c in result.comparisons if c.significant)


def _rank_order(methods: Sequence[str], average_ranks: Sequence[float]) -> list[str]:
    if len(methods) != len(average_ranks):
        raise ValueError(f"got {len(average_ranks)} average ranks for {len(methods)} methods")
    if len(set(methods)) != len(methods):
        raise ValueError(f"method names must be distinct, got {tuple(methods)}")
    order = sorted(range(len(methods)), key=lambda j: (float(average_ranks[j]), j))
    return [methods[j] for j in order]


def _pair_set(
    methods: Sequence[str], different: Collection[tuple[str, str]]
) -> set[frozenset[str]]:
    known = set(methods)
    pairs = set()
    for a, b in different:
        if a not in known or b not in known:
            raise ValueError(f"pair ({a!r}, {b!r}) names a method not in {tuple(methods)}")
        pairs.add(frozenset((a, b)))
    return pairs


def tie_cliques(
    methods: Sequence[str],
    average_ranks: Sequence[float],
    different: Collection[tuple[str, str]],
) -> tuple[tuple[str, ...], ...]:
    """Groups to join by a bar in a critical-difference diagram, best group first.

    Each group is a maximal run of methods that are consecutive in average-rank order and
    pairwise not significantly different; groups may overlap (A~B, B~C, A≠C gives (A, B) and
    (B, C)). Single methods are not groups. Methods within a group are in rank order.
    """
    order = _rank_order(methods, average_ranks)
    pairs = _pair_set(methods, different)
    groups: list[tuple[str, ...]] = []
    last_end = -1
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and all(
            frozenset((order[i], order[end + 1])) not in pairs for i in range(start, end + 1)
        ):
            end += 1
        if end > start and end > last_end:  # not contained in the previous group
            groups.append(tuple(order[start : end + 1]))
            last_end = end
    return tuple(groups)


def _maximal_cliques(order: list[str], pairs: set[frozenset[str]]) -> list[list[str]]:
    """Maximal cliques of the "not significantly different" graph (Bron–Kerbosch, pivoting)."""
    position = {m: i for i, m in enumerate(order)}
    neighbours = {
        m: {n for n in order if n != m and frozenset((m, n)) not in pairs} for m in order
    }
    cliques: list[list[str]] = []

    def expand(clique: list[str], candidates: set[str], excluded: set[str]) -> None:
        if not candidates and not excluded:
            cliques.append(sorted(clique, key=position.__getitem__))
            return
        pivot = max(sorted(candidates | excluded, key=position.__getitem__),
                    key=lambda m: len(neighbours[m] & candidates))
        for m in sorted(candidates - neighbours[pivot], key=position.__getitem__):
            expand(clique + [m], candidates & neighbours[m], excluded & neighbours[m])
            candidates = candidates - {m}
            excluded = excluded | {m}

    expand([], set(order), set())
    cliques.sort(key=lambda c: [position[m] for m in c])
    return cliques


def compact_letter_display(
    methods: Sequence[str],
    average_ranks: Sequence[float],
    different: Collection[tuple[str, str]],
) -> tuple[str, ...]:
    """Letters per method (in the order of `methods`): two methods share a letter exactly when
    they are not significantly different (Piepho 2004's compact letter display).

    Each letter is a maximal set of mutually not-different methods; "a" is the set holding the
    best-ranked method, and letters follow the rank order of the sets. A method different from
    every other gets a letter of its own. Raises ValueError beyond 52 letters.
    """
    order = _rank_order(methods, average_ranks)
    cliques = _maximal_cliques(order, _pair_set(methods, different))
    if len(cliques) > len(_LETTERS):
        raise ValueError(f"{len(cliques)} tie groups need more than {len(_LETTERS)} letters")
    letters = {m: "" for m in methods}
    for letter, clique in zip(_LETTERS, cliques, strict=False):
        for method in clique:
            letters[method] += letter
    return tuple(letters[m] for m in methods)


def arena_ranks(
    methods: Sequence[str],
    average_ranks: Sequence[float],
    different: Collection[tuple[str, str]],
) -> tuple[int, ...]:
    """"Arena-style" rank of each method (in the order of `methods`): 1 + the number of methods
    significantly better than it, "better" meaning a lower average rank.

    Methods no other method significantly beats all share rank 1, so a rank is only as fine as
    the evidence: with no significant difference every method is ranked 1.
    """
    _rank_order(methods, average_ranks)
    pairs = _pair_set(methods, different)
    ranks = dict(zip(methods, map(float, average_ranks), strict=True))
    return tuple(
        1 + sum(
            1 for other in methods
            if frozenset((method, other)) in pairs and ranks[other] < ranks[method]
        )
        for method in methods
    )
