import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { currentProcess, parseTempName, systemProbe, tempName } from '../../src/blobs/temp-owner.ts';

const HOUR = 3600_000;

/** A real process of this host that has exited: its pid names nobody (or somebody else) now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('finding 6: FsBlobStore removes only temp files it can prove abandoned', () => {
  let dir: string;
  let store: FsBlobStore;
  const self = currentProcess();
  const plant = async (name: string, ageMs = 0): Promise<string> => {
    const path = join(dir, 'tmp', name);
    await writeFile(path, 'partial');
    if (ageMs) await utimes(path, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
    return name;
  };
  const left = async (): Promise<string[]> => (await readdir(join(dir, 'tmp'))).sort();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'repoint-temps-'));
    store = await FsBlobStore.open(dir, { tempMaxAgeMs: 24 * HOUR });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('names its own temp files after this process, parseably', async () => {
    const w = await store.createWriter();
    const [name] = await left();
    expect(parseTempName(name!)).toMatchObject({ host: self.host, pid: process.pid, start: self.start });
    await w.abort();
  });

  it('keeps a live process\'s download on this host, removes a dead one\'s at once', async () => {
    const sleeper = spawn('sleep', ['60']);
    try {
      const start = systemProbe.startTicks(sleeper.pid!) ?? 'x';
      const live = await plant(tempName({ host: self.host, pid: sleeper.pid!, start, instance: 'aaaaaaaa' }));
      const dead = await plant(tempName({ host: self.host, pid: await deadPid(), start: 'x', instance: 'bbbbbbbb' }));
      expect(await store.removeTempFiles()).toBe(1);
      expect(await left()).toEqual([live]);
      expect(dead).not.toBe(live);
    } finally {
      sleeper.kill();
    }
  });

  it('removes a file whose pid is alive but was recycled (another start time)', async () => {
    const sleeper = spawn('sleep', ['60']);
    try {
      const start = systemProbe.startTicks(sleeper.pid!);
      expect(start, 'this test needs /proc').toBeDefined();
      await plant(tempName({ host: self.host, pid: sleeper.pid!, start: String(Number(start) + 1), instance: 'aaaaaaaa' }));
      expect(await store.removeTempFiles()).toBe(1);
      expect(await left()).toEqual([]);
    } finally {
      sleeper.kill();
    }
  });

  it('judges another host\'s (or an older boot\'s) files, and unknown names, by age alone', async () => {
    const otherHost = await plant(tempName({ host: 'abcdefabcdef', pid: 1, start: '1', instance: 'cccccccc' }));
    const legacy = await plant(`${Date.now()}-${process.pid}-0b8e3e4c-6a55-4c8e-b2a3-1f1e9c1d2a3b.part`);
    await plant(tempName({ host: 'abcdefabcdef', pid: 2, start: '1', instance: 'dddddddd' }), 25 * HOUR);
    await plant('old-legacy.part', 25 * HOUR);
    expect(await store.removeTempFiles()).toBe(2);
    expect(await left()).toEqual([otherHost, legacy].sort());
  });

  it('keeps the writers of every store instance open in this process, not of closed ones', async () => {
    const other = await FsBlobStore.open(dir);
    const closed = await FsBlobStore.open(dir);
    const w1 = await store.createWriter();
    const w2 = await other.createWriter();
    await (await closed.createWriter()).write(Buffer.from('left behind'));
    await closed.close(); // as after a crash: its writer never finished
    expect(await other.removeTempFiles()).toBe(1);
    expect((await left()).length).toBe(2);
    await w1.write(Buffer.from('x'));
    expect((await w1.commit()).size).toBe(1);
    await w2.abort();
    await other.close();
  });

  it('opened read-only, it creates, rewrites and removes nothing', async () => {
    await plant(tempName({ host: self.host, pid: await deadPid(), start: 'x', instance: 'eeeeeeee' }));
    const totals = join(dir, 'totals.json');
    await store.totals(); // the writable store's start-up recount rewrites totals.json when it ends: let it end first
    const before = (await stat(totals)).mtimeMs;
    const ro = await FsBlobStore.open(dir, { readOnly: true });
    expect(await ro.removeTempFiles()).toBe(0);
    await expect(ro.createWriter()).rejects.toMatchObject({ code: 'INTERNAL' });
    await ro.close();
    expect((await left()).length).toBe(1);
    expect((await stat(totals)).mtimeMs).toBe(before);
    const fresh = join(dir, 'never-created');
    const none = await FsBlobStore.open(fresh, { readOnly: true });
    expect(await none.totals()).toEqual({ count: 0, bytes: 0 });
    const listed: string[] = [];
    for await (const b of none.list()) listed.push(b.sha256);
    expect(listed).toEqual([]);
    await none.close();
    await expect(stat(fresh)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
