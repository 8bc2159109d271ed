import { createServer } from 'node:net';
import { expect, test } from 'vitest';
import { e2eRequired, requireTools } from './e2e.ts';
import { freePort } from './ports.ts';

test('requireTools finds tools on PATH and names the missing ones', () => {
  const env = { PATH: `/nonexistent-dir:${process.env['PATH'] ?? ''}` };
  expect(requireTools(['sh'], env)).toEqual({ ok: true, missing: [], reason: '' });
  const r = requireTools(['sh', 'repoint-no-such-tool-x'], env);
  expect(r.ok).toBe(false);
  expect(r.missing).toEqual(['repoint-no-such-tool-x']);
  expect(r.reason).toContain('repoint-no-such-tool-x');
  expect(requireTools(['sh'], { PATH: '' }).ok).toBe(false);
});

test('e2eRequired reads REPOINT_E2E', () => {
  expect(e2eRequired({ REPOINT_E2E: 'required' })).toBe(true);
  expect(e2eRequired({})).toBe(false);
});

test('freePort returns a port that can be bound on loopback', async () => {
  const port = await freePort();
  expect(port).toBeGreaterThan(0);
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve) => srv.close(() => resolve()));
});
