import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { e2eRequired, requireTools } from './e2e.ts';

const run = promisify(execFile);

/** A real, small filesystem: what "the disk is full" looks like to repoint. */
export interface Tmpfs {
  readonly dir: string;
  /** Writes a filler file until the filesystem refuses a single byte more (ENOSPC). */
  fill(): Promise<void>;
  /** Removes the filler. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs> {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-tmpfs-'));
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    async fill() {
      const fh = await open(filler, 'a');
      try {
        for (const chunk of [65536, 4096, 1]) {
          const buf = Buffer.alloc(chunk);
          for (;;) {
            const err = await fh.write(buf).then(() => undefined, (e: unknown) => e);
            if (err === undefined) continue;
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            break;
          }
        }
      } finally {
        await fh.close();
      }
    },
    free: () => rm(filler, { force: true }),
    async unmount() {
      // lazily when busy: a failing test may leave a handle open until it is collected
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await rmdir(dir);
    },
  };
}

/**
 * `describe` for suites that mount a tmpfs: they need root and mount/umount. Without them the suite
 * skips with a warning, or fails under REPOINT_E2E=required, like describeE2E for missing tools.
 */
export function describeWithTmpfs(title: string, tools: readonly string[], fn: () => void): void {
  const check = requireTools(['mount', 'umount', ...tools]);
  const reasons = [check.reason, process.getuid?.() === 0 ? '' : 'mounting a tmpfs needs root'].filter(Boolean);
  if (reasons.length === 0) {
    describe(title, fn);
    return;
  }
  if (e2eRequired()) {
    describe(title, () => {
      test('can mount a tmpfs and has the tools', () => {
        expect.unreachable(`REPOINT_E2E=required but ${reasons.join('; ')}`);
      });
    });
    return;
  }
  console.warn(`skipping suite "${title}": ${reasons.join('; ')} (set REPOINT_E2E=required to fail instead)`);
  describe.skipIf(true)(title, fn);
}
