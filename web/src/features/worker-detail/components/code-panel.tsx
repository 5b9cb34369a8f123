import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CheckIcon, PencilIcon, SaveIcon, XIcon } from "lucide-react";
import { useState } from "react";
import { CodeEditor } from "@/components/code-editor";
import { ErrorState } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { formatDateTime, formatRelative, shortHash } from "@/lib/format";
import type { SavedWorker } from "@/lib/types";

/**
 * The worker's code, read-only, with a picker for any earlier version. Edit opens the shown code (an old
 * version too: saving it restores it) and saves it as the next version.
 */
export function CodePanel({
  worker,
  version,
  onVersion,
}: {
  worker: SavedWorker;
  /** The version shown; the current one when it is the worker's own. */
  version: number;
  onVersion: (v: number | undefined) => void;
}) {
  const qc = useQueryClient();
  const current = version === worker.version;
  const old = useQuery({
    queryKey: keys.workerVersion(worker.worker_id, version),
    queryFn: ({ signal }) => api.getWorkerVersion(worker.worker_id, version, signal),
    enabled: !current,
    staleTime: Number.POSITIVE_INFINITY, // a version never changes
  });
  const [draft, setDraft] = useState<string | null>(null);
  const [notice, setNotice] = useState<React.ReactNode>(null);
  const save = useMutation({
    mutationFn: (code: string) => api.saveWorkerVersion(worker.worker_id, code),
    onSuccess: (w) => {
      qc.setQueryData(keys.worker(w.worker_id), w);
      void qc.invalidateQueries({ queryKey: keys.workers });
      setNotice(
        w.version === worker.version ? (
          <>The code is the same as v{w.version}: no new version was made.</>
        ) : (
          <>
            Saved as <span className="font-mono font-medium">v{w.version}</span>. Runs from now on use it; jobs already
            created keep theirs.
          </>
        ),
      );
      setDraft(null);
      onVersion(undefined);
    },
  });

  const versions = [...(worker.versions ?? [])].sort((a, b) => b.version - a.version);
  if (!versions.some((v) => v.version === worker.version))
    versions.unshift({
      version: worker.version,
      code_hash: worker.code_hash,
      cache_id: worker.cache_id,
      created_at: worker.updated_at,
      code: null,
    });
  const shown = current ? worker.code : old.data?.code;
  const meta = current ? worker : old.data;
  const editing = draft !== null;

  return (
    <Card className="min-w-0" data-testid="code-panel">
      <CardHeader className="flex-row flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <CardTitle>Code</CardTitle>
          <CardDescription className="mt-1">
            {editing ? (
              <>Editing; saving makes v{worker.version + 1} (unless the code is unchanged).</>
            ) : current ? (
              <>
                v{version} is current{meta && <> · code {shortHash(meta.code_hash, 12)}</>}
              </>
            ) : (
              <span className="text-amber-700 dark:text-amber-400">
                Showing v{version}, an older version; the current one is v{worker.version}.
              </span>
            )}
          </CardDescription>
        </div>
        <div className="flex items-center gap-2">
          <Select
            value={String(version)}
            onValueChange={(v) => onVersion(Number(v) === worker.version ? undefined : Number(v))}
            disabled={editing}
          >
            <SelectTrigger className="h-8 w-44 text-xs" aria-label="Version">
              <SelectValue />
            </SelectTrigger>
            <SelectContent>
              {versions.map((v) => (
                <SelectItem key={v.version} value={String(v.version)} title={formatDateTime(v.created_at)}>
                  <span className="font-mono">v{v.version}</span>{" "}
                  <span className="ml-1 text-muted-foreground">
                    {v.version === worker.version ? "current" : formatRelative(v.created_at)}
                  </span>
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
          {editing ? (
            <>
              <Button variant="outline" size="sm" onClick={() => setDraft(null)} disabled={save.isPending}>
                <XIcon /> Cancel
              </Button>
              <Button
                size="sm"
                onClick={() => draft.trim() && save.mutate(draft)}
                disabled={!draft.trim() || save.isPending}
              >
                <SaveIcon /> {save.isPending ? "Saving…" : "Save as new version"}
              </Button>
            </>
          ) : (
            <Button
              variant="outline"
              size="sm"
              disabled={shown == null}
              onClick={() => {
                save.reset();
                setNotice(null);
                setDraft(shown ?? "");
              }}
            >
              <PencilIcon /> {current ? "Edit" : `Edit v${version}`}
            </Button>
          )}
        </div>
      </CardHeader>
      <CardContent className="flex flex-col gap-3">
        {notice && !editing && (
          <p role="status" className="flex items-center gap-2 text-sm text-muted-foreground">
            <CheckIcon className="size-4 shrink-0 text-emerald-500" /> <span>{notice}</span>
          </p>
        )}
        {save.isError && <ErrorState title="Not saved" error={save.error} />}
        {editing ? (
          <CodeEditor
            value={draft}
            onChange={setDraft}
            onSubmit={() => draft.trim() && save.mutate(draft)}
            language="javascript"
            minHeight="18rem"
            maxHeight="36rem"
            ariaLabel="Worker code"
          />
        ) : shown != null ? (
          <CodeEditor value={shown} readOnly language="javascript" minHeight="12rem" maxHeight="36rem" />
        ) : old.isError ? (
          <ErrorState error={old.error} title={`v${version} could not be loaded`} onRetry={() => old.refetch()} />
        ) : (
          <Skeleton className="h-48" />
        )}
      </CardContent>
    </Card>
  );
}
