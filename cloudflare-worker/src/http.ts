/** JSON responses and bearer-token authentication. */

import type { Problem } from "./contract.gen";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return jsonText(JSON.stringify(body), status, headers);
}

export function jsonText(text: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): Response {
  const body: Problem = { error: message };
  return json(body, status, headers);
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/**
 * True when the request carries `Authorization: Bearer <expected>`.
 * Both sides are hashed first (equal-length digests, nothing learnt from the
 * length) and compared without an early exit.
 */
export async function checkBearer(request: Request, expected: string): Promise<boolean> {
  const header = request.headers.get("authorization") ?? "";
  const m = /^Bearer[ \t]+(.*)$/i.exec(header.trim());
  const given = m ? m[1]!.trim() : "";
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  let diff = m ? 0 : 1;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
