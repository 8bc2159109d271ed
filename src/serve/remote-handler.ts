import type { RemoteType } from '../config/types.ts';
import type { Reply } from './reply.ts';

export interface ServeRequest {
  method: 'GET' | 'HEAD';
  /** Request id, for logs. */
  id: string;
}

/** One configured remote: maps a decoded path below /<remote>/ to a Reply, or throws RepointError. */
export interface RemoteHandler {
  readonly name: string;
  readonly type: RemoteType;
  handle(path: string, req: ServeRequest): Promise<Reply>;
}
