import { useEffect, useState } from "react";
import { formatDateTime, formatRelative } from "@/lib/format";

// One shared ticking clock so a table of 100 rows sets one interval, not 100.
let now = Date.now();
const subs = new Set<(n: number) => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function useNow(): number {
  const [n, setN] = useState(now);
  useEffect(() => {
    subs.add(setN);
    if (!timer)
      timer = setInterval(() => {
        now = Date.now();
        for (const s of subs) s(now);
      }, 5000);
    return () => {
      subs.delete(setN);
      if (subs.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    };
  }, []);
  return n;
}

export function RelativeTime({ value, className }: { value: string | null | undefined; className?: string }) {
  const n = useNow();
  if (!value) return <span className={className}>—</span>;
  return (
    <time dateTime={value} title={formatDateTime(value)} className={className}>
      {formatRelative(value, Math.max(n, Date.now()))}
    </time>
  );
}
