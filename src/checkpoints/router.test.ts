import { beforeEach, describe, expect, it } from 'vitest';
import { formatCheckpointTime } from '../formats/checkpoint-time.ts';
import type { Reply } from '../serve/reply.ts';
import type { RemoteHandler, ServeRequest } from '../serve/remote-handler.ts';
import { bodyOf, memoryWorld, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { Catalogue } from './catalogue.ts';
import type { CheckpointSource } from './checkpoint-source.ts';
import type { CheckpointManifest } from './manifest.ts';
import { CheckpointRouter } from './router.ts';

const REQ: ServeRequest = { method: 'GET', id: 'test' };
const JAN = '20240101T000000Z';
const FEB = '20240201T000000Z';

const text = (s: string): Reply => ({ contentType: 'text/plain', cacheControl: 'no-store', body: { kind: 'bytes', data: Buffer.from(s) } });

/** A live remote that says who answered: the live handler, or a checkpoint view (with the manifest's ts). */
function fakeRemote(name: string): RemoteHandler & CheckpointSource {
  return {
    name,
    type: 'apt',
    handle: async (path) => text(`live ${path}`),
    snapshot: async () => ({ fields: {} }),
    serveCheckpoint: async (m: CheckpointManifest, path: string) => text(`checkpoint ${m.ts} ${path}`),
  };
}

describe('CheckpointRouter', () => {
  let w: MemoryWorld;
  let catalogue: Catalogue;

  beforeEach(() => {
    w = memoryWorld();
    catalogue = new Catalogue(w.state, w.blobs);
  });
  const publish = async (remote: string, ts: string, createdAt = '2024-01-01T00:00:00.000Z'): Promise<void> => {
    const m: CheckpointManifest = { version: 1, remote, type: 'apt', ts, createdAt, signer: 'F'.repeat(40) };
    const blob = await w.content.storeBytes(Buffer.from(JSON.stringify(m)));
    await catalogue.publish(remote, { ts, manifest: blob.sha256, createdAt, files: 3, bytes: 4 }, 10);
  };
  const router = (name = 'deb'): CheckpointRouter => new CheckpointRouter(fakeRemote(name), catalogue);
  const answer = async (r: CheckpointRouter, path: string): Promise<string> => (await bodyOf(await r.handle(path, REQ))).toString();

  it('sends paths that are not timestamps to the live remote', async () => {
    await publish('deb', JAN);
    expect(await answer(router(), 'dists/stable/InRelease')).toBe('live dists/stable/InRelease');
    expect(await answer(router(), 'pool/2024/x.deb')).toBe('live pool/2024/x.deb');
  });

  it('serves an exact timestamp from that checkpoint, with the sub-path', async () => {
    await publish('deb', JAN);
    await publish('deb', FEB);
    expect(await answer(router(), `${JAN}/dists/stable/InRelease`)).toBe(`checkpoint ${JAN} dists/stable/InRelease`);
    expect(await answer(router(), `${FEB}/pool/a b.deb`)).toBe(`checkpoint ${FEB} pool/a b.deb`);
    await expect(router().handle(`${FEB}/dists/`, REQ)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(router().handle(FEB, REQ)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('redirects a time between checkpoints (301) to the one before it, keeping the sub-path encoded', async () => {
    await publish('deb', JAN);
    await publish('deb', FEB);
    const reply = await router().handle('20240115T120000Z/pool/main/a b+c%d.deb', REQ);
    expect(reply.status).toBe(301);
    expect(reply.headers?.['location']).toBe(`/deb/${JAN}/pool/main/a%20b%2Bc%25d.deb`);
    const late = await router().handle('20240301T000000Z/dists/stable/InRelease', REQ);
    expect(late.headers?.['location']).toBe(`/deb/${FEB}/dists/stable/InRelease`);
  });

  it('answers CHECKPOINT_NOT_FOUND before the first, in the future, for a malformed time, and with none', async () => {
    const future = formatCheckpointTime(new Date(Date.now() + 86400_000));
    await expect(router().handle(`${JAN}/x`, REQ)).rejects.toMatchObject({ code: 'CHECKPOINT_NOT_FOUND' }); // none yet
    await publish('deb', FEB);
    for (const path of [`${JAN}/x`, `${future}/x`, '20241301T000000Z/x', '20240101/x', '20240230T000000Z/x']) {
      await expect(router().handle(path, REQ), path).rejects.toMatchObject({ code: 'CHECKPOINT_NOT_FOUND' });
    }
  });

  it('lists checkpoints at /<remote>/, newest first, escaping what it shows', async () => {
    await publish('deb', JAN);
    await publish('deb', FEB, '<script>alert(1)</script>');
    const reply = await router().handle('', REQ);
    expect(reply.contentType).toBe('text/html; charset=utf-8');
    const html = (await bodyOf(reply)).toString();
    expect(html.indexOf(FEB)).toBeLessThan(html.indexOf(JAN));
    expect(html).toContain(`<a href="${JAN}/">${JAN}</a>`);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');

    await publish('a<b>&"c', JAN);
    const odd = (await bodyOf(await router('a<b>&"c').handle('', REQ))).toString();
    expect(odd).not.toContain('a<b>');
    expect(odd).toContain('<h1>a&#60;b&#62;&#38;&#34;c</h1>');
  });

  it('lists none for a remote without checkpoints', async () => {
    expect(await answer(router(), '')).toContain('<li>none yet</li>');
  });
});
