import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger, silentLogger, type Logger } from '../../src/log.ts';

export interface ProxyOptions {
  /** the `remotes:` mapping, as in mirror.yaml */
  remotes: Record<string, Record<string, unknown>>;
  dataDir?: string;
  /** extra top-level config keys */
  extra?: Record<string, unknown>;
  /** where the proxy logs (default: nowhere, or stderr with REPOINT_TEST_LOG) */
  log?: Logger;
}

export interface TestProxy {
  readonly url: string;
  readonly dataDir: string;
  readonly configPath: string;
  running: RunningServer;
  /** stop and start again on the same data dir (a restart) */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts repoint in-process from a YAML file it writes, on a free loopback port. */
export async function startProxy(opts: ProxyOptions): Promise<TestProxy> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'repoint-data-')));
  const configPath = join(dataDir, 'mirror.yaml');
  await writeFile(configPath, stringify({ listen: '127.0.0.1:0', dataDir, upstream: { retries: 1, bodyTimeout: '5s', connectTimeout: '2s' }, shutdownGrace: '2s', ...opts.extra, remotes: opts.remotes }));
  const log = opts.log ?? (process.env.REPOINT_TEST_LOG ? createLogger('debug') : silentLogger);
  const boot = (): Promise<RunningServer> => startServer(loadConfig(configPath, {}), log);
  let running = await boot();
  const proxy: TestProxy = {
    get url() { return `http://127.0.0.1:${running.port}`; },
    dataDir,
    configPath,
    get running() { return running; },
    set running(r) { running = r; },
    restart: async () => {
      await running.close();
      running = await boot();
    },
    close: () => running.close(),
  };
  return proxy;
}
