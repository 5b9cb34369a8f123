import { createFileRoute } from "@tanstack/react-router";
import { z } from "zod";
import { WorkersPage } from "@/features/workers";

const search = z.object({
  q: z.string().optional().catch(undefined),
});

export const Route = createFileRoute("/workers/")({
  validateSearch: search,
  component: WorkersPage,
});
