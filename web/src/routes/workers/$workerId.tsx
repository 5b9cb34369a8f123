import { createFileRoute } from "@tanstack/react-router";
import { z } from "zod";
import { WorkerDetailPage } from "@/features/worker-detail";

const search = z.object({
  /** An older version to show; none: the current one. */
  version: z.coerce.number().int().positive().optional().catch(undefined),
});

export const Route = createFileRoute("/workers/$workerId")({
  validateSearch: search,
  component: WorkerDetailPage,
});
