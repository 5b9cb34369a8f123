import { ChevronRightIcon, InboxIcon } from "lucide-react";
import { useState } from "react";
import { JsonBlock } from "@/components/json-block";
import { RelativeTime } from "@/components/relative-time";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { previewJson } from "@/lib/json";
import type { InboxEvent } from "@/lib/types";
import { cn } from "@/lib/utils";

function InboxRow({ event }: { event: InboxEvent }) {
  const [open, setOpen] = useState(false);
  return (
    <li className="flex flex-col gap-1 py-2 first:pt-0 last:pb-0" data-testid="inbox-event" data-type={event.type}>
      <div className="flex items-center gap-2 text-sm">
        <code className="min-w-0 truncate font-mono font-medium">{event.type}</code>
        <span className="ml-auto shrink-0 text-xs text-muted-foreground">
          <RelativeTime value={event.received_at} />
        </span>
      </div>
      <p className="text-xs text-muted-foreground">
        {event.taken_by ? (
          <>
            taken by step <code className="font-mono text-foreground">{event.taken_by}</code>
          </>
        ) : (
          <span className="text-violet-700 dark:text-violet-300">not taken yet</span>
        )}
      </p>
      <button
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        className="flex min-w-0 cursor-pointer items-center gap-1 text-left font-mono text-xs text-muted-foreground hover:text-foreground"
      >
        <ChevronRightIcon className={cn("size-3 shrink-0 transition-transform", open && "rotate-90")} />
        <span className="truncate">{previewJson(event.payload, 60) || "null"}</span>
      </button>
      {open && <JsonBlock value={event.payload} label={`Payload of event ${event.inbox_id}`} />}
    </li>
  );
}

/** The events sent to a run, newest first, and which step took each. */
export function Inbox({ events }: { events: InboxEvent[] }) {
  return (
    <Card data-testid="inbox">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <InboxIcon className="size-4 text-muted-foreground" />
          Inbox
          <span className="rounded bg-muted px-1.5 text-xs font-normal text-muted-foreground tabular-nums">
            {events.length}
          </span>
        </CardTitle>
      </CardHeader>
      <CardContent>
        {events.length === 0 ? (
          <p className="text-sm text-muted-foreground">No events sent to this run yet.</p>
        ) : (
          <ol className="flex flex-col divide-y">
            {events.map((e) => (
              <InboxRow key={e.inbox_id} event={e} />
            ))}
          </ol>
        )}
      </CardContent>
    </Card>
  );
}
