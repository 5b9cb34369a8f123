"""The rollup's latency buckets in SQL: 8 per doubling, the edges the percentile math assumes, and
rows counted with the old buckets carried over by 0004."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import psycopg

from dymunim.db.migrate import migrate, migration_files
from tests.unit.test_percentiles import bucket_of, edges


def test_buckets_hold_their_values_and_match_the_percentile_math(pg_dsn: str) -> None:
    migrate(pg_dsn)
    values = [float(v) for v in (0, 1e-6, 0.0156, 2**-6, 0.02, 0.5, 1, 1.04, 2, 3, 12.5, 99.9, 100, 513, 1000,
                                 2**10 * 2 ** (3 / 8), 59_999, 300_000, 2**24 - 1, 2**24, 1e9)]
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT v, dymunim_latency_bucket(v) AS b, dymunim_bucket_lower_ms(dymunim_latency_bucket(v)),"
            " dymunim_bucket_upper_ms(dymunim_latency_bucket(v)) FROM unnest(%s::float8[]) v", (values,)).fetchall()
        specials = conn.execute("SELECT dymunim_latency_bucket(NULL), dymunim_latency_bucket('NaN'),"
                                " dymunim_latency_bucket(-5), dymunim_latency_bucket('Infinity')").fetchone()
        # A value on an edge belongs to the bucket it closes, as Prometheus' `le` counts it.
        powers = [2.0**k for k in range(-5, 25)]
        on_edges = conn.execute("SELECT dymunim_bucket_upper_ms(dymunim_latency_bucket(v)) FROM unnest(%s::float8[]) v",
                                (powers,)).fetchall()
    assert specials == (0, 0, 0, 241)
    assert [r[0] for r in on_edges] == powers
    for v, b, lower, upper in rows:
        assert (lower < v or b == 0) and v <= upper * (1 + 1e-12), (v, b, lower, upper)
        if 0 < b < 241:
            assert upper / lower <= 2 ** (1 / 8) * (1 + 1e-12)
        # The unit tests' mirror of the bucketing and its edges agree with the SQL.
        assert bucket_of(v) == b, (v, b)
        mirror_lower, mirror_upper = edges(b)
        assert math.isclose(lower, mirror_lower) and (upper == mirror_upper or math.isclose(upper, mirror_upper))


def test_0004_carries_old_bucket_counts_over(fresh_dsn: str, tmp_path: Path) -> None:
    package = {name for name, _ in migration_files()}
    src = Path(__file__).resolve().parents[2] / "src" / "dymunim" / "db" / "migrations"
    before = sorted(n for n in package if n < "0004")
    for name in before:
        shutil.copy(src / name, tmp_path / name)
    migrate(fresh_dsn, tmp_path)
    with psycopg.connect(fresh_dsn) as conn:
        # Counts under 0002's buckets: 0 (< 1 ms), 9 ([500, 1000) ms), 15 (>= 60 s).
        conn.execute("INSERT INTO job_minute_latency (minute, kind, bucket, shard, n) VALUES"
                     " ('2026-11-01 10:00+00', 'exec_warm', 0, 1, 5),"
                     " ('2026-11-01 10:00+00', 'exec_warm', 9, 1, 7),"
                     " ('2026-11-01 10:01+00', 'wait', 15, 3, 2)")
        conn.commit()
    for name in sorted(package - set(before)):
        shutil.copy(src / name, tmp_path / name)
    assert "0004_latency_log_buckets.sql" in migrate(fresh_dsn, tmp_path)
    with psycopg.connect(fresh_dsn) as conn:
        rows = conn.execute(
            "SELECT kind, shard, n, dymunim_bucket_lower_ms(bucket) AS lo, dymunim_bucket_upper_ms(bucket) AS hi"
            " FROM job_minute_latency ORDER BY minute, lo").fetchall()
    assert [(k, s, n) for k, s, n, _, _ in rows] == [("exec_warm", 1, 5), ("exec_warm", 1, 7), ("wait", 3, 2)]
    (_, _, _, lo0, hi0), (_, _, _, lo9, hi9), (_, _, _, lo15, hi15) = rows
    assert lo0 < 0.5 <= hi0
    assert lo9 < math.sqrt(500 * 1000) <= hi9  # the old bucket's geometric middle
    assert lo15 < 60_000 <= hi15
