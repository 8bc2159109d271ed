import { Catalogue } from '../checkpoints/catalogue.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { createRuntime, openStores } from '../runtime.ts';
import { formatBytes, Progress } from './progress.ts';

/** `repoint checkpoint create <remote>` / `repoint checkpoint list [<remote>]`. */
export async function runCheckpoint(config: Config, log: Logger, args: string[]): Promise<number> {
  const [sub, remote] = args;
  if (sub !== 'create' && sub !== 'list') {
    process.stderr.write('usage: repoint checkpoint create <remote> | repoint checkpoint list [<remote>]\n');
    return 2;
  }
  if (sub === 'create' && !remote) {
    process.stderr.write(`usage: repoint checkpoint create <remote>   (remotes: ${[...config.remotes.keys()].join(', ')})\n`);
    return 2;
  }
  if (sub === 'list') return listCheckpoints(config, log, remote);
  const rt = await createRuntime(config, log);
  const progress = process.stderr.isTTY ? new Progress(`checkpoint ${remote!}`) : undefined;
  const started = Date.now();
  try {
    const entry = await rt.checkpoints.create(remote!, { onProgress: (p) => progress?.update(`${p.files} files, ${formatBytes(p.bytes)}`) });
    progress?.done(`${remote!}/${entry.ts}: ${entry.files} files, ${formatBytes(entry.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(`${remote!}/${entry.ts}\n`);
    return 0;
  } catch (err) {
    progress?.done(`failed: ${(err as Error).message}`);
    throw err;
  } finally {
    await rt.close();
  }
}

/**
 * Only reads the catalogue: no runtime (no key creation, no upstream), and the blob store opened
 * read-only, so running it beside a serving node changes nothing there.
 */
async function listCheckpoints(config: Config, log: Logger, remote: string | undefined): Promise<number> {
  const names = remote ? [remote] : [...config.remotes.keys()];
  const unknown = names.find((n) => !config.remotes.has(n));
  if (unknown !== undefined) {
    process.stderr.write(`unknown remote "${unknown}"\n`);
    return 2;
  }
  const { blobs, state } = await openStores(config, log, { readOnly: true });
  try {
    const catalogue = new Catalogue(state, blobs);
    for (const name of names) {
      for (const e of await catalogue.list(name)) {
        process.stdout.write(`${name}/${e.ts}\t${e.createdAt}\t${e.files} files\t${e.bytes} bytes\n`);
      }
    }
    return 0;
  } finally {
    await state.close();
    await blobs.close();
  }
}
