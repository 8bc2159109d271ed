import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { run } from '../../test/helpers/run.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'bin/repoint.js');
const NODE_BIN = resolve(ROOT, 'node_modules/.bin');

it('the installed command runs by its shebang', async () => {
  const res = await run(BIN, ['--help'], { env: { ...process.env, PATH: `${NODE_BIN}:${process.env.PATH ?? ''}` } });
  expect(res.stdout).toContain('usage: repoint <command>');
});

it('turns the compile cache on before any TypeScript module loads, main.ts included', async () => {
  const res = await run(resolve(NODE_BIN, 'node'), [BIN, '--help'], { env: { ...process.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
  expect(res.stderr).toMatch(/transpile cache for StrippedTypeScript file:\/\/\S*\/src\/cli\/main\.ts/);
});
