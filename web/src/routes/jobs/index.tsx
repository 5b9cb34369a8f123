import { createFileRoute } from "@tanstack/react-router";
import { z } from "zod";
import { JobsPage } from "@/features/jobs";
import { JOB_STATUSES } from "@/lib/types";

const id = z.coerce.number().int().positive().optional().catch(undefined);

const search = z.object({
  status: z.enum(JOB_STATUSES).optional().catch(undefined),
  cache_id: z.string().optional().catch(undefined),
  q: z.string().optional().catch(undefined),
  worker_id: z.string().optional().catch(undefined),
  trace_id: z.string().optional().catch(undefined),
  schedule_id: z.string().optional().catch(undefined),
  event_id: id,
  parent_job_id: id,
});

export const Route = createFileRoute("/jobs/")({
  validateSearch: search,
  component: JobsPage,
});
