import { serve as honoServe, type Http2Bindings, type HttpBindings, type ServerType } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Config } from '../config/types.ts';
import { createApp } from '../http/app.ts';
import { internalRoutes } from '../http/internal-routes.ts';
import type { Logger } from '../log.ts';
import { startAutoGc } from '../checkpoints/auto-gc.ts';
import { startCheckpointSchedules } from '../checkpoints/scheduler.ts';
import { startImportSchedules } from '../bundles/import-schedule.ts';
import { pinSources, repositoryTypes } from '../registry.ts';
import { createRuntime, type Runtime } from '../runtime.ts';

export interface RunningServer {
  runtime: Runtime;
  server: ServerType;
  port: number;
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const runtime = await createRuntime(config, log);
  const stopSchedules = startCheckpointSchedules(config, runtime.checkpoints, log);
  const stopGc = startAutoGc(config, runtime.content, pinSources(config), log);
  const stopImports = startImportSchedules({ config, types: repositoryTypes, content: runtime.content, catalogue: runtime.checkpoints.catalogue, signer: runtime.signer, log });
  const upstreams = new Map([...config.remotes.values()].map((r) => [r.name, r.upstreams] as const));
  const app = createApp({ remotes: runtime.remotes, upstreams, log, internal: internalRoutes(runtime) });
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
  log.info('repoint listening', { host: config.listen.host, port, remotes: [...runtime.remotes.keys()], config: config.source });
  return {
    runtime, server, port,
    close: async () => {
      stopSchedules();
      stopGc();
      stopImports();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await runtime.close();
    },
  };
}
