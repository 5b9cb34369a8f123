import { XCircleIcon } from "lucide-react";
import type { JobError as JobErrorT } from "@/lib/types";

export function JobError({ error, testid = "job-error" }: { error: JobErrorT; testid?: string }) {
  return (
    <div className="overflow-hidden rounded-lg border border-red-500/30 bg-red-500/5" data-testid={testid}>
      <div className="flex items-start gap-2 px-4 py-3">
        <XCircleIcon className="mt-0.5 size-4 shrink-0 text-red-600 dark:text-red-400" />
        <p className="min-w-0 text-sm break-words">
          <span className="font-mono font-semibold text-red-700 dark:text-red-300">{error.name ?? "Error"}</span>
          {error.message && <span className="text-foreground">: {error.message}</span>}
        </p>
      </div>
      {error.stack && (
        <pre className="max-h-64 overflow-auto border-t border-red-500/20 bg-background/50 px-4 py-3 font-mono text-xs leading-relaxed text-muted-foreground">
          {error.stack}
        </pre>
      )}
    </div>
  );
}
