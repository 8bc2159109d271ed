// Proves the layer rules bite: the `lint:layers` script from package.json runs, with the repo's
// config, over a fixture tree laid out like src/ (with a src/zypper/ the real tree does not have).
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type RunResult } from '../helpers/run.ts';

const REPO = resolve(import.meta.dirname, '../..');

/** Files every tree has; none of them breaks a rule. */
const CLEAN: Record<string, string> = {
  'src/errors.ts': 'export class RepointError extends Error {}\n',
  'src/log.ts': "import { RepointError } from './errors.ts';\nexport const log = (e: RepointError): string => e.message;\n",
  'src/cli/main.ts': "import { apt } from '../apt/index.ts';\nexport const main = apt;\n",
  'src/cli/progress.ts': 'export interface Progress { done: number }\n',
  'src/formats/http/range.ts': "import { createHash } from 'node:crypto';\nimport { RepointError } from '../../errors.ts';\nexport const h = (): RepointError => new RepointError(createHash('sha256').digest('hex'));\n",
  'src/apt/formats/release.ts': "import { h } from '../../formats/http/range.ts';\nimport { RepointError } from '../../errors.ts';\nimport { tag } from './paths.ts';\nexport const release = (): RepointError => h() ?? tag;\n",
  'src/apt/formats/paths.ts': "export const tag = 'apt';\n",
  // a co-located test may read fixtures and use test/ helpers
  'src/apt/formats/release.test.ts': "import { readFileSync } from 'node:fs';\nimport { helper } from '../../../test/helpers/h.ts';\nexport const t = [readFileSync, helper];\n",
  'src/apt/remote.ts': "import { fill } from '../fill/fill.ts';\nimport { release } from './formats/release.ts';\nexport const remote = [fill, release];\n",
  'src/apt/index.ts': "import type { Reply } from '../serve/reply.ts';\nimport { remote } from './remote.ts';\nexport const apt: [unknown, Reply?] = [remote];\n",
  'src/yum/formats/repomd.ts': "import { RepointError } from '../../errors.ts';\nexport const repomd = RepointError;\n",
  'src/yum/index.ts': "import { repomd } from './formats/repomd.ts';\nexport const yum = repomd;\n",
  'src/fill/fill.ts': "import { readFile } from 'node:fs/promises';\nexport const fill = readFile;\n",
  'src/serve/reply.ts': "import type { fill } from '../fill/fill.ts';\nexport interface Reply { f: typeof fill }\n",
  'src/checkpoints/catalogue.ts': "import type { Reply } from '../serve/reply.ts';\nexport type Catalogue = Reply[];\n",
  'src/repository-type.ts': "import type { Reply } from './serve/reply.ts';\nexport interface RepositoryType { reply?: Reply }\n",
  'src/registry.ts': "import { apt } from './apt/index.ts';\nimport { yum } from './yum/index.ts';\nexport const types = [apt, yum];\n",
  'src/runtime.ts': "import { types } from './registry.ts';\nexport const runtime = types;\n",
  'src/http/app.ts': "import type { Reply } from '../serve/reply.ts';\nimport { runtime } from '../runtime.ts';\nexport const app: [unknown, Reply?] = [runtime];\n",
  'test/helpers/h.ts': 'export const helper = 1;\n',
};

/** One violation per file (the file name says which); each maps to the errors it must raise. */
const VIOLATIONS: Record<string, { source: string; errors: string[] }> = {
  'src/formats/type-import-of-cli.ts': {
    source: "import type { Progress } from '../cli/progress.ts';\nexport type P = Progress;\n",
    errors: [
      'formats-pure-shared-only-formats: src/formats/type-import-of-cli.ts → src/cli/progress.ts',
      'no-import-of-cli: src/formats/type-import-of-cli.ts → src/cli/progress.ts',
      'shared-not-to-types-or-edge: src/formats/type-import-of-cli.ts → src/cli/progress.ts',
    ],
  },
  'src/apt/formats/import-of-cli-main.ts': {
    source: "import { main } from '../../cli/main.ts';\nexport const m = main;\n",
    errors: [
      'formats-pure-type-only-formats: src/apt/formats/import-of-cli-main.ts → src/cli/main.ts',
      'no-import-of-cli: src/apt/formats/import-of-cli-main.ts → src/cli/main.ts',
    ],
  },
  'src/formats/fs-io.ts': {
    source: "import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n",
    errors: ['formats-pure-no-io: src/formats/fs-io.ts → fs/promises'],
  },
  'src/apt/formats/npm-io.ts': {
    source: "import { request } from 'undici';\nexport const r = request;\n",
    errors: ['formats-pure-no-io: src/apt/formats/npm-io.ts → node_modules/undici/index.js'],
  },
  'src/apt/formats/rest-of-own-type.ts': {
    source: "import { remote } from '../remote.ts';\nexport const r = remote;\n",
    errors: ['formats-pure-type-only-formats: src/apt/formats/rest-of-own-type.ts → src/apt/remote.ts'],
  },
  'src/apt/formats/other-type-formats.ts': {
    source: "import { repomd } from '../../yum/formats/repomd.ts';\nexport const r = repomd;\n",
    errors: [
      'formats-pure-type-only-formats: src/apt/formats/other-type-formats.ts → src/yum/formats/repomd.ts',
      'type-not-to-other-type: src/apt/formats/other-type-formats.ts → src/yum/formats/repomd.ts',
    ],
  },
  'src/zypper/type-import-of-yum.ts': {
    source: "import type { yum } from '../yum/index.ts';\nexport type Y = typeof yum;\n",
    errors: ['type-not-to-other-type: src/zypper/type-import-of-yum.ts → src/yum/index.ts'],
  },
  'src/apt/edge.ts': {
    source: "import { app } from '../http/app.ts';\nexport const a = app;\n",
    errors: ['type-not-to-edge: src/apt/edge.ts → src/http/app.ts'],
  },
  'src/http/fill-direct.ts': {
    source: "import { fill } from '../fill/fill.ts';\nexport const f = fill;\n",
    errors: ['http-not-to-fill: src/http/fill-direct.ts → src/fill/fill.ts'],
  },
  'src/serve/type-folder.ts': {
    source: "import { apt } from '../apt/index.ts';\nexport const a = apt;\n",
    errors: ['shared-not-to-types-or-edge: src/serve/type-folder.ts → src/apt/index.ts'],
  },
  'src/checkpoints/composition-root.ts': {
    source: "import { runtime } from '../runtime.ts';\nexport const r = runtime;\n",
    errors: ['shared-not-to-types-or-edge: src/checkpoints/composition-root.ts → src/runtime.ts'],
  },
  'src/checkpoints/type-interface.ts': {
    source: "import type { RepositoryType } from '../repository-type.ts';\nexport type T = RepositoryType;\n",
    errors: ['shared-not-to-types-or-edge: src/checkpoints/type-interface.ts → src/repository-type.ts'],
  },
  'src/apt/registry-import.ts': {
    source: "import { types } from '../registry.ts';\nexport const t = types;\n",
    errors: ['type-not-to-edge: src/apt/registry-import.ts → src/registry.ts'],
  },
  'src/upstream/re-export-of-cli.ts': {
    source: "export type { Progress } from '../cli/progress.ts';\n",
    errors: [
      'no-import-of-cli: src/upstream/re-export-of-cli.ts → src/cli/progress.ts',
      'shared-not-to-types-or-edge: src/upstream/re-export-of-cli.ts → src/cli/progress.ts',
    ],
  },
  'src/state/serve-core.ts': {
    source: "import type { Reply } from '../serve/reply.ts';\nexport type R = Reply;\n",
    errors: ['storage-not-to-fill-serve-checkpoints: src/state/serve-core.ts → src/serve/reply.ts'],
  },
  'src/serve/checkpoints.ts': {
    source: "import type { Catalogue } from '../checkpoints/catalogue.ts';\nexport type C = Catalogue;\n",
    errors: ['serve-not-to-checkpoints: src/serve/checkpoints.ts → src/checkpoints/catalogue.ts'],
  },
  'src/fill/test-helper.ts': {
    source: "import { helper } from '../../test/helpers/h.ts';\nexport const h = helper;\n",
    errors: ['src-not-to-test-or-bench: src/fill/test-helper.ts → test/helpers/h.ts'],
  },
  'src/version.ts': {
    source: "import { fill } from './fill/fill.ts';\nexport const version = fill.name;\n",
    errors: ['base-imports-no-layer: src/version.ts → src/fill/fill.ts'],
  },
  'src/formats/typo.ts': {
    source: "import { tag } from './no-such-file.ts';\nexport const t = tag;\n",
    errors: ['not-to-unresolvable: src/formats/typo.ts → ./no-such-file.ts'],
  },
};

let root: string;

/** Lays out a tree that shares the repo's config and node_modules. */
async function tree(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
  for (const shared of ['.dependency-cruiser.ts', 'node_modules']) {
    await symlink(join(REPO, shared), join(dir, shared));
  }
  return dir;
}

/** Runs the `lint:layers` script exactly as package.json spells it. */
async function lintLayers(cwd: string): Promise<RunResult> {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts['lint:layers'];
  if (script === undefined) throw new Error('package.json has no lint:layers script');
  const env = { ...process.env, PATH: `${join(REPO, 'node_modules/.bin')}${delimiter}${process.env['PATH'] ?? ''}` };
  return run('sh', ['-c', script], { cwd, env, allowFail: true, timeoutMs: 60_000 });
}

/** `error <rule>: <from> → <to>` lines of the err-long report (npm paths cut to node_modules/). */
function errors(out: string): string[] {
  return out
    .split('\n')
    .map((l) => /^\s*error (.+)$/.exec(l)?.[1]?.replace(/ → \S*?node_modules\//, ' → node_modules/'))
    .filter((l): l is string => l !== undefined)
    .sort();
}

describe('layer rules (npm run lint:layers)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'repoint-layers-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('passes a tree that keeps every rule', async () => {
    const res = await lintLayers(await tree('clean', CLEAN));
    expect(errors(res.stdout), res.stdout + res.stderr).toEqual([]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    // the .ts files were really parsed: every import statement (type-only ones too) is a dependency
    // (co-located tests are not cruised at all)
    const shipped = Object.entries(CLEAN).filter(([path]) => !path.endsWith('.test.ts')).map(([, source]) => source);
    const imports = shipped.join('').match(/ from '/g)?.length ?? 0;
    expect(res.stdout).toContain(`, ${imports} dependencies cruised`);
  });

  it('fails on each planted violation (type-only imports and re-exports included), naming the rule', async () => {
    const planted = Object.fromEntries(Object.entries(VIOLATIONS).map(([path, v]) => [path, v.source]));
    const res = await lintLayers(await tree('violations', { ...CLEAN, ...planted }));
    const expected = Object.values(VIOLATIONS).flatMap((v) => v.errors).sort();
    expect(errors(res.stdout), res.stdout + res.stderr).toEqual(expected);
    expect(res.code).not.toBe(0);
    // the rule's comment says why
    expect(res.stdout).toContain('nothing in src/ outside it may');
  });
});
