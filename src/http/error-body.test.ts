import { describe, expect, it } from 'vitest';
import { RepointError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { RemoteHandler } from '../serve/remote-handler.ts';
import { createApp } from './app.ts';

const KEYRING = '/etc/repoint/keys/vendor-archive.gpg';
const FINGERPRINT = 'A1B2C3D4E5F60718293A4B5C6D7E8F9012345678';

function appThrowing(err: Error): { app: ReturnType<typeof createApp>; lines: string[] } {
  const lines: string[] = [];
  const remote: RemoteHandler = { name: 'deb', type: 'apt', handle: async () => { throw err; } };
  const app = createApp({
    remotes: new Map([['deb', remote]]), upstreams: new Map(), internal: async () => undefined,
    log: createLogger('debug', {}, (l) => lines.push(l)),
  });
  return { app, lines };
}

async function answer(err: Error): Promise<{ status: number; body: { error: string; message: string }; log: string }> {
  const { app, lines } = appThrowing(err);
  const res = await app.request('/deb/dists/stable/InRelease');
  return { status: res.status, body: (await res.json()) as { error: string; message: string }, log: lines.join('') };
}

describe('client-facing error bodies (issue 8, finding 8)', () => {
  it('keep the stable SIGNATURE_* code but not keyring paths or fingerprints, which stay in the log', async () => {
    const err = new RepointError('SIGNATURE_INVALID', `dists/stable/InRelease is not signed by any key in the keyring ${KEYRING} (${FINGERPRINT})`);
    const { status, body, log } = await answer(err);
    expect(status).toBe(502);
    expect(body.error).toBe('SIGNATURE_INVALID');
    expect(body.message).toMatch(/signature verification/);
    expect(JSON.stringify(body)).not.toContain(KEYRING);
    expect(JSON.stringify(body)).not.toContain(FINGERPRINT);
    expect(log).toContain(KEYRING);
    expect(log).toContain(FINGERPRINT);
    const missing = await answer(new RepointError('SIGNATURE_MISSING', `no signature; keyring ${KEYRING}`));
    expect(missing.body).toMatchObject({ error: 'SIGNATURE_MISSING' });
    expect(missing.body.message).not.toContain(KEYRING);
  });

  it('do not name local files for a disabled remote, a config problem or an internal error', async () => {
    for (const [code, msg] of [
      ['REMOTE_UNAVAILABLE', `remote deb is disabled: remotes.deb.keyring: file not found: ${KEYRING}`],
      ['CONFIG_INVALID', `keyring file is not an OpenPGP keyring: ${KEYRING}`],
    ] as const) {
      const { body } = await answer(new RepointError(code, msg));
      expect(body.error).toBe(code);
      expect(body.message).not.toContain(KEYRING);
    }
    const { status, body } = await answer(new Error(`ENOENT: no such file or directory, open '${KEYRING}'`));
    expect([status, body.error]).toEqual([500, 'INTERNAL']);
    expect(body.message).not.toContain(KEYRING);
  });

  it('redact URL credentials in every other message and in the log', async () => {
    const { body, log } = await answer(new RepointError('UPSTREAM_UNAVAILABLE', 'upstream answered 503 for http://alice:hunter2@127.0.0.1:9/debian/x'));
    expect(body.message).toBe('upstream answered 503 for http://***@127.0.0.1:9/debian/x');
    expect(log).not.toContain('hunter2');
  });
});
