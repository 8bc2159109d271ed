import { freePort } from './ports.ts';
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';

export interface RedisHandle {
  url: string;
  stop(): Promise<void>;
}

/** True when a redis is available: REDIS_URL is set or redis-server is on PATH. */
export function redisAvailable(): boolean {
  if (process.env['REDIS_URL']) return true;
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * REDIS_URL when set (stop() is then a no-op), else a throwaway redis-server on a free loopback
 * port with persistence off, killed by stop(). `own`: always a throwaway server (a test that stops it).
 */
export async function startRedis(opts: { own?: boolean } = {}): Promise<RedisHandle> {
  const external = process.env['REDIS_URL'];
  if (external && !opts.own) return { url: external, stop: async () => {} };

  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (spawnError) throw new Error(`cannot start redis-server: ${spawnError.message}`);
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** Inline-command PING; resolves true on "+PONG". */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.on('data', (b: Buffer) => {
      buf += b.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('connect', () => sock.write('PING\r\n'));
  });
}
