// The API lists throughput only for minutes that had jobs; charts need every bucket of the range,
// zeros included, or one busy minute fills the whole chart.
import type { Metrics } from "./types";

export interface ThroughputBucket {
  start: number; // epoch ms
  succeeded: number;
  failed: number;
}

/** At most ~60 buckets across `rangeMinutes` ending at `now`, each a whole number of minutes wide. */
export function bucketThroughput(
  points: Metrics["throughput"],
  rangeMinutes: number,
  now: number = Date.now(),
): ThroughputBucket[] {
  const width = Math.max(1, Math.ceil(rangeMinutes / 60)) * 60_000;
  const end = Math.floor(now / 60_000) * 60_000 + 60_000; // end of the current minute
  const count = Math.ceil((rangeMinutes * 60_000) / width);
  const first = end - count * width;
  const buckets: ThroughputBucket[] = Array.from({ length: count }, (_, i) => ({
    start: first + i * width,
    succeeded: 0,
    failed: 0,
  }));
  for (const p of points) {
    const t = Date.parse(p.minute);
    if (Number.isNaN(t) || t < first || t >= end) continue;
    const b = buckets[Math.floor((t - first) / width)];
    b.succeeded += p.succeeded ?? 0;
    b.failed += p.failed ?? 0;
  }
  return buckets;
}
