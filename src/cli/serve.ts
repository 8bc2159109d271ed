import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve as honoServe, type Http2Bindings, type HttpBindings, type ServerType } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { describeBlobs } from '../config/blobs-schema.ts';
import { IMMUTABLE } from '../serve/reply.ts';
import type { Config } from '../config/types.ts';
import { createApp } from '../http/app.ts';
import { internalRoutes } from '../http/internal-routes.ts';
import type { Logger } from '../log.ts';
import { startAutoGc } from '../checkpoints/auto-gc.ts';
import { startCheckpointSchedules } from '../checkpoints/scheduler.ts';
import { startTempSweep, sweepTempFiles } from '../blobs/temp-sweep.ts';
import { startImportSchedules } from '../bundles/import-schedule.ts';
import { pinSources, repositoryTypes } from '../registry.ts';
import { createRuntime, type Runtime } from '../runtime.ts';

export interface RunningServer {
  runtime: Runtime;
  server: ServerType;
  port: number;
  /**
   * Graceful stop: stop accepting, let responses in flight finish for up to shutdownGrace, then abort
   * downloads and close every connection; resolves once the stores are closed.
   */
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const runtime = await createRuntime(config, log);
  // Leftovers of crashed processes go before serving; live downloads of other processes stay.
  await sweepTempFiles(runtime.content.blobs, log);
  const stopSweep = startTempSweep(runtime.content.blobs, config.cache.gcIntervalMs, log);
  const stopSchedules = startCheckpointSchedules(config, runtime.checkpoints, log);
  const stopGc = startAutoGc(config, runtime.content, pinSources(config), log, (freed) => { runtime.ops.gcFreedBytes += freed; });
  const stopImports = startImportSchedules({ config, types: repositoryTypes, content: runtime.content, catalogue: runtime.checkpoints.catalogue, signer: runtime.signer, log, publicUrl: () => runtime.publicUrl() });
  const upstreams = new Map([...config.remotes.values()].map((r) => [r.name, r.upstreams] as const));
  const objects = runtime.objectStore;
  const redirect = objects && config.blobs.type === 's3' && config.blobs.redirect ? (sha256: string, method: 'GET' | 'HEAD') => objects.presign(sha256, method, IMMUTABLE) : undefined;
  const app = createApp({ remotes: runtime.remotes, upstreams, log, internal: internalRoutes(runtime), ops: runtime.ops, ...(redirect ? { redirect } : {}) });
  const server = await new Promise<ServerType>((resolve, reject) => {
    // hono answers HEAD by re-wrapping the GET response, which hides node-server's "already sent" marker.
    const fetch = async (req: Request, env: HttpBindings | Http2Bindings): Promise<Response> => {
      const res = await app.fetch(req, env);
      return res.headers.has('x-hono-already-sent') ? RESPONSE_ALREADY_SENT : res;
    };
    const s = honoServe({ fetch, hostname: config.listen.host, port: config.listen.port }, () => resolve(s));
    s.once('error', reject);
  });
  // apt allows 30 s between bytes; keep idle keep-alive connections a little longer than clients do.
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 65_000;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
  runtime.listening(port);
  log.info('repoint listening', { host: config.listen.host, port, remotes: [...runtime.remotes.keys()], config: config.source, blobs: describeBlobs(config.blobs) });
  return {
    runtime, server, port,
    close: async () => {
      stopSchedules();
      stopGc();
      stopSweep();
      await stopImports();
      // honoServe makes a node:http server here (the http2 types have no connection tracking)
      if ('closeAllConnections' in server) await drain(server, config.shutdownGraceMs, log);
      else await new Promise<void>((resolve) => server.close(() => resolve()));
      runtime.abort(); // downloads nobody waits for any more (detached fills) must not hold the exit
      await runtime.close();
      log.flush();
    },
  };
}

/** Stops accepting and waits for responses in flight, up to graceMs; then closes every connection. */
async function drain(server: Server, graceMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const deadline = Date.now() + graceMs;
  let done = false;
  void closed.then(() => { done = true; });
  // Keep-alive connections become idle as their last response ends: close them as they do.
  while (!done && Date.now() < deadline) {
    server.closeIdleConnections();
    await Promise.race([closed, sleep(Math.min(100, Math.max(0, deadline - Date.now())))]);
  }
  if (!done) log.warn('shutdown grace is over: closing the connections still busy', { graceMs });
  server.closeAllConnections();
  await closed;
}
