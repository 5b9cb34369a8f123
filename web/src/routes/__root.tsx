import type { QueryClient } from "@tanstack/react-query";
import { createRootRouteWithContext, Link, Outlet } from "@tanstack/react-router";
import { useSyncExternalStore } from "react";
import { AppShell } from "@/components/layout/app-shell";
import { SignIn } from "@/components/layout/sign-in";
import { EmptyState } from "@/components/states";
import { authSnapshot, subscribeAuth } from "@/lib/auth";

function Root() {
  const auth = useSyncExternalStore(subscribeAuth, authSnapshot);
  if (auth.needsSignIn) return <SignIn message={auth.message} />;
  return (
    <AppShell>
      <Outlet />
    </AppShell>
  );
}

function NotFound() {
  return (
    <EmptyState title="Page not found">
      Nothing lives here. Go to the{" "}
      <Link to="/" className="text-primary underline-offset-4 hover:underline">
        dashboard
      </Link>
      .
    </EmptyState>
  );
}

export const Route = createRootRouteWithContext<{ queryClient: QueryClient }>()({
  component: Root,
  notFoundComponent: NotFound,
});
