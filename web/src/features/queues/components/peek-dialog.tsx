import { useQuery } from "@tanstack/react-query";
import { EyeIcon } from "lucide-react";
import { useState } from "react";
import { EmptyState, ErrorState } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import { api } from "@/lib/api";
import { MessageList } from "./message-list";

export function PeekDialog({ queue, disabled }: { queue: string; disabled?: boolean }) {
  const [open, setOpen] = useState(false);
  const q = useQuery({
    queryKey: ["queues", queue, "messages"],
    queryFn: () => api.queueMessages(queue, 50),
    enabled: open,
  });
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant="ghost" size="sm" disabled={disabled}>
          <EyeIcon /> Peek
        </Button>
      </DialogTrigger>
      <DialogContent className="max-w-2xl">
        <DialogHeader>
          <DialogTitle className="font-mono">{queue}</DialogTitle>
          <DialogDescription>The first messages, read without claiming them.</DialogDescription>
        </DialogHeader>
        {q.isPending ? (
          <Skeleton className="h-24" />
        ) : q.isError ? (
          <ErrorState error={q.error} />
        ) : q.data.messages.length === 0 ? (
          <EmptyState title="The queue is empty" />
        ) : (
          <MessageList messages={q.data.messages} />
        )}
      </DialogContent>
    </Dialog>
  );
}
