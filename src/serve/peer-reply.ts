import type { ContentService } from './content.ts';
import { growingBody } from './content.ts';
import type { Reply } from './reply.ts';

const SHA256_KEY = /^sha256:([0-9a-f]{64})@/;

/**
 * What a node answers a follower on another node asking for fill `key` (the cluster single flight):
 * its running download, streamed as it arrives (the last byte held until verified, like any reader),
 * else the stored blob when the key names a sha256; undefined when it has neither.
 */
export async function peerReply(content: ContentService, key: string): Promise<Reply | undefined> {
  const meta = { contentType: 'application/octet-stream', cacheControl: 'no-store' };
  const fill = content.fills.get(key);
  if (fill && fill.state !== 'failed') return { ...meta, body: growingBody(fill) };
  const sha = SHA256_KEY.exec(key)?.[1];
  const info = sha ? await content.blobs.stat(sha) : undefined;
  return info ? content.blobReply(info, meta) : undefined;
}
