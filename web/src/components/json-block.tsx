import { CheckIcon, CopyIcon } from "lucide-react";
import { useState } from "react";
import { prettyJson } from "@/lib/json";
import { cn } from "@/lib/utils";

/** Formatted JSON in a scrollable monospace block, with a copy button. */
export function JsonBlock({
  value,
  className,
  label,
  testid,
}: {
  value: unknown;
  className?: string;
  label?: string;
  testid?: string;
}) {
  const text = prettyJson(value);
  const [copied, setCopied] = useState(false);
  return (
    <div className={cn("group relative", className)}>
      <pre
        aria-label={label}
        data-testid={testid}
        className="max-h-80 overflow-auto rounded-lg border bg-muted/30 p-3 font-mono text-[12.5px] leading-relaxed"
      >
        {text}
      </pre>
      <button
        type="button"
        onClick={() => {
          void navigator.clipboard?.writeText(text).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1200);
          });
        }}
        className="absolute top-2 right-2 rounded-md border bg-background/80 p-1 text-muted-foreground opacity-0 transition-opacity group-hover:opacity-100 hover:text-foreground"
        aria-label="Copy"
      >
        {copied ? <CheckIcon className="size-3.5" /> : <CopyIcon className="size-3.5" />}
      </button>
    </div>
  );
}
