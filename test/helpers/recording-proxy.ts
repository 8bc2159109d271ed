import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a client sent through the recording proxy, and the status it got. */
export interface RecordedRequest {
  method: string;
  /** absolute URL as the client asked for it */
  url: string;
  status: number;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>/`, for `Acquire::http::Proxy` */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** paths (without origin) of the recorded requests */
  paths(): string[];
  /** forgets the requests recorded so far */
  clear(): void;
  stop(): Promise<void>;
}

/**
 * A forward HTTP proxy on loopback that records every request a client makes (redirect targets
 * included) and relays it unchanged, so a test sees where a real client went. It only relays to
 * `allowedOrigin`: anything else is answered 403, so a test never reaches beyond loopback.
 */
export async function startRecordingProxy(allowedOrigin: string): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    const entry: RecordedRequest = { method: req.method ?? 'GET', url, status: 0 };
    requests.push(entry);
    if (!url.startsWith(`${allowedOrigin}/`)) {
      entry.status = 403;
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`not relayed: ${url}\n`);
      return;
    }
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: new URL(allowedOrigin).host };
    delete headers['proxy-connection'];
    const up = request(url, { method: req.method, headers }, (upRes) => {
      entry.status = upRes.statusCode ?? 0;
      res.writeHead(entry.status, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    paths: () => requests.map((r) => new URL(r.url, allowedOrigin).pathname),
    clear: () => { requests.length = 0; },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
