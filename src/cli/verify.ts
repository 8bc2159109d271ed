import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { openStores } from '../runtime.ts';
import { formatBytes, Progress } from './progress.ts';

/** Re-hashes every blob; a blob whose content no longer matches its name is reported and deleted. */
export async function runVerify(config: Config, log: Logger): Promise<number> {
  const { blobs, state } = await openStores(config, log);
  const progress = new Progress('verify');
  let checked = 0;
  let bytes = 0;
  const bad: string[] = [];
  try {
    for await (const info of blobs.list()) {
      const h = createHash('sha256');
      await pipeline(blobs.open(info.sha256), h);
      const actual = h.digest('hex');
      if (actual !== info.sha256) {
        bad.push(info.sha256);
        await blobs.delete(info.sha256);
        process.stdout.write(`BAD ${info.sha256} (content hashes to ${actual}); deleted\n`);
      }
      checked++;
      bytes += info.size;
      progress.update(`${checked} blobs, ${formatBytes(bytes)}`);
    }
  } finally {
    await state.close();
    await blobs.close();
  }
  progress.done(`${checked} blobs, ${formatBytes(bytes)} checked; ${bad.length} bad${bad.length ? ' (deleted; they will be fetched again on demand)' : ''}`);
  return bad.length ? 1 : 0;
}
