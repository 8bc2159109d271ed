import { isRepointError } from '../errors.ts';
import { redactText } from '../formats/http/redact.ts';
import type { Runtime } from '../runtime.ts';

const CHECK_TIMEOUT_MS = 2000;

async function check(fn: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS); })]);
    return 'ok';
  } catch (err) {
    return redactText(`${isRepointError(err) ? `${err.code}: ` : ''}${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Readiness (/-/ready): the state backend answers a round trip (a lease lookup, never cached) and the
 * blob store does (the bucket and the blob records for object storage). Liveness (/-/health) stays
 * 200 while they are down, so an orchestrator takes the node out of rotation instead of restarting it.
 */
export async function readiness(rt: Runtime): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const [state, blobs] = await Promise.all([
    check(() => rt.content.state.leases.holder('ready-probe')),
    check(() => (rt.objectStore ? rt.objectStore.ready() : rt.content.blobs.totals())),
  ]);
  return { ready: state === 'ok' && blobs === 'ok', checks: { state, blobs } };
}
