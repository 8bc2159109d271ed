import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { isRepointError } from '../errors.ts';
import type { Expected } from '../formats/digests.ts';
import { silentLogger } from '../log.ts';
import { FillRegistry } from './fill-registry.ts';
import { ScriptedUpstream, serveFile } from '../../test/helpers/scripted-upstream.ts';
import { sha256 } from '../../test/helpers/fill-harness.ts';

const MAX = 100_000;

function start(upstream: ScriptedUpstream, expected: Expected): ReturnType<FillRegistry['getOrStart']>['fill'] {
  const registry = new FillRegistry(new MemoryBlobStore(), silentLogger, undefined, MAX);
  return registry.getOrStart({ key: 'k', upstream, sources: ['repodata/other.xml.gz'], expected }).fill;
}

const tooLarge = (e: unknown): boolean => isRepointError(e, 'UPSTREAM_TOO_LARGE');

// Finding 10: a file whose metadata declares no size (a yum data entry without <size>) streamed up to
// a hard-coded 64 GiB. limits.maxFileSize (configured small here) is where it stops.
describe('finding 10: limits.maxFileSize', () => {
  it('stops a download without a declared size (and without Content-Length) at the cap', async () => {
    const data = randomBytes(3 * MAX);
    const up = new ScriptedUpstream((req) => ({ ...serveFile(data)(req), headers: {} }));
    const fill = start(up, { digests: [{ algo: 'sha256', hex: sha256(data) }] });
    await expect(fill.done).rejects.toSatisfy(tooLarge);
    expect(fill.written).toBeLessThanOrEqual(MAX);
  });

  it('refuses an announced Content-Length over the cap before reading the body', async () => {
    const data = randomBytes(2 * MAX);
    const fill = start(new ScriptedUpstream(serveFile(data)), { digests: [{ algo: 'sha256', hex: sha256(data) }] });
    await expect(fill.done).rejects.toSatisfy(tooLarge);
    expect(fill.written).toBe(0);
  });

  it('refuses a declared size over the cap without asking upstream', async () => {
    const data = randomBytes(2 * MAX);
    const up = new ScriptedUpstream(serveFile(data));
    const fill = start(up, { size: data.length, digests: [{ algo: 'sha256', hex: sha256(data) }] });
    await expect(fill.done).rejects.toSatisfy(tooLarge);
    expect(up.requests).toHaveLength(0);
  });

  it('lets files within the cap through', async () => {
    const data = randomBytes(MAX);
    const fill = start(new ScriptedUpstream((req) => ({ ...serveFile(data)(req), headers: {} })), { digests: [{ algo: 'sha256', hex: sha256(data) }] });
    expect((await fill.done).sha256).toBe(sha256(data));
  });
});
