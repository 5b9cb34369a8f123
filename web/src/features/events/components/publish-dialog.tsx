import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { CheckIcon, SendIcon } from "lucide-react";
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
import { api, keys } from "@/lib/api";
import { checkJson } from "@/lib/json";
import type { PublishIn } from "@/lib/types";
import { cn } from "@/lib/utils";

const NAME = /^[A-Za-z0-9_.:/-]+$/;

/** Publish one event by hand: every subscribed worker gets a job with its data. */
export function PublishDialog() {
  const [open, setOpen] = useState(false);
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [data, setData] = useState("{}\n");
  const [key, setKey] = useState("");
  const check = useMemo(() => checkJson(data), [data]);
  const publish = useMutation({
    mutationFn: (body: PublishIn) => api.publishEvent(body),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.published });
      void qc.invalidateQueries({ queryKey: keys.jobs });
    },
  });
  const nameProblem = name.trim() && !NAME.test(name.trim()) ? "Use letters, digits and _ . : / - only" : null;
  const canPublish = !!name.trim() && !nameProblem && check.ok && !publish.isPending;

  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (o) publish.reset();
      }}
    >
      <DialogTrigger asChild>
        <Button>
          <SendIcon /> Publish event
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Publish an event</DialogTitle>
          <DialogDescription>
            Every worker subscribed to its name gets one job, whose payload is the event{" "}
            <code className="font-mono">{"{name, data, …}"}</code>.
          </DialogDescription>
        </DialogHeader>
        {publish.isSuccess ? (
          <div className="flex flex-col gap-2 text-sm" role="status">
            <p className="flex items-center gap-2">
              <CheckIcon className="size-4 shrink-0 text-emerald-500" />
              <span>
                {publish.data.created ? "Published" : "Already published with this key:"} event{" "}
                <span className="font-mono">#{publish.data.event_id}</span>
              </span>
            </p>
            <p className="text-muted-foreground">
              {publish.data.job_ids.length === 0 ? (
                "No worker is subscribed to it: nothing started."
              ) : (
                <>
                  Started{" "}
                  {publish.data.job_ids.map((id, i) => (
                    <span key={id}>
                      {i > 0 && ", "}
                      <Link
                        to="/jobs/$jobId"
                        params={{ jobId: String(id) }}
                        className="font-mono text-primary hover:underline"
                      >
                        job #{id}
                      </Link>
                    </span>
                  ))}
                  .
                </>
              )}
            </p>
          </div>
        ) : (
          <form
            id="publish-event"
            className="flex flex-col gap-3"
            onSubmit={(e) => {
              e.preventDefault();
              if (canPublish && check.ok)
                publish.mutate({
                  name: name.trim(),
                  data: check.value as PublishIn["data"],
                  idempotency_key: key.trim() || undefined,
                });
            }}
          >
            <div className="flex flex-col gap-1.5">
              <Label htmlFor="event-name">Name</Label>
              <Input
                id="event-name"
                autoFocus
                className="font-mono"
                placeholder="e.g. order.paid"
                value={name}
                aria-invalid={!!nameProblem}
                onChange={(e) => setName(e.target.value)}
              />
              {nameProblem && <p className="text-xs text-destructive">{nameProblem}</p>}
            </div>
            <div className="flex flex-col gap-1.5">
              <Label>Data</Label>
              <CodeEditor
                value={data}
                onChange={setData}
                language="json"
                minHeight="5rem"
                maxHeight="14rem"
                ariaLabel="Event data JSON"
              />
              <p className={cn("text-xs", check.ok ? "text-muted-foreground" : "text-destructive")}>
                {check.ok
                  ? "Valid JSON"
                  : `${check.error}${check.line ? ` (line ${check.line}, column ${check.column})` : ""}`}
              </p>
            </div>
            <div className="flex flex-col gap-1.5">
              <Label htmlFor="event-key">Idempotency key (optional)</Label>
              <Input
                id="event-key"
                className="font-mono text-xs"
                placeholder="a repeat with the same key starts nothing more"
                value={key}
                onChange={(e) => setKey(e.target.value)}
              />
            </div>
          </form>
        )}
        {publish.isError && <ErrorState title="Not published" error={publish.error} />}
        <DialogFooter>
          {publish.isSuccess ? (
            <Button onClick={() => setOpen(false)}>Done</Button>
          ) : (
            <Button type="submit" form="publish-event" disabled={!canPublish}>
              <SendIcon /> {publish.isPending ? "Publishing…" : "Publish"}
            </Button>
          )}
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
