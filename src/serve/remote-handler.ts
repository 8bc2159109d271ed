import type { RemoteType } from '../config/types.ts';
import type { Reply } from './reply.ts';

export interface ServeRequest {
  method: 'GET' | 'HEAD';
  /** Request id, for logs. */
  id: string;
}

/** How fresh one suite's (or yum repository's) served metadata is, for /-/metrics and /-/status. */
export interface MetadataFreshness {
  /** The suite (apt: `bookworm`, `bookworm/updates`) or repository directory (yum). */
  dist: string;
  /** Upstream's Date (apt), or the newest data timestamp in repomd.xml (yum); epoch ms. */
  dateMs?: number;
  validUntilMs?: number;
  /** The last successful revalidation against upstream. */
  checkedMs: number;
}

/** One configured remote: maps a decoded path below /<remote>/ to a Reply, or throws RepointError. */
export interface RemoteHandler {
  readonly name: string;
  readonly type: RemoteType;
  handle(path: string, req: ServeRequest): Promise<Reply>;
  /** The live metadata this process has served, newest upstream state per suite. */
  freshness?(): Promise<MetadataFreshness[]>;
}
