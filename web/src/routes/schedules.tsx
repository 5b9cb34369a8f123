import { createFileRoute } from "@tanstack/react-router";
import { z } from "zod";
import { SchedulesPage } from "@/features/schedules";

const search = z.object({
  /** Only the schedules of this saved worker. */
  worker_id: z.string().optional().catch(undefined),
  /** Open the create form, its target set to this saved worker. */
  new_for: z.string().optional().catch(undefined),
});

export const Route = createFileRoute("/schedules")({
  validateSearch: search,
  component: SchedulesPage,
});
