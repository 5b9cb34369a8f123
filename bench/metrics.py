"""GET /api/metrics and GET /metrics latency with 1,000,000 jobs in the table.

Seeds jobs straight into an embedded Postgres, each inserted `running` and then finished (the jobs_state
triggers fill the counters and rollups as they do in production), then times the endpoints through the
real app.
Prints one line per figure. Run: .venv/bin/python bench/metrics.py [--jobs 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from dymunim.api.app import create_app
from dymunim.db.embedded import EmbeddedPostgres
from dymunim.db.migrate import migrate
from dymunim.settings import Settings

SEED = """
INSERT INTO job_code (code_hash, code, language) VALUES ('bench', 'return 1', 'javascript')
ON CONFLICT DO NOTHING;
INSERT INTO jobs_state (job_id, payload, status, code_hash, cache_id, timeout_ms, attempts, created_at, started_at)
SELECT g, '{}'::jsonb, 'running', 'bench', 'w' || (g %% 50), 30000, 1, now() - (g %% 3600) * interval '1 second',
       now() - (g %% 3600) * interval '1 second'
FROM generate_series(%(start)s, %(stop)s) g;
UPDATE jobs_state
SET status = CASE WHEN job_id %% 10 = 0 THEN 'failed' ELSE 'succeeded' END,
    finished_at = started_at + interval '5 ms', updated_at = started_at + interval '5 ms',
    duration_ms = (job_id %% 40) + 0.5, cold_start = job_id %% 7 = 0,
    error = CASE WHEN job_id %% 10 = 0 THEN '{"name": "Error", "message": "bench failure", "stack": null}'::jsonb END
WHERE job_id BETWEEN %(start)s AND %(stop)s;
"""


async def time_endpoint(client: httpx.AsyncClient, path: str, n: int = 30) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = await client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text[:300]
    return sorted(out)


async def main(jobs: int) -> None:
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp()))
    dsn = pg.start()
    try:
        migrate(dsn)
        t0 = time.perf_counter()
        with psycopg.connect(dsn) as conn:
            for start in range(1, jobs + 1, 100_000):
                for statement in SEED.strip().split(";\n"):
                    conn.execute(statement.encode(), {"start": start, "stop": min(jobs, start + 99_999)})
                conn.commit()
            conn.execute("ANALYZE")
        print(f"seed_jobs {jobs} in {time.perf_counter() - t0:.0f} s", flush=True)
        app = create_app(Settings(), dsn, "http://127.0.0.1:9")
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for path in ("/api/metrics?range_minutes=60", "/api/metrics?range_minutes=1440", "/metrics",
                             "/api/jobs?limit=50", "/api/jobs?status=failed&limit=50"):
                    ms = await time_endpoint(client, path)
                    print(f"{path} p50_ms {statistics.median(ms):.1f} max_ms {ms[-1]:.1f}", flush=True)
    finally:
        pg.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1_000_000)
    asyncio.run(main(ap.parse_args().jobs))
