import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { RepointError } from '../errors.ts';
import { fillKeyOfSegment, NO_FILL_HEADER } from '../formats/http/internal-fill-path.ts';
import type { Runtime } from '../runtime.ts';
import { peerReply } from '../serve/peer-reply.ts';
import { planResponse } from './response-plan.ts';
import { sendToNode, toWebResponse } from './send.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/**
 * Node-to-node requests under /-/internal/, authenticated with the key every node derives from the
 * shared signing key (fill/peer-auth.ts). `fills/<base64url fill key>`: a follower on another node
 * streams this node's download (Range to resume), or the stored blob once it is done.
 */
export async function internalRequest(rt: Runtime, path: string[], c: Ctx): Promise<Response | undefined> {
  const method = c.env?.incoming?.method ?? c.req.method;
  const rawPath = (c.env?.incoming?.url ?? new URL(c.req.url).pathname).replace(/\?.*$/, '');
  if (!rt.peerAuth.check(c.req.header('authorization'), method, rawPath)) {
    throw new RepointError('UNAUTHORIZED', 'internal endpoint: missing or wrong node signature (nodes must share the signing key)');
  }
  if (path.length !== 2 || path[0] !== 'fills' || method !== 'GET') return undefined;
  const key = fillKeyOfSegment(path[1]!);
  const reply = await peerReply(rt.content, key);
  if (!reply) return c.body(null, 404, { [NO_FILL_HEADER]: 'none', 'cache-control': 'no-store' });
  const plan = await planResponse({ method, range: c.req.header('range') }, reply);
  const outgoing = c.env?.outgoing;
  if (outgoing) {
    void sendToNode(outgoing, plan, rt.log.child({ internal: 'fill', key }));
    return RESPONSE_ALREADY_SENT;
  }
  return toWebResponse(plan);
}
