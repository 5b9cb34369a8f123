import type { UseMutationResult } from "@tanstack/react-query";
import { PlayIcon } from "lucide-react";
import { useMemo, useState } from "react";
import { CodeEditor } from "@/components/code-editor";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { checkJson } from "@/lib/json";
import type { Job, WorkerRun } from "@/lib/types";
import { cn } from "@/lib/utils";

/** A payload editor and the Run button; the outcome shows in the page's RunResult. */
export function RunPanel({ version, run }: { version: number; run: UseMutationResult<Job, Error, WorkerRun> }) {
  const [payload, setPayload] = useState("{}\n");
  const check = useMemo(() => checkJson(payload), [payload]);
  const submit = () => {
    if (check.ok && !run.isPending) run.mutate({ payload: check.value as WorkerRun["payload"] });
  };
  return (
    <Card>
      <CardHeader>
        <CardTitle>Run</CardTitle>
        <CardDescription>Runs the current version (v{version}) as a job with this payload.</CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-2">
        <CodeEditor
          value={payload}
          onChange={setPayload}
          onSubmit={submit}
          language="json"
          minHeight="7rem"
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
        <Button onClick={submit} disabled={!check.ok || run.isPending} data-testid="run" className="self-start">
          <PlayIcon /> {run.isPending ? "Running…" : "Run"}
        </Button>
      </CardContent>
    </Card>
  );
}
