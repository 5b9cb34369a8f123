import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { PlusIcon, XIcon, ZapIcon } from "lucide-react";
import { useState } from "react";
import { RelativeTime } from "@/components/relative-time";
import { ErrorState } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { api, keys } from "@/lib/api";
import { checkPattern } from "@/lib/schedules";
import type { Subscription } from "@/lib/types";

/** Which published events start this worker: add a pattern, remove one. */
export function Subscriptions({ workerId, subscriptions }: { workerId: string; subscriptions: Subscription[] }) {
  const qc = useQueryClient();
  const [pattern, setPattern] = useState("");
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.worker(workerId) });
    void qc.invalidateQueries({ queryKey: keys.subscriptions });
  };
  const add = useMutation({
    mutationFn: (p: string) => api.subscribe(workerId, p),
    onSuccess: () => {
      setPattern("");
      refresh();
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => api.unsubscribe(id), onSuccess: refresh });
  const problem = pattern.trim() ? checkPattern(pattern) : null;

  return (
    <Card data-testid="subscriptions">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <ZapIcon className="size-4 text-amber-500" /> Subscriptions
        </CardTitle>
        <CardDescription>
          Each published event whose name matches starts one run; its payload is the event:{" "}
          <code className="font-mono">{"{name, data, event_id, id, published_at}"}</code>.
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-3">
        {subscriptions.length === 0 ? (
          <p className="rounded-lg border border-dashed px-3 py-3 text-center text-xs text-muted-foreground">
            No events start this worker yet.
          </p>
        ) : (
          <ul className="divide-y rounded-lg border" aria-label="Event patterns">
            {subscriptions.map((s) => (
              <li key={s.subscription_id} className="flex items-center gap-2 px-3 py-1.5 text-sm">
                {s.pattern.includes("*") ? (
                  <span className="min-w-0 flex-1 truncate font-mono text-xs">{s.pattern}</span>
                ) : (
                  <Link
                    to="/events"
                    search={{ name: s.pattern }}
                    className="min-w-0 flex-1 truncate font-mono text-xs text-primary hover:underline"
                  >
                    {s.pattern}
                  </Link>
                )}
                <RelativeTime value={s.created_at} className="text-xs text-muted-foreground" />
                <Button
                  variant="ghost"
                  size="icon"
                  className="size-7"
                  aria-label={`Remove ${s.pattern}`}
                  disabled={remove.isPending && remove.variables === s.subscription_id}
                  onClick={() => remove.mutate(s.subscription_id)}
                >
                  <XIcon />
                </Button>
              </li>
            ))}
          </ul>
        )}
        <form
          className="flex gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (pattern.trim() && !problem) add.mutate(pattern.trim());
          }}
        >
          <Input
            aria-label="Event pattern"
            placeholder="order.paid or order.*"
            className="font-mono text-xs"
            value={pattern}
            aria-invalid={!!problem}
            onChange={(e) => {
              setPattern(e.target.value);
              if (add.isError) add.reset();
            }}
          />
          <Button type="submit" variant="outline" disabled={!pattern.trim() || !!problem || add.isPending}>
            <PlusIcon /> Subscribe
          </Button>
        </form>
        {problem && <p className="text-xs text-destructive">{problem}</p>}
        {add.isError && <ErrorState title="Not subscribed" error={add.error} />}
        {remove.isError && <ErrorState title="Not removed" error={remove.error} />}
      </CardContent>
    </Card>
  );
}
