import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';

// Every test file gets its own TMPDIR (os.tmpdir() reads it on each call, and the apt, dnf and gpg
// processes tests start inherit it), removed after the file with the gpg-agents started in it: one
// `npm test` run leaves no temp homes and no daemons behind.
const scratch = join(tmpdir(), `repoint-test-run-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(scratch, { recursive: true });
process.env['TMPDIR'] = scratch;

/** gpg homes (a directory holding an agent socket) up to a few levels down. */
function gpgHomes(dir: string, depth: number, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  if (names.some((n) => n.startsWith('S.gpg-agent'))) out.push(dir);
  if (depth > 0) {
    for (const n of names) {
      const p = join(dir, n);
      try {
        if (statSync(p).isDirectory()) gpgHomes(p, depth - 1, out);
      } catch {
        // removed meanwhile
      }
    }
  }
  return out;
}

afterAll(async () => {
  const run = promisify(execFile);
  await Promise.allSettled(gpgHomes(scratch, 4).map((home) => run('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'])));
  rmSync(scratch, { recursive: true, force: true, maxRetries: 5 });
});
