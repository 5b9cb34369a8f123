import { Link } from "@tanstack/react-router";
import { ChevronRightIcon } from "lucide-react";
import type * as React from "react";
import { JsonBlock } from "@/components/json-block";
import { RelativeTime } from "@/components/relative-time";
import { previewJson } from "@/lib/json";
import type { QueueMessage } from "@/lib/types";

function jobIdOf(message: unknown): number | null {
  const id = (message as { job_id?: unknown } | null)?.job_id;
  return typeof id === "number" ? id : null;
}

/** A dead letter reads best as its error; anything else as one line of JSON. */
function summary(message: unknown): string {
  const err = (message as { error?: { name?: string; message?: string } } | null)?.error;
  if (err && typeof err === "object") return `${err.name ?? "Error"}: ${err.message ?? ""}`;
  return previewJson(message, 90);
}

/** Messages as expandable rows: a one-line preview, the full JSON on click. */
export function MessageList({
  messages,
  action,
}: {
  messages: QueueMessage[];
  action?: (m: QueueMessage) => React.ReactNode;
}) {
  return (
    <ul className="divide-y rounded-lg border" data-testid="message-list">
      {messages.map((m) => (
        <li key={m.msg_id}>
          <details className="group">
            <summary className="flex cursor-pointer list-none items-center gap-3 px-3 py-2 text-sm hover:bg-muted/40">
              <ChevronRightIcon className="size-3.5 shrink-0 text-muted-foreground transition-transform group-open:rotate-90" />
              <span className="w-16 shrink-0 font-mono text-xs">#{m.msg_id}</span>
              <span className="min-w-0 flex-1 truncate font-mono text-xs text-muted-foreground">
                {summary(m.message)}
              </span>
              {jobIdOf(m.message) != null && (
                <Link
                  to="/jobs/$jobId"
                  params={{ jobId: String(jobIdOf(m.message)) }}
                  onClick={(e) => e.stopPropagation()}
                  className="shrink-0 font-mono text-xs text-primary hover:underline"
                >
                  job #{jobIdOf(m.message)}
                </Link>
              )}
              <span className="hidden text-xs text-muted-foreground sm:inline">read {m.read_ct}×</span>
              <RelativeTime value={m.enqueued_at} className="w-16 text-right text-xs text-muted-foreground" />
              {action && (
                <span onClick={(e) => e.stopPropagation()} className="shrink-0">
                  {action(m)}
                </span>
              )}
            </summary>
            <div className="px-3 pb-3">
              <JsonBlock value={m.message} />
            </div>
          </details>
        </li>
      ))}
    </ul>
  );
}
