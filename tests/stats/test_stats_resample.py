"""The draws of the stratified bootstraps: the stream they promise, blocks that do not change
it, and only real values drawn."""

import numpy as np

from harness.stats.resample import pack_strata, stratified_draws


def test_equal_counts_draw_the_per_element_bound_stream():
    counts = np.full(6, 4)
    blocks = list(stratified_draws(counts, 30, np.random.default_rng(5)))
    assert len(blocks) == 1 and blocks[0].strata.tolist() == list(range(6))
    before = np.random.default_rng(5).integers(0, counts, size=(30, 4, 6))
    np.testing.assert_array_equal(blocks[0].positions, before)


def test_blocks_of_replicates_do_not_change_the_draws():
    counts = np.array([3, 5, 3, 2])
    whole = list(stratified_draws(counts, 40, np.random.default_rng(1), block_elements=None))
    small = list(stratified_draws(counts, 40, np.random.default_rng(1), block_elements=20))
    assert len(small) > len(whole) == 3  # groups of count 2, 3 and 5
    for group in whole:
        parts = [b for b in small if b.count == group.count]
        assert all(np.array_equal(b.strata, group.strata) for b in parts)
        np.testing.assert_array_equal(np.concatenate([b.positions for b in parts]),
                                      group.positions)


def test_unequal_counts_draw_only_real_values():
    values = np.array([[1.0, 10.0, 100.0], [2.0, np.nan, 200.0], [3.0, np.nan, np.nan]])
    packed, counts = pack_strata(values)
    assert counts.tolist() == [3, 1, 2]
    for block in stratified_draws(counts, 50, np.random.default_rng(0)):
        drawn = block.gather(packed)
        assert drawn.shape == (50, block.count, block.strata.size)
        for column, stratum in enumerate(block.strata):
            real = values[np.isfinite(values[:, stratum]), stratum]
            assert set(drawn[:, :, column].ravel()) <= set(real)
