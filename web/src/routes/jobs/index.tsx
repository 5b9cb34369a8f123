import { createFileRoute } from "@tanstack/react-router";
import { z } from "zod";
import { JobsPage } from "@/features/jobs";
import { JOB_STATUSES } from "@/lib/types";

const search = z.object({
  status: z.enum(JOB_STATUSES).optional().catch(undefined),
  cache_id: z.string().optional().catch(undefined),
  q: z.string().optional().catch(undefined),
});

export const Route = createFileRoute("/jobs/")({
  validateSearch: search,
  component: JobsPage,
});
