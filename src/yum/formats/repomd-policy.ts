import type { Repomd } from './repomd.ts';

/** What a verified repomd record remembers for the rollback check. */
export interface RepomdMarks {
  revision?: string;
  maxTimestamp?: number;
}

const NUMERIC = /^\d{1,15}$/;

/**
 * Why `next` would roll back from the verified `prev`, or undefined when it is acceptable.
 * Revisions only compare when both are numbers (createrepo's default is epoch seconds; free-form
 * strings have no order); the newest data timestamp must not go down either.
 */
export function rollbackReason(next: Repomd, prev: RepomdMarks | undefined): string | undefined {
  if (!prev) return undefined;
  if (prev.revision !== undefined && next.revision !== undefined && NUMERIC.test(prev.revision) && NUMERIC.test(next.revision)
    && Number(next.revision) < Number(prev.revision)) {
    return `revision ${next.revision} is lower than the verified ${prev.revision}`;
  }
  if (prev.maxTimestamp !== undefined && next.maxTimestamp !== undefined && next.maxTimestamp < prev.maxTimestamp) {
    return `newest data timestamp ${next.maxTimestamp} is older than the verified ${prev.maxTimestamp}`;
  }
  return undefined;
}

/** The marks to store for a repomd, leaving out what it does not have. */
export function marksOf(repomd: Repomd): RepomdMarks {
  return {
    ...(repomd.revision !== undefined && repomd.revision !== '' ? { revision: repomd.revision } : {}),
    ...(repomd.maxTimestamp !== undefined ? { maxTimestamp: repomd.maxTimestamp } : {}),
  };
}
