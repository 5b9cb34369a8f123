import { createFileRoute } from "@tanstack/react-router";
import { z } from "zod";
import { NewWorkerPage } from "@/features/new-worker";

const search = z.object({
  template: z.enum(["sum", "fetch-blocked", "worker-module", "workflow"]).optional().catch(undefined),
});

export const Route = createFileRoute("/workers/new")({
  validateSearch: search,
  component: NewWorkerPage,
});
