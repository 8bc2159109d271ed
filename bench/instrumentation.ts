// What per-request instrumentation (access line, meters, request scope) costs on a hot hit, in process:
// the same app with and without it, a cached 50 KiB reply, interleaved rounds. No sockets, so the
// difference is not drowned by the kernel and wrk on a shared machine.
// Usage: node bench/instrumentation.ts [requests per round, default 20000]
import { createApp } from '../src/http/app.ts';
import { createLogger } from '../src/log.ts';
import { Ops } from '../src/ops/ops.ts';
import type { RemoteHandler } from '../src/serve/remote-handler.ts';
import type { Reply } from '../src/serve/reply.ts';

const N = Number(process.argv[2] ?? 20_000);
const data = Buffer.alloc(50 * 1024, 7);
const reply: Reply = { body: { kind: 'bytes', data, sha256: 'ab'.repeat(32) }, contentType: 'application/vnd.debian.binary-package', cacheControl: 'public, max-age=31536000, immutable' };
const remote: RemoteHandler = { name: 'deb', type: 'apt', handle: async () => reply };

function app(instrumented: boolean): ReturnType<typeof createApp> {
  return createApp({
    remotes: new Map([['deb', remote]]), upstreams: new Map(), internal: async () => undefined,
    // the access log buffered to /dev/null, as a file target is in production
    log: createLogger('warn', {}, undefined, instrumented ? { file: '/dev/null' } : 'off'),
    ...(instrumented ? { ops: new Ops() } : {}),
  });
}

/** CPU time (user + system) per request, µs: wall time is meaningless on a machine shared with other jobs. */
async function round(a: ReturnType<typeof createApp>): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const res = await a.request('/deb/pool/main/h/hello/hello_2.12-1_amd64.deb');
    await res.arrayBuffer();
    // a server turns the event loop between requests: buffered log writes complete there
    await new Promise((r) => setImmediate(r));
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

const plain = app(false);
const instrumented = app(true);
await round(plain);
await round(instrumented); // warm-up
const results: Record<string, number[]> = { plain: [], instrumented: [] };
for (let r = 0; r < 5; r++) {
  results.plain!.push(await round(plain));
  results.instrumented!.push(await round(instrumented));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p = median(results.plain!);
const i = median(results.instrumented!);
process.stdout.write(`${N} requests per round, 5 rounds, median CPU µs/request: without ${p.toFixed(2)}, with ${i.toFixed(2)}, `
  + `difference ${(i - p).toFixed(2)} µs (${(((i - p) / p) * 100).toFixed(1)} %)\n`);
