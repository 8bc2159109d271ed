import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../test/helpers/run.ts';

const NODE = resolve(import.meta.dirname, '../../node_modules/.bin/node');
const MAIN = resolve(import.meta.dirname, 'main.ts');
let dir: string;
let preload: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-relaunch-'));
  preload = join(dir, 'record.mjs');
  // runs in every process the command starts as: records its pid and flags
  await writeFile(preload, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(join(dir, 'log'))}, JSON.stringify({ pid: process.pid, argv: process.execArgv }) + '\\n');\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function starts(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Array<{ pid: number; argv: string[] }>> {
  await rm(join(dir, 'log'), { force: true });
  await run(NODE, ['--import', preload, MAIN, ...args], { allowFail: true, env: { ...process.env, ...env } });
  return (await readFile(join(dir, 'log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { pid: number; argv: string[] });
}

it('a bulk command re-executes itself once, in the same process, with a small young generation', async () => {
  const s = await starts(['bundle', 'verify', join(dir, 'missing.tar'), '--key', join(dir, 'missing.asc')]);
  expect(s).toHaveLength(2);
  expect(s[1]!.pid).toBe(s[0]!.pid);
  expect(s[1]!.argv).toContain('--max-semi-space-size=8');
});

it('other commands, and an operator\'s own setting, start once as they are', async () => {
  expect(await starts(['--help'])).toHaveLength(1);
  const own = await starts(['bundle', 'verify', join(dir, 'missing.tar')], { NODE_OPTIONS: '--max-semi-space-size=16' });
  expect(own).toHaveLength(1);
});
