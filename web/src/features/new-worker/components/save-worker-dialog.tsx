import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { CheckIcon, SaveIcon } from "lucide-react";
import { useState } from "react";
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

export function SaveWorkerDialog({ code, cacheId }: { code: string; cacheId?: string }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: () => api.saveWorker({ name: name.trim(), code, cache_id: cacheId }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.workers }),
  });
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (o) save.reset();
      }}
    >
      <DialogTrigger asChild>
        <Button variant="outline" disabled={!code.trim()}>
          <SaveIcon /> Save
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Save worker</DialogTitle>
          <DialogDescription>Keep this code under a name, to run it again with a new payload.</DialogDescription>
        </DialogHeader>
        {save.isSuccess ? (
          <p className="flex items-center gap-2 text-sm">
            <CheckIcon className="size-4 text-emerald-500" /> Saved as{" "}
            <Link
              to="/workers/$workerId"
              params={{ workerId: save.data.worker_id }}
              search={{}}
              className="font-mono text-primary hover:underline"
            >
              {save.data.worker_id}
            </Link>
            <span className="text-muted-foreground">v{save.data.version}</span>
          </p>
        ) : (
          <form
            id="save-worker"
            className="flex flex-col gap-1.5"
            onSubmit={(e) => {
              e.preventDefault();
              if (name.trim()) save.mutate();
            }}
          >
            <Label htmlFor="worker-name">Name</Label>
            <Input
              id="worker-name"
              autoFocus
              placeholder="e.g. resize-image"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </form>
        )}
        {save.isError && <ErrorState title="Not saved" error={save.error} />}
        <DialogFooter>
          {save.isSuccess ? (
            <Button onClick={() => setOpen(false)}>Done</Button>
          ) : (
            <Button type="submit" form="save-worker" disabled={!name.trim() || save.isPending}>
              {save.isPending ? "Saving…" : "Save worker"}
            </Button>
          )}
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
