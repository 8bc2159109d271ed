/** Fault injection for the test upstream: what to break, on which paths, how many times. */

interface FaultBase {
  /** how many requests this fault applies to; unlimited when omitted */
  times?: number;
}

/** Sends the full Content-Length, then closes (FIN) after `at` body bytes (default: half). */
export interface TruncateFault extends FaultBase { kind: 'truncate'; at?: number }
/** Sends the whole body with one byte inverted at offset `at` (default: the middle). */
export interface FlipFault extends FaultBase { kind: 'flip'; at?: number }
/**
 * Advertises Content-Length = real size + `delta` (default -1). Smaller: sends exactly that
 * many bytes and closes. Larger: sends the whole file and closes before the advertised end.
 */
export interface WrongSizeFault extends FaultBase { kind: 'wrong-size'; delta?: number }
/** Sends `at` body bytes (default: half) then resets the connection (RST). */
export interface ResetFault extends FaultBase { kind: 'reset'; at?: number }
/** Sends headers and `at` body bytes (default 0), pauses `ms`, then sends the rest. */
export interface StallFault extends FaultBase { kind: 'stall'; at?: number; ms: number }
/** Sends the body steadily but slowly: `chunk` bytes (default 16) at `bytesPerSecond`, never silent for long. */
export interface TrickleFault extends FaultBase { kind: 'trickle'; bytesPerSecond: number; chunk?: number }
/** Answers with `status` (e.g. 404, 429, 500, 503) and an optional Retry-After header. */
export interface StatusFault extends FaultBase { kind: 'status'; status: number; retryAfter?: number | string; body?: string }
/** Waits `ms` before sending the (otherwise normal) response headers. */
export interface DelayFault extends FaultBase { kind: 'delay'; ms: number }
/** Answers with a redirect (default 302) to `location`, sent verbatim: a hostile or CDN-fronted upstream. */
export interface RedirectFault extends FaultBase { kind: 'redirect'; location: string; status?: 301 | 302 | 303 | 307 | 308 }

export type Fault = TruncateFault | FlipFault | WrongSizeFault | ResetFault | StallFault | TrickleFault | StatusFault | DelayFault | RedirectFault;
export type FaultKind = Fault['kind'];
export type BodyFault = TruncateFault | FlipFault | WrongSizeFault | ResetFault | StallFault | TrickleFault;
/** An exact URL path (decoded, e.g. `/dists/stable/InRelease`) or a regex tested on it. */
export type PathMatch = string | RegExp;

export interface FaultHandle {
  /** how many requests this fault has been applied to so far */
  readonly applied: number;
  /** stop applying this fault */
  remove(): void;
}

export function isBodyFault(f: Fault): f is BodyFault {
  return f.kind !== 'status' && f.kind !== 'delay' && f.kind !== 'redirect';
}

interface Entry {
  match: PathMatch;
  fault: Fault;
  applied: number;
  removed: boolean;
}

function matches(m: PathMatch, path: string): boolean {
  if (typeof m === 'string') return m === path;
  m.lastIndex = 0; // a /g or /y regex would otherwise remember its last position
  return m.test(path);
}

/** Ordered fault list: the first live fault matching a path wins. */
export class FaultTable {
  #entries: Entry[] = [];

  add(match: PathMatch, fault: Fault): FaultHandle {
    const e: Entry = { match, fault, applied: 0, removed: false };
    this.#entries.push(e);
    return {
      get applied() {
        return e.applied;
      },
      remove: () => {
        e.removed = true;
        this.#entries = this.#entries.filter((x) => x !== e);
      },
    };
  }

  /**
   * The fault to apply to this request, counted as applied. `hasBody` says whether the
   * response would carry a body (200/206 to a GET): body faults only apply then.
   */
  take(path: string, hasBody: boolean, only: 'head' | 'body'): Fault | undefined {
    for (const e of this.#entries) {
      if (e.removed || !matches(e.match, path)) continue;
      const body = isBodyFault(e.fault);
      if ((only === 'body') !== body) continue;
      if (body && !hasBody) continue;
      e.applied++;
      if (e.fault.times !== undefined && e.applied >= e.fault.times) {
        e.removed = true;
        this.#entries = this.#entries.filter((x) => x !== e);
      }
      return e.fault;
    }
    return undefined;
  }

  clear(): void {
    for (const e of this.#entries) e.removed = true;
    this.#entries = [];
  }
}

/** How a body of `len` bytes is sent under a fault: advertised length, bytes sent, ending. */
export interface BodyShape {
  advertised: number;
  count: number;
  /** end: normal; fin: close the connection; reset: RST */
  ending: 'end' | 'fin' | 'reset';
  flipAt?: number;
  stallAt?: number;
  stallMs?: number;
  /** pace this body (trickle) instead of the server-wide rate */
  rate?: number;
  chunk?: number;
}

export function shapeBody(fault: Fault | undefined, len: number): BodyShape {
  const half = Math.floor(len / 2);
  switch (fault?.kind) {
    case 'truncate':
      return { advertised: len, count: Math.min(fault.at ?? half, len), ending: 'fin' };
    case 'reset':
      return { advertised: len, count: Math.min(fault.at ?? half, len), ending: 'reset' };
    case 'flip':
      return { advertised: len, count: len, ending: 'end', flipAt: Math.min(fault.at ?? half, len - 1) };
    case 'wrong-size': {
      const advertised = Math.max(0, len + (fault.delta ?? -1));
      return { advertised, count: Math.min(advertised, len), ending: advertised > len ? 'fin' : 'end' };
    }
    case 'stall':
      return { advertised: len, count: len, ending: 'end', stallAt: Math.min(fault.at ?? 0, len), stallMs: fault.ms };
    case 'trickle':
      return { advertised: len, count: len, ending: 'end', rate: fault.bytesPerSecond, chunk: fault.chunk ?? 16 };
    default:
      return { advertised: len, count: len, ending: 'end' };
  }
}
