import { useMutation, useQueryClient } from "@tanstack/react-query";
import { CheckIcon, InboxIcon, SendIcon } from "lucide-react";
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
} from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { api, keys } from "@/lib/api";
import { checkJson } from "@/lib/json";
import type { Job, SendEventIn } from "@/lib/types";
import { cn } from "@/lib/utils";

const MAX_TYPE = 200;

/** The button that opens the page's SendEventDialog. */
export function SendEventButton({
  onClick,
  variant = "default",
  size = "default",
}: {
  onClick: () => void;
  variant?: "default" | "outline";
  size?: "default" | "sm";
}) {
  return (
    <Button variant={variant} size={size} onClick={onClick}>
      <SendIcon /> Send event
    </Button>
  );
}

/**
 * Sends an event to a workflow run: it wakes the step waiting for its type, or waits in the run's
 * inbox until a step asks for that type. The type starts as the one the run waits for. The page holds
 * one, apart from the buttons that open it: a delivered event moves the run on at once, and the
 * waiting callout that opened it goes away while the dialog still has its answer to show.
 */
export function SendEventDialog({
  job,
  open,
  onOpenChange,
}: {
  job: Pick<Job, "job_id" | "waiting_for">;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent>
        {/* Mounted per opening (the content unmounts when closed): each starts afresh. */}
        <SendEventForm job={job} onDone={() => onOpenChange(false)} />
      </DialogContent>
    </Dialog>
  );
}

function SendEventForm({ job, onDone }: { job: Pick<Job, "job_id" | "waiting_for">; onDone: () => void }) {
  const qc = useQueryClient();
  // What the run waits for when the dialog opens; it may stop waiting while the dialog is open.
  const [waitsFor] = useState(job.waiting_for);
  const [type, setType] = useState(waitsFor?.event_type ?? "");
  const [payload, setPayload] = useState("{}\n");
  const check = useMemo(() => checkJson(payload), [payload]);
  const send = useMutation({
    mutationFn: (body: SendEventIn) => api.sendEvent(job.job_id, body),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.job(job.job_id) });
      void qc.invalidateQueries({ queryKey: keys.jobs });
    },
  });
  const trimmed = type.trim();
  const typeProblem = trimmed.length > MAX_TYPE ? `At most ${MAX_TYPE} characters (this is ${trimmed.length})` : null;
  const canSend = !!trimmed && !typeProblem && check.ok && !send.isPending;

  return (
    <>
      <DialogHeader>
        <DialogTitle>Send an event to job #{job.job_id}</DialogTitle>
        <DialogDescription>
          {waitsFor ? (
            <>
              The step <code className="font-mono">{waitsFor.step}</code> waits for{" "}
              <code className="font-mono">{waitsFor.event_type}</code>; it receives{" "}
              <code className="font-mono">{"{type, payload, timestamp}"}</code>.
            </>
          ) : (
            "A step waiting for its type receives it; until one does, it waits in the run's inbox."
          )}
        </DialogDescription>
      </DialogHeader>
      {send.isSuccess ? (
        <div className="flex items-start gap-2 text-sm" role="status" data-testid="send-event-result">
          {send.data.delivered_to ? (
            <>
              <CheckIcon className="mt-0.5 size-4 shrink-0 text-emerald-500" />
              <span>
                Delivered to the step <code className="font-mono font-medium">{send.data.delivered_to}</code>: the
                run goes on.
              </span>
            </>
          ) : (
            <>
              <InboxIcon className="mt-0.5 size-4 shrink-0 text-violet-500" />
              <span>
                Kept in the inbox (#{send.data.inbox_id}): no step waits for{" "}
                <code className="font-mono font-medium">{send.data.type}</code> yet. The first that does receives
                it.
              </span>
            </>
          )}
        </div>
      ) : (
        <form
          id="send-event"
          className="flex flex-col gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            if (canSend && check.ok) send.mutate({ type: trimmed, payload: check.value as SendEventIn["payload"] });
          }}
        >
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="send-event-type">Type</Label>
            <Input
              id="send-event-type"
              className="font-mono"
              placeholder="e.g. approved"
              value={type}
              autoFocus={!waitsFor}
              aria-invalid={!!typeProblem}
              onChange={(e) => setType(e.target.value)}
            />
            {typeProblem && <p className="text-xs text-destructive">{typeProblem}</p>}
          </div>
          <div className="flex flex-col gap-1.5">
            <Label>Payload</Label>
            <CodeEditor
              value={payload}
              onChange={setPayload}
              language="json"
              minHeight="5rem"
              maxHeight="14rem"
              ariaLabel="Event payload JSON"
            />
            <p
              className={cn("text-xs", check.ok ? "text-muted-foreground" : "text-destructive")}
              data-testid="event-payload-status"
            >
              {check.ok
                ? "Valid JSON"
                : `${check.error}${check.line ? ` (line ${check.line}, column ${check.column})` : ""}`}
            </p>
          </div>
        </form>
      )}
      {send.isError && <ErrorState title="Not sent" error={send.error} />}
      <DialogFooter>
        {send.isSuccess ? (
          <Button onClick={onDone}>Done</Button>
        ) : (
          <Button type="submit" form="send-event" disabled={!canSend}>
            <SendIcon /> {send.isPending ? "Sending…" : "Send"}
          </Button>
        )}
      </DialogFooter>
    </>
  );
}
