import { createFileRoute } from "@tanstack/react-router";
import { JobDetailPage } from "@/features/job-detail";

export const Route = createFileRoute("/jobs/$jobId")({ component: JobDetailPage });
