import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { authorized } from './auth.ts';
import { pumpBody } from './body.ts';
import { FaultTable, shapeBody } from './faults.ts';
import type { Fault, FaultHandle, PathMatch } from './faults.ts';
import { planStatic } from './static-file.ts';
import type { AuthRequirement, RequestHook, Upstream, UpstreamOptions, UpstreamRequest } from './types.ts';

export type { Fault, FaultHandle, FaultKind, PathMatch } from './faults.ts';
export type { AuthRequirement, RequestHook, Upstream, UpstreamOptions, UpstreamRequest } from './types.ts';

function decodePath(rawUrl: string): string {
  const pathname = new URL(rawUrl, 'http://127.0.0.1').pathname;
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

class UpstreamServer implements Upstream {
  #root: string;
  #port = 0;
  #host: string;
  #tls: UpstreamOptions['tls'];
  #ignoreRange = false;
  #auth: AuthRequirement | undefined;
  #server: Server | undefined;
  #life = new AbortController();
  #faults = new FaultTable();
  #rate: number | undefined;
  #hits = new Map<string, number>();
  #requests: UpstreamRequest[] = [];
  #requestHooks: RequestHook[] = [];
  #responseHooks: Array<(req: UpstreamRequest) => void> = [];

  constructor(root: string, port: number, host: string, tls: UpstreamOptions['tls']) {
    this.#root = root;
    this.#port = port;
    this.#host = host;
    this.#tls = tls;
  }

  get url(): string {
    return `${this.#tls ? 'https' : 'http'}://${this.#host}:${this.#port}`;
  }
  get port(): number {
    return this.#port;
  }
  get root(): string {
    return this.#root;
  }
  get requests(): readonly UpstreamRequest[] {
    return this.#requests;
  }

  setRoot(dir: string): void {
    this.#root = dir;
  }
  hits(path: string): number {
    return this.#hits.get(path) ?? 0;
  }
  hitsMatching(re: RegExp): number {
    let n = 0;
    for (const [p, c] of this.#hits) {
      re.lastIndex = 0;
      if (re.test(p)) n += c;
    }
    return n;
  }
  resetCounters(): void {
    this.#hits.clear();
    this.#requests = [];
  }
  fault(match: PathMatch, fault: Fault): FaultHandle {
    return this.#faults.add(match, fault);
  }
  clearFaults(): void {
    this.#faults.clear();
  }
  setRateLimit(bytesPerSecond: number | undefined): void {
    if (bytesPerSecond !== undefined && !(bytesPerSecond > 0)) throw new Error('rate limit must be positive');
    this.#rate = bytesPerSecond;
  }
  setIgnoreRange(on: boolean): void {
    this.#ignoreRange = on;
  }
  setAuth(auth: AuthRequirement | undefined): void {
    this.#auth = auth;
  }
  onRequest(hook: RequestHook): () => void {
    this.#requestHooks.push(hook);
    return () => void (this.#requestHooks = this.#requestHooks.filter((h) => h !== hook));
  }
  onResponse(hook: (req: UpstreamRequest) => void): () => void {
    this.#responseHooks.push(hook);
    return () => void (this.#responseHooks = this.#responseHooks.filter((h) => h !== hook));
  }

  async up(): Promise<void> {
    if (this.#server) return;
    this.#life = new AbortController();
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.#handle(req, res);
    const t = this.#tls;
    const server: Server = t
      ? createHttpsServer({ key: t.key, cert: t.cert, ...(t.ca ? { ca: t.ca } : {}), requestCert: t.requireClientCert === true, rejectUnauthorized: t.requireClientCert === true }, handler)
      : createServer(handler);
    server.listen(this.#port, this.#host);
    await once(server, 'listening');
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.#life.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  stop(): Promise<void> {
    return this.down();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const h = req.headers;
    const entry: UpstreamRequest = {
      method: req.method ?? 'GET',
      path: decodePath(rawUrl),
      rawUrl,
      headers: h,
      range: header(h, 'range'),
      ifRange: header(h, 'if-range'),
      ifModifiedSince: header(h, 'if-modified-since'),
      ifNoneMatch: header(h, 'if-none-match'),
      time: Date.now(),
    };
    this.#requests.push(entry);
    this.#hits.set(entry.path, this.hits(entry.path) + 1);
    const signal = AbortSignal.any([this.#life.signal, abortOnClose(res)]);
    res.on('close', () => {
      for (const hook of this.#responseHooks) hook(entry);
    });
    try {
      await this.#answer(entry, res, signal);
    } catch (err) {
      if (!res.headersSent) {
        entry.status = 500;
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`upstream test server error: ${String(err)}\n`);
      } else res.destroy();
    }
  }

  async #answer(entry: UpstreamRequest, res: ServerResponse, signal: AbortSignal): Promise<void> {
    for (const hook of this.#requestHooks) await hook(entry);
    if (!authorized(this.#auth, entry.headers.authorization)) {
      entry.status = 401;
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="test upstream"', 'content-type': 'text/plain' }).end('login required\n');
    }
    const headFault = this.#faults.take(entry.path, false, 'head');
    if (headFault?.kind === 'delay') {
      entry.fault = 'delay';
      await sleep(headFault.ms, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return void res.destroy();
    } else if (headFault?.kind === 'status') {
      entry.fault = 'status';
      entry.status = headFault.status;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (headFault.retryAfter !== undefined) headers['retry-after'] = String(headFault.retryAfter);
      res.writeHead(headFault.status, headers);
      return void res.end(entry.method === 'HEAD' ? undefined : (headFault.body ?? `injected ${headFault.status}\n`));
    } else if (headFault?.kind === 'redirect') {
      entry.fault = 'redirect';
      entry.status = headFault.status ?? 302;
      return void res.writeHead(entry.status, { location: headFault.location, 'content-type': 'text/plain' }).end(`moved to ${headFault.location}\n`);
    }
    if (entry.method !== 'GET' && entry.method !== 'HEAD') {
      entry.status = 405;
      return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    }
    const plan = await planStatic(this.#root, entry.path, this.#ignoreRange ? { ...entry.headers, range: undefined } : entry.headers);
    entry.status = plan.status;
    const len = plan.end - plan.start;
    const hasBody = entry.method === 'GET' && (plan.status === 200 || plan.status === 206) && len > 0;
    const fault = this.#faults.take(entry.path, hasBody, 'body');
    if (!plan.file || plan.status === 304 || plan.status === 416 || plan.status === 404) {
      const body = plan.status === 404 && entry.method === 'GET' ? 'not found\n' : undefined;
      return void res.writeHead(plan.status, plan.headers).end(body);
    }
    if (fault) entry.fault = fault.kind;
    const shape = shapeBody(fault, len);
    if (fault?.kind === 'wrong-size') plan.headers['connection'] = 'close';
    const { advertised, ending } = shape;
    res.writeHead(plan.status, { ...plan.headers, 'content-length': String(advertised) });
    if (entry.method === 'HEAD') return void res.end();
    res.flushHeaders();
    const sent = await pumpBody(res, {
      file: plan.file,
      start: plan.start,
      count: shape.count,
      flipAt: shape.flipAt,
      stallAt: shape.stallAt,
      stallMs: shape.stallMs,
      rate: () => shape.rate ?? this.#rate,
      ...(shape.chunk !== undefined ? { chunk: shape.chunk } : {}),
      signal,
    });
    entry.bytesSent = sent;
    if (signal.aborted) return void res.destroy();
    if (ending === 'reset') return void res.socket?.resetAndDestroy();
    if (ending === 'fin' || sent < advertised) {
      res.socket?.end();
      return;
    }
    res.end();
  }
}

function abortOnClose(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  return ac.signal;
}

/** Starts a static-file upstream on 127.0.0.1 (or opts.host) serving `root`. */
export async function startUpstream(opts: UpstreamOptions): Promise<Upstream> {
  const up = new UpstreamServer(opts.root, opts.port ?? 0, opts.host ?? '127.0.0.1', opts.tls);
  await up.up();
  return up;
}
