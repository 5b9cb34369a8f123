// The bearer token lives in localStorage; a 401 anywhere flips `needsSignIn` and the shell shows
// the sign-in screen instead of the page. A tiny external store so React and fetch code share it.

const KEY = "dymunim.token";
type Listener = () => void;

const listeners = new Set<Listener>();
let needsSignIn = false;
let authMessage: string | null = null;

function emit() {
  for (const l of listeners) l();
}

export function getToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null) {
  if (token) localStorage.setItem(KEY, token);
  else localStorage.removeItem(KEY);
  needsSignIn = false;
  authMessage = null;
  emit();
}

export function requireSignIn(message: string | null) {
  if (needsSignIn && authMessage === message) return;
  needsSignIn = true;
  authMessage = message;
  emit();
}

export function subscribeAuth(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

interface AuthSnapshot {
  needsSignIn: boolean;
  message: string | null;
}
let snapshot: AuthSnapshot = { needsSignIn, message: authMessage };

/** Stable object between changes, as useSyncExternalStore requires. */
export function authSnapshot(): AuthSnapshot {
  if (snapshot.needsSignIn !== needsSignIn || snapshot.message !== authMessage) {
    snapshot = { needsSignIn, message: authMessage };
  }
  return snapshot;
}
