import { Readable } from 'node:stream';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../../src/upstream/upstream.ts';

/** A body step: bytes, a pause until `until` settles, or a break (the connection drops: the body errors). */
export type BodyStep = Uint8Array | { until: Promise<void> } | { break: string };

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: BodyStep[];
}

/** May answer later (a slow upstream): the fetch resolves when the promise does. */
export type Responder = (req: UpstreamRequest) => ScriptedResponse | Promise<ScriptedResponse>;

/** A promise to pause a body on, opened by the test. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * An in-memory implementation of the Upstream seam: each request is answered by the next queued
 * responder (queue()), else by the default one. Every request is recorded, headers included.
 */
export class ScriptedUpstream implements Upstream {
  readonly bases: readonly string[] = ['scripted:'];
  readonly id: string;
  readonly requests: UpstreamRequest[] = [];
  readonly #queue: Responder[] = [];
  readonly #fallback: Responder;

  constructor(fallback: Responder = () => ({ status: 404 }), id = 'scripted') {
    this.#fallback = fallback;
    this.id = id;
  }

  /** The next request (only that one) gets this answer. */
  queue(r: Responder): this {
    this.#queue.push(r);
    return this;
  }

  async fetch(req: UpstreamRequest): Promise<UpstreamResponse> {
    this.requests.push(req);
    const res = await (this.#queue.shift() ?? this.#fallback)(req);
    return { status: res.status, headers: res.headers ?? {}, body: Readable.from(steps(res.body ?? [])), url: `scripted:${req.path}` };
  }
}

async function* steps(body: BodyStep[]): AsyncGenerator<Buffer> {
  for (const s of body) {
    if (s instanceof Uint8Array) yield Buffer.from(s);
    else if ('until' in s) await s.until;
    else throw Object.assign(new Error(s.break), { code: 'ECONNRESET' });
  }
}

export interface FileOptions {
  /** Bytes per chunk (default 64 KiB). */
  chunk?: number;
  etag?: string;
  lastModified?: string;
  /** Answer a Range request with the whole file (200), as some servers do. */
  ignoreRange?: boolean;
  /** Content-Length to announce instead of the real one. */
  contentLength?: number;
  /** Drop the connection once this many body bytes (of the whole file) have been sent. */
  breakAt?: number;
  /** Pause once this many body bytes have been sent, until the promise settles. */
  pauseAt?: { offset: number; until: Promise<void> };
}

/** Answers like a static file server: 200 with the file, or 206 for `Range: bytes=N-`. */
export function serveFile(data: Uint8Array, o: FileOptions = {}): (req: UpstreamRequest) => ScriptedResponse {
  return (req) => {
    const m = o.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers?.range ?? '');
    const from = m ? Number(m[1]) : 0;
    const headers: Record<string, string> = {
      'content-length': String(o.contentLength ?? data.length - from),
      ...(o.etag ? { etag: o.etag } : {}),
      ...(o.lastModified ? { 'last-modified': o.lastModified } : {}),
      ...(m ? { 'content-range': `bytes ${from}-${data.length - 1}/${data.length}` } : {}),
    };
    return { status: m ? 206 : 200, headers, body: chunked(data, from, o) };
  };
}

function chunked(data: Uint8Array, from: number, o: FileOptions): BodyStep[] {
  const size = o.chunk ?? 64 * 1024;
  const cuts = [o.breakAt, o.pauseAt?.offset].filter((c): c is number => c !== undefined && c > from);
  const out: BodyStep[] = [];
  for (let pos = from; pos < data.length;) {
    const next = Math.min(data.length, pos + size, ...cuts.filter((c) => c > pos));
    out.push(data.subarray(pos, next));
    pos = next;
    if (pos === o.breakAt) {
      out.push({ break: `connection reset at ${pos}` });
      return out;
    }
    if (o.pauseAt && pos === o.pauseAt.offset) out.push({ until: o.pauseAt.until });
  }
  return out;
}

/** Serves whatever `files()` holds now (a static file server over a map); 404 for anything else. */
export function serveFiles(files: () => ReadonlyMap<string, Uint8Array>, o: FileOptions = {}): Responder {
  return (req) => {
    const data = files().get(req.path);
    return data ? serveFile(data, o)(req) : { status: 404 };
  };
}
