// Light / dark / system, stored in localStorage "dymunim.theme"; index.html applies it before paint.
import { useSyncExternalStore } from "react";

export type Theme = "light" | "dark" | "system";
const KEY = "dymunim.theme";
const listeners = new Set<() => void>();
const media = () => window.matchMedia("(prefers-color-scheme: dark)");

export function getTheme(): Theme {
  const t = localStorage.getItem(KEY);
  return t === "light" || t === "dark" ? t : "system";
}

export function resolvedDark(t: Theme = getTheme()): boolean {
  return t === "dark" || (t === "system" && media().matches);
}

function apply() {
  document.documentElement.classList.toggle("dark", resolvedDark());
  for (const l of listeners) l();
}

export function setTheme(t: Theme) {
  if (t === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, t);
  apply();
}

let watching = false;
export function useTheme(): { theme: Theme; dark: boolean } {
  if (!watching && typeof window !== "undefined") {
    watching = true;
    media().addEventListener("change", apply);
  }
  const theme = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    getTheme,
  );
  const dark = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => resolvedDark(),
  );
  return { theme, dark };
}
