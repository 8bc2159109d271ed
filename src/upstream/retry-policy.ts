/** Pure retry decisions, so they are unit-tested without sockets. */

const MAX_RETRY_AFTER_MS = 10_000;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Retry-After as seconds or an HTTP-date; capped so a client's 30 s timeout is not blown. */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Math.min(Number(s) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** Exponential backoff with jitter: 200 ms, 400 ms, 800 ms ... capped at 5 s. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(200 * 2 ** attempt, 5000);
  return Math.round(base * (0.75 + random() * 0.5));
}

/** Encodes a decoded relative path for an upstream URL; `+` becomes %2B since some object stores read a raw `+` as a space. */
export function encodePath(path: string): string {
  return path.split('/').map((seg) => encodeURIComponent(seg)).join('/');
}
