/** The controllable test upstream's interface and what it records (server.ts implements it). */
import type { IncomingHttpHeaders } from 'node:http';
import type { Fault, FaultHandle, FaultKind, PathMatch } from './faults.ts';

/** One request as the upstream saw it; status/fault/bytesSent are filled in as it is answered. */
export interface UpstreamRequest {
  method: string;
  /** decoded URL path without query, e.g. `/pool/main/f/foo/foo_1.0+b1_amd64.deb` */
  path: string;
  /** the request target exactly as sent */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  range: string | undefined;
  ifRange: string | undefined;
  ifModifiedSince: string | undefined;
  ifNoneMatch: string | undefined;
  /** Date.now() on arrival */
  time: number;
  status?: number;
  fault?: FaultKind;
  /** body bytes written (after any fault cut) */
  bytesSent?: number;
}

export type RequestHook = (req: UpstreamRequest) => void | Promise<void>;

export interface UpstreamOptions {
  root: string;
  /** fixed port; default: any free one */
  port?: number;
  /** loopback address to listen on (default 127.0.0.1; Linux answers on all of 127.0.0.0/8) */
  host?: string;
  /** serve https with this PEM key and certificate; `ca` + requireClientCert asks for client certificates it signed */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requireClientCert?: boolean };
}

/** Credentials the upstream demands (401 otherwise), as a vendor repository behind a login does. */
export type AuthRequirement = { basic: { username: string; password: string } } | { bearer: string };

export interface Upstream {
  /** `http://<host>:<port>` (https with tls; no trailing slash) */
  readonly url: string;
  readonly port: number;
  readonly root: string;
  /** serve another directory from now on */
  setRoot(dir: string): void;
  /** requests (any method/outcome) for this exact decoded path */
  hits(path: string): number;
  /** requests whose decoded path matches */
  hitsMatching(re: RegExp): number;
  readonly requests: readonly UpstreamRequest[];
  /** clears hit counters and the request log */
  resetCounters(): void;
  fault(match: PathMatch, fault: Fault): FaultHandle;
  clearFaults(): void;
  /** pace every body at this many bytes/s; undefined = unlimited */
  setRateLimit(bytesPerSecond: number | undefined): void;
  /** answer Range requests with the whole file (200), as some mirrors do */
  setIgnoreRange(on: boolean): void;
  /** demand these credentials (401 without them); undefined = open */
  setAuth(auth: AuthRequirement | undefined): void;
  /** runs (awaited, in order) before each request is answered; returns an unsubscribe */
  onRequest(hook: RequestHook): () => void;
  /** runs after each response has finished or been cut; returns an unsubscribe */
  onResponse(hook: (req: UpstreamRequest) => void): () => void;
  /** close the listener and all connections: connections are refused until up() */
  down(): Promise<void>;
  /** listen again on the same port */
  up(): Promise<void>;
  stop(): Promise<void>;
}

