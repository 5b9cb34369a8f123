"""Percentiles from the latency rollup's log-spaced buckets land within 10% of the true value."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from dymunim.report.metrics import Bucket, percentile

RATIO = 2 ** (1 / 8)  # neighbouring bucket edges, as in 0004_latency_log_buckets.sql


def bucket_of(ms: float) -> int:
    """The bucket numbering of dymunim_latency_bucket (checked against the SQL in integration)."""
    if not ms > 2**-6:
        return 0
    if ms > 2**24:
        return 241
    return min(240, max(1, math.ceil(math.log2(ms) * 8 - 1e-9) + 48))


def edges(b: int) -> tuple[float, float]:
    lower = 0.0 if b == 0 else 2 ** ((b - 49) / 8)
    upper = math.inf if b == 241 else 2 ** ((b - 48) / 8)
    return lower, upper


def hist_of(values: list[float]) -> list[Bucket]:
    counts = Counter(bucket_of(v) for v in values)
    return [(*edges(b), n) for b, n in sorted(counts.items())]


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(round(p * len(ordered), 9))) - 1]


def test_a_median_of_513_reads_513_not_1000() -> None:
    values = [100.0 + 8.26 * i for i in range(101)]  # median 513, the example
    got = percentile(hist_of(values), 0.5)
    assert got is not None and abs(got - 513) <= 0.1 * 513, got


@given(st.lists(st.floats(min_value=0.02, max_value=1e7), min_size=1, max_size=400),
       st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_any_percentile_is_within_the_bucket_ratio_of_the_truth(values: list[float], p: float) -> None:
    got = percentile(hist_of(values), p)
    true = nearest_rank(values, p)
    assert got is not None
    assert abs(got - true) <= (RATIO - 1) * true * (1 + 1e-9), (got, true)


def test_values_inside_one_bucket_are_spread_not_piled_on_an_edge() -> None:
    lower, upper = edges(bucket_of(500.0))
    values = [lower * (upper / lower) ** ((i + 0.5) / 100) for i in range(100)]
    for p in (0.1, 0.5, 0.9):
        got = percentile(hist_of(values), p)
        assert got is not None and abs(got - nearest_rank(values, p)) <= 0.002 * got


def test_edges_of_the_range() -> None:
    assert percentile([], 0.5) is None
    assert percentile([(1.0, 2.0, 0)], 0.5) is None
    # Under 2^-6 ms everything shares bucket 0 from 0: the answer stays inside it.
    got = percentile(hist_of([0.0, 0.001, 0.01]), 0.5)
    assert got is not None and 0 <= got < 2**-6
    # Past 2^24 ms (4.7 h) the overflow bucket has no upper edge: "at least" its lower edge.
    assert percentile(hist_of([1.0, 2e7, 3e7]), 0.99) == 2**24
    # p = 0 is the smallest value's bucket, p = 1 the largest's.
    values = [3.0, 40.0, 700.0]
    for p, true in ((0.0, 3.0), (1.0, 700.0)):
        got = percentile(hist_of(values), p)
        assert got is not None and abs(got - true) <= (RATIO - 1) * true
