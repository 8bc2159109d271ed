import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { currentProcess, tempName } from './temp-owner.ts';
import { startTempSweep } from './temp-sweep.ts';

it('finding 6: a serving process sweeps abandoned temp files periodically, not only at start-up', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-sweep-'));
  const store = await FsBlobStore.open(dir);
  let stop = (): void => {};
  try {
    const live = await store.createWriter(); // this instance's own download: never swept
    // a CLI command on this host crashed, leaving its temp file behind
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    await writeFile(join(dir, 'tmp', tempName({ ...currentProcess(), pid: child.pid!, start: 'x', instance: 'abcdef01' })), 'partial');
    expect((await readdir(join(dir, 'tmp'))).length).toBe(2);
    // the server was started before: its periodic sweep finds the file on a later round
    stop = startTempSweep(store, 20, silentLogger);
    const deadline = Date.now() + 10_000;
    while ((await readdir(join(dir, 'tmp'))).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await readdir(join(dir, 'tmp'))).length).toBe(1);
    await live.write(Buffer.from('still mine'));
    expect((await live.commit()).size).toBe(10);
  } finally {
    stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
