// Proves the `lint:code` script (oxlint with the repo's .oxlintrc.json) parses .ts files and fails
// on what the project forbids: any, @ts-ignore, debugger, unused imports, focused or skipped tests,
// floating promises (a type-aware rule).
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type RunResult } from '../helpers/run.ts';

const REPO = resolve(import.meta.dirname, '../..');

const BAD = `import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';

export function f(x: any): number {
  debugger;
  return x;
}
// @ts-ignore
export const y: number = 'no';
async function g(): Promise<number> {
  return 1;
}
describe('x', () => {
  it.only('a', () => {
    g();
    expect(1).toBe(1);
  });
  it.skip('b', () => {
    expect(1).toBe(1);
  });
});
`;

const GOOD = `import { describe, expect, it } from 'vitest';

async function g(): Promise<number> {
  return 1;
}
describe('x', () => {
  it('a', async () => {
    expect(await g()).toBe(1);
  });
});
`;

let root: string;

async function lintCode(name: string, source: string): Promise<RunResult> {
  const dir = join(root, name);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'src', 'sample.test.ts'), source);
  await symlink(join(REPO, '.oxlintrc.json'), join(dir, '.oxlintrc.json'));
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts['lint:code'];
  if (script === undefined) throw new Error('package.json has no lint:code script');
  const env = { ...process.env, PATH: `${join(REPO, 'node_modules/.bin')}${delimiter}${process.env['PATH'] ?? ''}` };
  return run('sh', ['-c', `${script} --format unix`], { cwd: dir, env, allowFail: true, timeoutMs: 60_000 });
}

/** `file:line:col: message [Error/plugin(rule)]` lines, as `line plugin(rule)`. */
function findings(out: string): string[] {
  return [...out.matchAll(/^src\/sample\.test\.ts:(\d+):\d+: .* \[Error\/(\S+)\]$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
}

describe('code lint (npm run lint:code)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'repoint-oxlint-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('passes clean code', async () => {
    const res = await lintCode('good', GOOD);
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });

  it('fails on each forbidden construct, naming the rule', async () => {
    const res = await lintCode('bad', BAD);
    expect(res.code).not.toBe(0);
    expect(findings(res.stdout), res.stdout + res.stderr).toEqual(
      [
        '2 eslint(no-unused-vars)',
        '4 typescript(no-explicit-any)',
        '5 eslint(no-debugger)',
        '8 typescript(ban-ts-comment)',
        '14 vitest(no-focused-tests)',
        '15 typescript(no-floating-promises)',
        '18 vitest(no-disabled-tests)',
      ].sort(),
    );
  });
});
