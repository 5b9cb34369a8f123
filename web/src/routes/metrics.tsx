import { createFileRoute } from "@tanstack/react-router";
import { z } from "zod";
import { MetricsPage } from "@/features/metrics";
import { RANGES } from "@/features/metrics/ranges";

const search = z.object({
  range_minutes: z.coerce
    .number()
    .refine((n) => (RANGES as readonly number[]).includes(n))
    .default(60)
    .catch(60),
});

export const Route = createFileRoute("/metrics")({
  validateSearch: search,
  component: MetricsPage,
});
