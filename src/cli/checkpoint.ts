import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { createRuntime } from '../runtime.ts';
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
  const rt = await createRuntime(config, log);
  try {
    if (sub === 'create') {
      const progress = process.stderr.isTTY ? new Progress(`checkpoint ${remote!}`) : undefined;
      const started = Date.now();
      try {
        const entry = await rt.checkpoints.create(remote!, { onProgress: (p) => progress?.update(`${p.files} files, ${formatBytes(p.bytes)}`) });
        progress?.done(`${remote!}/${entry.ts}: ${entry.files} files, ${formatBytes(entry.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        process.stdout.write(`${remote!}/${entry.ts}\n`);
      } catch (err) {
        progress?.done(`failed: ${(err as Error).message}`);
        throw err;
      }
      return 0;
    }
    const names = remote ? [remote] : [...config.remotes.keys()];
    for (const name of names) {
      if (!config.remotes.has(name)) {
        process.stderr.write(`unknown remote "${name}"\n`);
        return 2;
      }
      for (const e of await rt.checkpoints.catalogue.list(name)) {
        process.stdout.write(`${name}/${e.ts}\t${e.createdAt}\t${e.files} files\t${e.bytes} bytes\n`);
      }
    }
    return 0;
  } finally {
    await rt.close();
  }
}
