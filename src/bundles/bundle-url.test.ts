import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { openBundleSource } from './bundle-files.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

it('an error answer with an endless body is refused from its first bytes, not read whole into memory', async () => {
  let sent = 0;
  let closed = false;
  server = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.on('close', () => { closed = true; });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      // a misbehaving proxy or node: 256 MiB of error page (a test's worth of "endless"), then no end
      while (!closed && sent < 256 * 2 ** 20 && res.write(chunk)) sent += chunk.length;
      if (!closed) res.once('drain', pump);
    };
    res.write('<html><body>Internal error</body>');
    pump();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const started = Date.now();
  await expect(openBundleSource(`http://127.0.0.1:${port}/-/api/remotes/deb/export`, { timeoutMs: 5000 }))
    .rejects.toMatchObject({ code: 'UPSTREAM_BAD_STATUS', message: expect.stringContaining('answered 500: Internal error') });
  expect(Date.now() - started).toBeLessThan(4000); // not after the body timeout either
  expect(sent).toBeLessThan(64 * 2 ** 20); // far less than it would have sent by now, had it been read to the end
}, 20_000);
