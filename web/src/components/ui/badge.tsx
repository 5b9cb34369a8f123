import { cva, type VariantProps } from "class-variance-authority";
import type * as React from "react";
import { cn } from "@/lib/utils";

const badgeVariants = cva(
  "inline-flex items-center gap-1.5 rounded-md px-2 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset",
  {
    variants: {
      variant: {
        default: "bg-primary/10 text-primary ring-primary/25",
        secondary: "bg-secondary text-secondary-foreground ring-border",
        outline: "text-muted-foreground ring-border",
        destructive: "bg-destructive/10 text-destructive ring-destructive/30",
        success: "bg-emerald-500/10 text-emerald-700 ring-emerald-500/30 dark:text-emerald-300",
        warning: "bg-amber-500/10 text-amber-700 ring-amber-500/30 dark:text-amber-300",
      },
    },
    defaultVariants: { variant: "default" },
  },
);

export function Badge({
  className,
  variant,
  ...props
}: React.ComponentProps<"span"> & VariantProps<typeof badgeVariants>) {
  return <span className={cn(badgeVariants({ variant }), className)} {...props} />;
}
