import { createFileRoute } from "@tanstack/react-router";
import { z } from "zod";
import { EventsPage } from "@/features/events";

const search = z.object({
  /** An exact event name. */
  name: z.string().optional().catch(undefined),
});

export const Route = createFileRoute("/events")({
  validateSearch: search,
  component: EventsPage,
});
