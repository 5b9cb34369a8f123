import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { PlusIcon } from "lucide-react";
import { useMemo, useState } from "react";
import { CodeEditor } from "@/components/code-editor";
import { ErrorState } from "@/components/states";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { api, keys } from "@/lib/api";
import { checkJson } from "@/lib/json";
import { timeZones } from "@/lib/schedules";
import type { Misfire, Schedule, ScheduleIn, WorkerSummary } from "@/lib/types";
import { cn } from "@/lib/utils";
import { CRON_PRESETS, CronHelper, useCronPreview } from "./cron-helper";

function intOrUndefined(s: string): number | undefined {
  const n = Number(s);
  return s.trim() !== "" && Number.isInteger(n) && n > 0 ? n : undefined;
}

function Field({
  id,
  label,
  hint,
  children,
}: {
  id?: string;
  label: string;
  hint?: string;
  children: React.ReactNode;
}) {
  return (
    <div className="flex flex-col gap-1.5">
      <Label htmlFor={id}>{label}</Label>
      {children}
      {hint && <p className="text-xs text-muted-foreground">{hint}</p>}
    </div>
  );
}

type Target = "worker" | "code";

/** A new schedule: when (cron, zone, with a live preview), what (a saved worker or code), and how. */
export function CreateScheduleDialog({
  workers,
  open,
  onOpenChange,
  initialWorker,
  onCreated,
}: {
  workers: WorkerSummary[];
  open: boolean;
  onOpenChange: (open: boolean) => void;
  initialWorker?: string;
  onCreated: (s: Schedule) => void;
}) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogTrigger asChild>
        <Button>
          <PlusIcon /> New schedule
        </Button>
      </DialogTrigger>
      <DialogContent className="max-w-2xl">
        <DialogHeader>
          <DialogTitle>New schedule</DialogTitle>
          <DialogDescription>
            Runs a saved worker, or code of its own, whenever the cron expression fires.
          </DialogDescription>
        </DialogHeader>
        {/* Mounted while open only, so each opening starts from a clean form. */}
        {open && <ScheduleForm workers={workers} initialWorker={initialWorker} onCreated={onCreated} />}
      </DialogContent>
    </Dialog>
  );
}

function ScheduleForm({
  workers,
  initialWorker,
  onCreated,
}: {
  workers: WorkerSummary[];
  initialWorker?: string;
  onCreated: (s: Schedule) => void;
}) {
  const qc = useQueryClient();
  const zones = useMemo(timeZones, []);
  const [name, setName] = useState("");
  const [cron, setCron] = useState("*/5 * * * *");
  const [timezone, setTimezone] = useState("UTC");
  // Until picked: a saved worker when there is one (the list may arrive after the form opens).
  const [picked, setTarget] = useState<Target | null>(initialWorker ? "worker" : null);
  const target: Target = picked ?? (workers.length > 0 ? "worker" : "code");
  const [workerId, setWorkerId] = useState(initialWorker ?? "");
  const [code, setCode] = useState("return { firedAt: new Date().toISOString(), payload }\n");
  const [payload, setPayload] = useState("{}\n");
  const [misfire, setMisfire] = useState<Misfire>("skip");
  const [catchUpLimit, setCatchUpLimit] = useState("10");
  const [maxAttempts, setMaxAttempts] = useState("");
  const [timeoutMs, setTimeoutMs] = useState("");
  const [retryOnError, setRetryOnError] = useState(false);
  const [paused, setPaused] = useState(false);
  const check = useMemo(() => checkJson(payload), [payload]);
  const preview = useCronPreview(cron, timezone);
  const cronProblem = preview.problem;

  const create = useMutation({
    mutationFn: (body: ScheduleIn) => api.createSchedule(body),
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: keys.schedules });
      void qc.invalidateQueries({ queryKey: keys.workers });
      void qc.invalidateQueries({ queryKey: ["dashboard"] });
      onCreated(s);
    },
  });

  const problem =
    (!name.trim() && "Give the schedule a name") ||
    (!cron.trim() && "Write a cron expression") ||
    (target === "worker" && !workerId && "Pick the worker to run") ||
    (target === "code" && !code.trim() && "Write the code to run") ||
    (!check.ok && `Payload: ${check.error}`) ||
    (maxAttempts && intOrUndefined(maxAttempts) === undefined && "max_attempts must be a positive whole number") ||
    (timeoutMs && intOrUndefined(timeoutMs) === undefined && "timeout_ms must be a positive whole number") ||
    (misfire === "catch_up" &&
      intOrUndefined(catchUpLimit) === undefined &&
      "The catch-up limit must be a positive whole number") ||
    null;

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (problem || !check.ok || create.isPending) return;
    create.mutate({
      name: name.trim(),
      cron: cron.trim(),
      timezone: timezone.trim() || "UTC",
      worker_id: target === "worker" ? workerId : undefined,
      code: target === "code" ? code : undefined,
      payload: check.value as ScheduleIn["payload"],
      misfire,
      catch_up_limit: misfire === "catch_up" ? intOrUndefined(catchUpLimit) : undefined,
      max_attempts: intOrUndefined(maxAttempts),
      timeout_ms: intOrUndefined(timeoutMs),
      retry_on_error: retryOnError,
      paused,
    });
  };

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" aria-label="New schedule">
      <Field id="schedule-name" label="Name">
        <Input
          id="schedule-name"
          autoFocus
          placeholder="e.g. nightly-report"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </Field>

      <div className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_200px]">
        <Field id="schedule-cron" label="Cron">
          <Input
            id="schedule-cron"
            className="font-mono"
            placeholder="*/5 * * * *"
            value={cron}
            aria-invalid={!!cronProblem && !!cron.trim()}
            onChange={(e) => setCron(e.target.value)}
          />
        </Field>
        <Field id="schedule-tz" label="Time zone">
          <Input
            id="schedule-tz"
            list="schedule-zones"
            className="font-mono text-xs"
            placeholder="UTC"
            value={timezone}
            onChange={(e) => setTimezone(e.target.value)}
          />
          <datalist id="schedule-zones">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </Field>
      </div>
      <div className="-mt-2 flex flex-wrap gap-1" role="group" aria-label="Cron presets">
        {CRON_PRESETS.map((p) => (
          <button
            key={p.cron}
            type="button"
            onClick={() => setCron(p.cron)}
            className={cn(
              "cursor-pointer rounded-md border px-2 py-0.5 text-xs text-muted-foreground hover:bg-accent hover:text-foreground",
              cron.trim() === p.cron && "border-primary/40 bg-primary/5 text-foreground",
            )}
          >
            {p.label}
          </button>
        ))}
      </div>
      <p className="-mt-2 text-xs text-muted-foreground">
        5 fields (minute hour day month weekday), 6 with seconds first, or an alias such as @hourly.
      </p>
      <CronHelper preview={preview} />

      <Field label="Runs">
        <div className="flex gap-1 self-start rounded-lg bg-muted p-1" role="radiogroup" aria-label="Target">
          {(
            [
              ["worker", "Saved worker"],
              ["code", "Inline code"],
            ] as const
          ).map(([v, label]) => (
            <button
              key={v}
              type="button"
              role="radio"
              aria-checked={target === v}
              onClick={() => setTarget(v)}
              className={cn(
                "cursor-pointer rounded-md px-2.5 py-1 text-xs font-medium text-muted-foreground transition-colors hover:text-foreground",
                target === v && "bg-background text-foreground shadow-sm",
              )}
            >
              {label}
            </button>
          ))}
        </div>
      </Field>
      {target === "worker" ? (
        workers.length === 0 ? (
          <p className="rounded-lg border border-dashed px-3 py-3 text-center text-xs text-muted-foreground">
            No saved workers yet:{" "}
            <Link to="/workers/new" className="text-primary hover:underline">
              save one
            </Link>{" "}
            or run inline code.
          </p>
        ) : (
          <Select value={workerId} onValueChange={setWorkerId}>
            <SelectTrigger aria-label="Worker">
              <SelectValue placeholder="Pick a saved worker" />
            </SelectTrigger>
            <SelectContent>
              {workers.map((w) => (
                <SelectItem key={w.worker_id} value={w.worker_id}>
                  {w.name} <span className="ml-1 font-mono text-xs text-muted-foreground">v{w.version}</span>
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
        )
      ) : (
        <CodeEditor
          value={code}
          onChange={setCode}
          language="javascript"
          minHeight="6rem"
          maxHeight="14rem"
          ariaLabel="Schedule code"
        />
      )}

      <Field label="Payload" hint={check.ok ? "JSON passed to each run." : undefined}>
        <CodeEditor
          value={payload}
          onChange={setPayload}
          language="json"
          minHeight="4rem"
          maxHeight="10rem"
          ariaLabel="Schedule payload JSON"
        />
        {!check.ok && (
          <p className="text-xs text-destructive">
            {check.error}
            {check.line ? ` (line ${check.line}, column ${check.column})` : ""}
          </p>
        )}
      </Field>

      <div className="grid gap-3 sm:grid-cols-2">
        <Field
          label="Missed ticks"
          hint={
            misfire === "skip"
              ? "Ticks missed while no dispatcher ran are skipped."
              : "The newest missed ticks run when dispatch is back, up to the limit."
          }
        >
          <Select value={misfire} onValueChange={(v) => setMisfire(v as Misfire)}>
            <SelectTrigger aria-label="Misfire policy">
              <SelectValue />
            </SelectTrigger>
            <SelectContent>
              <SelectItem value="skip">Skip them</SelectItem>
              <SelectItem value="catch_up">Catch up</SelectItem>
            </SelectContent>
          </Select>
        </Field>
        {misfire === "catch_up" && (
          <Field id="schedule-catchup" label="Catch up at most">
            <Input
              id="schedule-catchup"
              inputMode="numeric"
              value={catchUpLimit}
              onChange={(e) => setCatchUpLimit(e.target.value)}
            />
          </Field>
        )}
      </div>
      <div className="grid grid-cols-2 gap-3">
        <Field id="schedule-attempts" label="max_attempts">
          <Input
            id="schedule-attempts"
            inputMode="numeric"
            placeholder="default"
            value={maxAttempts}
            onChange={(e) => setMaxAttempts(e.target.value)}
          />
        </Field>
        <Field id="schedule-timeout" label="timeout_ms">
          <Input
            id="schedule-timeout"
            inputMode="numeric"
            placeholder="default"
            value={timeoutMs}
            onChange={(e) => setTimeoutMs(e.target.value)}
          />
        </Field>
      </div>
      <div className="flex flex-wrap gap-x-6 gap-y-2 text-sm">
        <label className="flex cursor-pointer items-center gap-2">
          <input
            type="checkbox"
            className="size-4 accent-primary"
            checked={retryOnError}
            onChange={(e) => setRetryOnError(e.target.checked)}
          />
          Retry when the code throws
        </label>
        <label className="flex cursor-pointer items-center gap-2">
          <input
            type="checkbox"
            className="size-4 accent-primary"
            checked={paused}
            onChange={(e) => setPaused(e.target.checked)}
          />
          Start paused
        </label>
      </div>

      {create.isError && <ErrorState title="Not created" error={create.error} />}
      <DialogFooter className="items-center">
        {(problem || cronProblem) && (
          <p className="mr-auto text-xs text-muted-foreground" data-testid="form-problem">
            {problem ?? "Fix the cron expression or the zone first"}
          </p>
        )}
        <Button type="submit" disabled={!!problem || !!cronProblem || create.isPending}>
          {create.isPending ? "Creating…" : "Create schedule"}
        </Button>
      </DialogFooter>
    </form>
  );
}
