import { Link } from "@tanstack/react-router";
import { LogOutIcon, MonitorIcon, MoonIcon, SunIcon } from "lucide-react";
import type * as React from "react";
import { Tooltip } from "@/components/ui/tooltip";
import { getToken, setToken } from "@/lib/auth";
import { useLiveState } from "@/lib/live";
import { setTheme, type Theme, useTheme } from "@/lib/theme";
import { cn } from "@/lib/utils";
import { NAV } from "./nav";

function Logo() {
  return (
    <Link to="/" className="flex items-center gap-2.5 px-2 py-1">
      <img src="/favicon.svg" alt="" className="size-7" />
      <span className="text-[15px] font-semibold tracking-tight">dymunim</span>
    </Link>
  );
}

function LiveIndicator() {
  const s = useLiveState();
  const label = s === "live" ? "Live" : s === "connecting" ? "Connecting" : "Offline";
  const tip =
    s === "live"
      ? "Receiving job events from /api/events"
      : "The event stream is not connected; pages refresh every few seconds instead";
  return (
    <Tooltip content={tip}>
      <span
        data-testid="live-state"
        data-state={s}
        className="inline-flex items-center gap-1.5 rounded-full border px-2 py-0.5 text-xs text-muted-foreground"
      >
        <span
          className={cn(
            "size-1.5 rounded-full",
            s === "live" ? "bg-emerald-500" : s === "connecting" ? "bg-amber-500" : "bg-zinc-400",
          )}
        />
        {label}
      </span>
    </Tooltip>
  );
}

const THEMES: { value: Theme; icon: typeof SunIcon; label: string }[] = [
  { value: "light", icon: SunIcon, label: "Light" },
  { value: "dark", icon: MoonIcon, label: "Dark" },
  { value: "system", icon: MonitorIcon, label: "System" },
];

function ThemeToggle() {
  const { theme } = useTheme();
  return (
    <div className="inline-flex rounded-lg border p-0.5" role="radiogroup" aria-label="Theme">
      {THEMES.map(({ value, icon: Icon, label }) => (
        <Tooltip key={value} content={label}>
          <button
            type="button"
            role="radio"
            aria-checked={theme === value}
            aria-label={`${label} theme`}
            onClick={() => setTheme(value)}
            className={cn(
              "rounded-md p-1.5 text-muted-foreground transition-colors hover:text-foreground cursor-pointer",
              theme === value && "bg-accent text-accent-foreground",
            )}
          >
            <Icon className="size-3.5" />
          </button>
        </Tooltip>
      ))}
    </div>
  );
}

export function AppShell({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex min-h-screen">
      <aside className="hidden w-56 shrink-0 border-r bg-sidebar md:block">
        <div className="sticky top-0 flex h-screen flex-col px-3 py-4">
        <Logo />
        <nav className="mt-6 flex flex-col gap-0.5" aria-label="Main">
          {NAV.map(({ to, label, icon: Icon, exact }) => (
            <Link
              key={to}
              to={to}
              activeOptions={{ exact: !!exact, includeSearch: false }}
              className="flex items-center gap-2.5 rounded-md px-2.5 py-1.5 text-sm text-muted-foreground transition-colors hover:bg-accent/60 hover:text-foreground data-[status=active]:bg-accent data-[status=active]:font-medium data-[status=active]:text-accent-foreground"
            >
              <Icon className="size-4" />
              {label}
            </Link>
          ))}
        </nav>
        <div className="mt-auto flex flex-col gap-3 px-1">
          <ThemeToggle />
          {getToken() && (
            <button
              type="button"
              onClick={() => setToken(null)}
              className="flex items-center gap-2 rounded-md px-1.5 py-1 text-xs text-muted-foreground hover:text-foreground cursor-pointer"
            >
              <LogOutIcon className="size-3.5" /> Forget token
            </button>
          )}
        </div>
        </div>
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="sticky top-0 z-30 flex h-12 items-center gap-3 border-b bg-background/85 px-4 backdrop-blur md:px-8">
          <div className="md:hidden">
            <Logo />
          </div>
          <nav className="flex gap-1 overflow-x-auto md:hidden" aria-label="Main (compact)">
            {NAV.map(({ to, label, exact }) => (
              <Link
                key={to}
                to={to}
                activeOptions={{ exact: !!exact, includeSearch: false }}
                className="rounded-md px-2 py-1 text-xs text-muted-foreground data-[status=active]:bg-accent data-[status=active]:text-accent-foreground"
              >
                {label}
              </Link>
            ))}
          </nav>
          <div className="ml-auto flex items-center gap-3">
            <LiveIndicator />
          </div>
        </header>
        <main className="mx-auto w-full max-w-7xl flex-1 px-4 py-6 md:px-8 md:py-8">{children}</main>
      </div>
    </div>
  );
}
