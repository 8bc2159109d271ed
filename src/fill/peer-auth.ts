import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** How far a request's timestamp may be from the receiver's clock (skew plus transit). */
const MAX_SKEW_MS = 5 * 60_000;
const SCHEME = 'Repoint-HMAC';

/**
 * Authenticates node-to-node requests (`/-/internal/…`) with a key derived from the shared signing
 * key file, so a cluster needs no extra secret: every node holding the same mirror key can talk to the
 * others, nobody else can. The MAC covers the method, the path and a timestamp (a captured header
 * replays only that read, only within MAX_SKEW_MS; internal answers are verified bytes anyway).
 */
export class PeerAuth {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** From the signing key file's bytes (the same file on every node). */
  static fromSigningKey(keyFile: Uint8Array): PeerAuth {
    return new PeerAuth(Buffer.from(hkdfSync('sha256', keyFile, 'repoint', 'repoint internal requests v1', 32)));
  }

  /** The Authorization header value for `method path` now. */
  header(method: string, path: string, now = Date.now()): string {
    return `${SCHEME} ${now}:${this.#mac(method, path, now)}`;
  }

  /** True when `header` authorises `method path` (fresh timestamp, matching MAC). */
  check(header: string | undefined, method: string, path: string, now = Date.now()): boolean {
    const m = /^Repoint-HMAC (\d{1,16}):([0-9a-f]{64})$/.exec(header ?? '');
    if (!m) return false;
    const ts = Number(m[1]);
    if (Math.abs(now - ts) > MAX_SKEW_MS) return false;
    const want = Buffer.from(this.#mac(method, path, ts), 'hex');
    return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
  }

  #mac(method: string, path: string, ts: number): string {
    return createHmac('sha256', this.#key).update(`${method.toUpperCase()}\n${path}\n${ts}`).digest('hex');
  }
}
