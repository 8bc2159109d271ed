import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoint } from '../../test/helpers/cli.ts';
import { prepareDataDir } from './data-dir.ts';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-datadir-'));
  file = join(dir, 'a-file');
  await writeFile(file, 'not a directory');
});

describe('finding 13: dataDir pointing at a file', () => {
  it('is a config error naming dataDir and the fix, for the file itself and for a path under it', async () => {
    const fix = /; point dataDir \(or REPOINT_DATA_DIR\) at a directory repoint may write; it is created when missing$/;
    await expect(prepareDataDir(file, { create: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(new RegExp(`^dataDir: ${file} is not a directory${fix.source}`)) });
    await expect(prepareDataDir(join(file, 'data'), { create: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^dataDir: .*a-file\/data lies under a file, not a directory; point dataDir/) });
    await expect(prepareDataDir(file, { create: false })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('creates a missing directory, unless only reading', async () => {
    await prepareDataDir(join(dir, 'ro'), { create: false });
    await expect(stat(join(dir, 'ro'))).rejects.toMatchObject({ code: 'ENOENT' });
    await prepareDataDir(join(dir, 'new', 'data'), { create: true });
    expect((await stat(join(dir, 'new', 'data'))).isDirectory()).toBe(true);
  });

  it('is what the CLI prints, without a stack trace', async () => {
    const config = join(dir, 'mirror.yaml');
    await writeFile(config, stringify({ dataDir: file, remotes: { deb: { upstream: 'http://127.0.0.1:1', keyring: config } } }));
    for (const args of [['verify'], ['checkpoint', 'list'], ['gc', '--dry-run']]) {
      const r = await repoint([...args, '--config', config]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toBe(`repoint: CONFIG_INVALID: dataDir: ${file} is not a directory; point dataDir (or REPOINT_DATA_DIR) at a directory repoint may write; it is created when missing\n`);
    }
  });
});
