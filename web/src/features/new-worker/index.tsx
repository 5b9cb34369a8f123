import { useMutation } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { PlayIcon } from "lucide-react";
import { useCallback, useMemo, useState } from "react";
import { CodeEditor } from "@/components/code-editor";
import { PageHeader } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { api } from "@/lib/api";
import { checkJson } from "@/lib/json";
import type { JobSubmit } from "@/lib/types";
import { cn } from "@/lib/utils";
import { RunResult } from "./components/run-result";
import { SaveWorkerDialog } from "./components/save-worker-dialog";
import { templateById, TEMPLATES } from "./templates";

const route = getRouteApi("/workers/new");
const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);

function intOrUndefined(s: string): number | undefined {
  const n = Number(s);
  return s.trim() !== "" && Number.isInteger(n) && n > 0 ? n : undefined;
}

export function NewWorkerPage() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const initial = templateById(search.template);
  const [code, setCode] = useState(initial.code);
  const [payload, setPayload] = useState(initial.payload);
  const [cacheId, setCacheId] = useState("");
  const [timeoutMs, setTimeoutMs] = useState("");
  const [maxAttempts, setMaxAttempts] = useState("");
  const check = useMemo(() => checkJson(payload), [payload]);
  const optionError =
    (timeoutMs && intOrUndefined(timeoutMs) === undefined && "timeout_ms must be a positive whole number") ||
    (maxAttempts && intOrUndefined(maxAttempts) === undefined && "max_attempts must be a positive whole number") ||
    null;

  const run = useMutation({
    mutationFn: (body: JobSubmit) => api.submitJob(body, 30),
  });

  const submit = useCallback(() => {
    if (!check.ok || optionError || !code.trim() || run.isPending) return;
    run.mutate({
      code,
      payload: check.value,
      cache_id: cacheId.trim() || undefined,
      timeout_ms: intOrUndefined(timeoutMs),
      max_attempts: intOrUndefined(maxAttempts),
    });
  }, [check, optionError, code, cacheId, timeoutMs, maxAttempts, run]);

  const pick = (id: (typeof TEMPLATES)[number]["id"]) => {
    const t = templateById(id);
    setCode(t.code);
    setPayload(t.payload);
    void navigate({ search: { template: id }, replace: true });
  };
  const active = search.template ?? "sum";
  const canRun = check.ok && !optionError && !!code.trim();

  return (
    <>
      <PageHeader
        title="New worker"
        description="Write JavaScript, give it a payload, run it as a durable job."
        actions={
          <>
            <SaveWorkerDialog code={code} cacheId={cacheId.trim() || undefined} />
            <Button onClick={submit} disabled={!canRun || run.isPending} data-testid="run">
              <PlayIcon /> {run.isPending ? "Running…" : "Run"}
              <kbd className="ml-1 rounded bg-primary-foreground/15 px-1 font-sans text-[10px]">
                {isMac ? "⌘" : "Ctrl"}↵
              </kbd>
            </Button>
          </>
        }
      />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_340px]">
        <Card className="min-w-0">
          <CardHeader className="flex-row flex-wrap items-center justify-between gap-2">
            <div>
              <CardTitle>Code</CardTitle>
              <CardDescription className="mt-1">{templateById(active).description}</CardDescription>
            </div>
            <div className="flex gap-1 rounded-lg bg-muted p-1" role="group" aria-label="Templates">
              {TEMPLATES.map((t) => (
                <button
                  key={t.id}
                  type="button"
                  onClick={() => pick(t.id)}
                  className={cn(
                    "rounded-md px-2.5 py-1 text-xs font-medium text-muted-foreground transition-colors hover:text-foreground cursor-pointer",
                    active === t.id && "bg-background text-foreground shadow-sm",
                  )}
                >
                  {t.label}
                </button>
              ))}
            </div>
          </CardHeader>
          <CardContent>
            <CodeEditor
              value={code}
              onChange={setCode}
              onSubmit={submit}
              language="javascript"
              minHeight="22rem"
              maxHeight="36rem"
              ariaLabel="Worker code"
            />
          </CardContent>
        </Card>
        <div className="flex flex-col gap-6">
          <Card>
            <CardHeader>
              <CardTitle>Payload</CardTitle>
              <CardDescription>JSON passed to your code.</CardDescription>
            </CardHeader>
            <CardContent className="flex flex-col gap-2">
              <CodeEditor
                value={payload}
                onChange={setPayload}
                onSubmit={submit}
                language="json"
                minHeight="8rem"
                maxHeight="16rem"
                ariaLabel="Payload JSON"
              />
              <p
                data-testid="payload-status"
                className={cn("text-xs", check.ok ? "text-muted-foreground" : "text-destructive")}
              >
                {check.ok
                  ? "Valid JSON"
                  : `${check.error}${check.line ? ` (line ${check.line}, column ${check.column})` : ""}`}
              </p>
            </CardContent>
          </Card>
          <Card>
            <CardHeader>
              <CardTitle>Options</CardTitle>
            </CardHeader>
            <CardContent className="flex flex-col gap-3">
              <div className="flex flex-col gap-1.5">
                <Label htmlFor="cache-id">Cache id</Label>
                <Input
                  id="cache-id"
                  className="font-mono text-xs"
                  placeholder="none: a fresh isolate per run"
                  value={cacheId}
                  onChange={(e) => setCacheId(e.target.value)}
                />
              </div>
              <div className="grid grid-cols-2 gap-3">
                <div className="flex flex-col gap-1.5">
                  <Label htmlFor="timeout">timeout_ms</Label>
                  <Input
                    id="timeout"
                    inputMode="numeric"
                    placeholder="default"
                    value={timeoutMs}
                    onChange={(e) => setTimeoutMs(e.target.value)}
                  />
                </div>
                <div className="flex flex-col gap-1.5">
                  <Label htmlFor="attempts">max_attempts</Label>
                  <Input
                    id="attempts"
                    inputMode="numeric"
                    placeholder="default"
                    value={maxAttempts}
                    onChange={(e) => setMaxAttempts(e.target.value)}
                  />
                </div>
              </div>
              {optionError && <p className="text-xs text-destructive">{optionError}</p>}
            </CardContent>
          </Card>
        </div>
      </div>
      <RunResult mutation={run} />
    </>
  );
}
