import { RepointError } from '../errors.ts';
import type { Expected } from '../formats/digests.ts';
import { fillSpec } from '../fill/fill.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { SnapshotContext } from './checkpoint-source.ts';
import { forEachLimit } from './limit.ts';

export function checkpointFailed(msg: string, cause?: unknown): RepointError {
  return new RepointError('CHECKPOINT_FAILED', msg, {}, cause ? { cause } : undefined);
}

export interface PrefetchItem {
  path: string;
  expected: Expected;
}

/** packages: immediate — downloads and verifies every listed package (4 at a time); any failure fails the checkpoint. */
export async function prefetch(items: AsyncIterable<PrefetchItem>, remote: string, upstream: Upstream, ctx: SnapshotContext): Promise<number> {
  let count = 0;
  await forEachLimit(items, 4, async ({ path, expected }) => {
    try {
      const blob = await ctx.content.ensure(fillSpec(remote, upstream, path, expected));
      ctx.onFile(path, blob.size);
      count++;
    } catch (err) {
      throw checkpointFailed(`${path}: ${(err as Error).message}`, err);
    }
  });
  return count;
}
