import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { RotateCcwIcon, SkullIcon, Trash2Icon } from "lucide-react";
import { useState } from "react";
import { EmptyState, ErrorState, errorMessage } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { MessageList } from "./message-list";

export function DeadLetters() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.deadLetters, queryFn: ({ signal }) => api.deadLetters(signal) });
  const [notice, setNotice] = useState<React.ReactNode>(null);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.deadLetters });
    void qc.invalidateQueries({ queryKey: keys.queues });
    void qc.invalidateQueries({ queryKey: keys.jobs });
  };
  const replay = useMutation({
    mutationFn: api.replayDeadLetter,
    onSuccess: (r) => {
      setNotice(
        <>
          Replayed as{" "}
          <Link to="/jobs/$jobId" params={{ jobId: String(r.job_id) }} className="font-mono text-primary hover:underline">
            job #{r.job_id}
          </Link>
        </>,
      );
      refresh();
    },
  });
  const replayAll = useMutation({
    mutationFn: api.replayAllDeadLetters,
    onSuccess: (r) => {
      setNotice(`Replayed ${r.replayed} message${r.replayed === 1 ? "" : "s"}.`);
      refresh();
    },
  });
  const count = q.data?.messages.length ?? 0;
  const err = replay.error ?? replayAll.error;

  return (
    <Card data-testid="dead-letters">
      <CardHeader className="flex-row flex-wrap items-start justify-between gap-3">
        <div>
          <CardTitle className="flex items-center gap-2">
            <SkullIcon className="size-4 text-fuchsia-500" /> Dead letters
          </CardTitle>
          <CardDescription className="mt-1">
            Jobs that used up their attempts. Replay sends one back to the queue as a new job.
          </CardDescription>
        </div>
        <div className="flex gap-2">
          <Button
            variant="outline"
            size="sm"
            disabled={count === 0 || replayAll.isPending}
            onClick={() => replayAll.mutate()}
          >
            <RotateCcwIcon /> Replay all
          </Button>
          <PurgeDialog count={count} onDone={(n) => { setNotice(`Purged ${n} message${n === 1 ? "" : "s"}.`); refresh(); }} />
        </div>
      </CardHeader>
      <div className="px-5 pb-5">
        {notice && <p className="mb-3 text-sm text-muted-foreground" role="status">{notice}</p>}
        {err && <ErrorState error={err} className="mb-3" />}
        {q.isPending ? (
          <Skeleton className="h-20" />
        ) : q.isError ? (
          <ErrorState error={q.error} onRetry={() => q.refetch()} />
        ) : count === 0 ? (
          <EmptyState title="No dead letters" icon={<SkullIcon className="size-5" />}>
            Nothing has exhausted its retries.
          </EmptyState>
        ) : (
          <MessageList
            messages={q.data.messages}
            action={(m) => (
              <Button
                variant="outline"
                size="sm"
                disabled={replay.isPending && replay.variables === m.msg_id}
                onClick={(e) => {
                  e.preventDefault();
                  replay.mutate(m.msg_id);
                }}
              >
                <RotateCcwIcon /> Replay
              </Button>
            )}
          />
        )}
      </div>
    </Card>
  );
}

function PurgeDialog({ count, onDone }: { count: number; onDone: (n: number) => void }) {
  const [open, setOpen] = useState(false);
  const purge = useMutation({
    mutationFn: api.purgeDeadLetters,
    onSuccess: (r) => {
      setOpen(false);
      onDone(r.purged);
    },
  });
  return (
    <Dialog open={open} onOpenChange={(o) => { setOpen(o); if (o) purge.reset(); }}>
      <DialogTrigger asChild>
        <Button variant="outline" size="sm" disabled={count === 0} className="text-destructive hover:text-destructive">
          <Trash2Icon /> Purge
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Purge the dead-letter queue?</DialogTitle>
          <DialogDescription>
            This deletes {count} dead letter{count === 1 ? "" : "s"} for good. Their jobs stay in the job list as
            dead, but they can no longer be replayed.
          </DialogDescription>
        </DialogHeader>
        {purge.isError && <p className="text-sm text-destructive">{errorMessage(purge.error)}</p>}
        <DialogFooter>
          <DialogClose asChild>
            <Button variant="outline">Keep them</Button>
          </DialogClose>
          <Button variant="destructive" onClick={() => purge.mutate()} disabled={purge.isPending}>
            {purge.isPending ? "Purging…" : `Purge ${count}`}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
