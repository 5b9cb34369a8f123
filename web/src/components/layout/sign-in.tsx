import { KeyRoundIcon } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { api } from "@/lib/api";
import { setToken } from "@/lib/auth";

/** Shown whenever the API answers 401: one field for DYMUNIM_API_TOKEN. */
export function SignIn({ message }: { message: string | null }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const token = value.trim();
    if (!token) return setError("Enter the token the server was started with.");
    setBusy(true);
    setError(null);
    try {
      await api.checkToken(token);
      setToken(token);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex min-h-screen items-center justify-center bg-muted/30 p-4">
      <Card className="w-full max-w-sm">
        <CardHeader className="items-center gap-3 pt-8 text-center">
          <img src="/favicon.svg" alt="" className="size-10" />
          <CardTitle className="text-lg">Sign in to dymunim</CardTitle>
          <CardDescription className="text-sm">
            This server needs an API token. Paste the value of <code className="text-xs">DYMUNIM_API_TOKEN</code>.
          </CardDescription>
        </CardHeader>
        <CardContent className="pb-8">
          <form onSubmit={submit} className="flex flex-col gap-3">
            <div className="flex flex-col gap-1.5">
              <Label htmlFor="token">API token</Label>
              <Input
                id="token"
                name="token"
                type="password"
                autoFocus
                autoComplete="current-password"
                placeholder="••••••••••••"
                value={value}
                onChange={(e) => setValue(e.target.value)}
                aria-invalid={!!error}
              />
            </div>
            {(error ?? message) && (
              <p role="alert" className="text-xs text-destructive">
                {error ?? message}
              </p>
            )}
            <Button type="submit" disabled={busy}>
              <KeyRoundIcon /> {busy ? "Checking…" : "Sign in"}
            </Button>
            <p className="text-center text-xs text-muted-foreground">Saved in this browser only.</p>
          </form>
        </CardContent>
      </Card>
    </div>
  );
}
