import { getRouteApi } from "@tanstack/react-router";
import { SearchIcon, XIcon } from "lucide-react";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { statusStyle } from "@/lib/status";
import { JOB_STATUSES, type JobStatus } from "@/lib/types";
import { cn } from "@/lib/utils";

const route = getRouteApi("/jobs/");

/** A text box that writes to the URL once typing pauses. */
function useDebouncedParam(value: string | undefined, write: (v: string | undefined) => void, ms = 300) {
  const [text, setText] = useState(value ?? "");
  useEffect(() => setText(value ?? ""), [value]);
  useEffect(() => {
    const v = text.trim() || undefined;
    if (v === value) return;
    const t = setTimeout(() => write(v), ms);
    return () => clearTimeout(t);
  }, [text, value, write, ms]);
  return [text, setText] as const;
}

export function JobFiltersBar() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const [q, setQ] = useDebouncedParam(search.q, (v) =>
    navigate({ search: (s) => ({ ...s, q: v }), replace: true }),
  );
  const [cache, setCache] = useDebouncedParam(search.cache_id, (v) =>
    navigate({ search: (s) => ({ ...s, cache_id: v }), replace: true }),
  );
  const any = !!(search.status || search.q || search.cache_id);

  return (
    <div className="flex flex-wrap items-center gap-2">
      <div className="relative w-full sm:w-72">
        <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" />
        <Input
          aria-label="Search errors"
          placeholder="Search in errors…"
          className="pl-8"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </div>
      <Select
        value={search.status ?? "all"}
        onValueChange={(v) =>
          navigate({ search: (s) => ({ ...s, status: v === "all" ? undefined : (v as JobStatus) }) })
        }
      >
        <SelectTrigger className="w-40" aria-label="Status">
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          <SelectItem value="all">All statuses</SelectItem>
          {JOB_STATUSES.map((s) => (
            <SelectItem key={s} value={s}>
              <span className={cn("inline-block size-2 rounded-full", statusStyle(s).dot)} />
              {statusStyle(s).label}
            </SelectItem>
          ))}
        </SelectContent>
      </Select>
      <Input
        aria-label="Cache or worker id"
        placeholder="Cache / worker id"
        className="w-full font-mono text-xs sm:w-48"
        value={cache}
        onChange={(e) => setCache(e.target.value)}
      />
      {any && (
        <Button variant="ghost" size="sm" onClick={() => navigate({ search: {} })}>
          <XIcon /> Reset
        </Button>
      )}
    </div>
  );
}
