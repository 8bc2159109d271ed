import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSqliteState } from '../../src/state/open-state.ts';
import { describeWithTmpfs, mountTmpfs, type Tmpfs } from '../helpers/tmpfs.ts';

/**
 * Issue 8, finding 11: start-up must work on a full disk. SQLite in WAL mode allocates its shared
 * wal-index (-shm) when a process opens the state after a clean close; with no free page that fails
 * ("disk I/O error") and the server could not start. A real tmpfs, filled to the last byte.
 */
describeWithTmpfs('sqlite state on a full disk (issue 8, finding 11)', [], () => {
  let fs: Tmpfs;
  beforeAll(async () => {
    fs = await mountTmpfs(1024 * 1024);
  });
  afterAll(async () => fs?.unmount());

  it('opens, answers reads, refuses writes as STATE_UNAVAILABLE, and writes again once space is freed', async () => {
    const path = join(fs.dir, 'state', 'state.sqlite');
    const first = openSqliteState(path);
    await first.set('apt:idx:x:pool/a.deb', { size: 1 });
    await first.close();
    await fs.fill();
    const reasons: string[] = [];
    const state = openSqliteState(path, { onDegraded: (r) => reasons.push(r) });
    expect(reasons).toHaveLength(1);
    expect(await state.get('apt:idx:x:pool/a.deb')).toEqual({ size: 1 });
    await expect(state.set('k', 'x'.repeat(100_000))).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    await fs.free();
    await state.set('k', 'v');
    expect(await state.get('k')).toBe('v');
    await state.close();
    const again = openSqliteState(path); // and normally (shared) once the disk has room
    expect(await again.get('k')).toBe('v');
    await again.close();
  });
});
