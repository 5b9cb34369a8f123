-- Latency percentiles close to the truth. The buckets of 0002 (1, 2, 5, 10 … 60000 ms) made a
-- median of 513 ms read as 1000. Now 8 buckets per doubling: edges 2^(k/8) ms, so neighbouring edges
-- differ by 2^(1/8) ≈ 1.0905 and any estimate inside the bucket that holds a percentile is within
-- 9.1% of it. Bucket 0 holds [0, 2^-6] ms; buckets 1 … 240 hold (2^((b-49)/8), 2^((b-48)/8)] ms;
-- bucket 241 holds everything over 2^24 ms (4.7 h). Upper edges are included, as in Prometheus' `le`,
-- so whole-millisecond durations on an edge (256 ms) count where /metrics says they do. The rollup
-- trigger calls dymunim_latency_bucket, so replacing the functions is the whole change for new rows.

CREATE OR REPLACE FUNCTION dymunim_latency_bucket(ms double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE
        WHEN ms IS NULL OR ms = 'NaN' OR ms <= 0.015625 THEN 0  -- Postgres sorts NaN above every number
        WHEN ms > 16777216 THEN 241
        -- The 1e-9 keeps a value on an edge (ln rounding may put 8·log2(256) a hair above 64) below it.
        ELSE LEAST(240, GREATEST(1, ceil(ln(ms) / ln(2.0::double precision) * 8 - 1e-9)::int + 48))
    END)::smallint
$$;

CREATE OR REPLACE FUNCTION dymunim_bucket_upper_ms(bucket smallint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN bucket >= 241 THEN 'Infinity'::double precision
                ELSE power(2.0::double precision, (bucket - 48) / 8.0) END
$$;

CREATE FUNCTION dymunim_bucket_lower_ms(bucket smallint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN bucket <= 0 THEN 0 ELSE power(2.0::double precision, (bucket - 49) / 8.0) END
$$;

-- Rows counted with the old buckets move to the new bucket of their old bucket's geometric middle:
-- no finer than they were, but the totals and the minutes stay. (Old numbers 0 … 15 never collide
-- with the new ones they move to, which start at 41 for 0.5 ms.) The old buckets were [lower, upper).
WITH old AS (
    DELETE FROM job_minute_latency RETURNING minute, kind, bucket, shard, n
), edges(e) AS (
    VALUES (ARRAY[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000]::double precision[])
)
INSERT INTO job_minute_latency (minute, kind, bucket, shard, n)
SELECT o.minute, o.kind,
       dymunim_latency_bucket(CASE WHEN o.bucket <= 0 THEN 0.5
                                   WHEN o.bucket >= 15 THEN 60000
                                   ELSE sqrt(e[o.bucket] * e[o.bucket + 1]) END),
       o.shard, sum(o.n)
FROM old o, edges
GROUP BY 1, 2, 3, 4;
