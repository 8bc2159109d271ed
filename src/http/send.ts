import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../log.ts';
import type { ResponsePlan } from './response-plan.ts';

/**
 * Writes a plan to a Node response. A body that fails mid-stream (a digest mismatch found at the
 * end, an upstream that broke off) destroys the socket: the client sees a reset, never a
 * complete-looking body.
 */
export async function sendToNode(res: ServerResponse, plan: ResponsePlan, log: Logger): Promise<void> {
  res.writeHead(plan.status, plan.headers);
  if (plan.body === undefined) {
    res.end();
    return;
  }
  if (plan.body instanceof Uint8Array) {
    res.end(plan.body);
    return;
  }
  const body = plan.body();
  try {
    await pipeline(body, res);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ERR_STREAM_PREMATURE_CLOSE') log.warn('response body aborted', { code: (err as { code?: string }).code, reason: e.message });
    res.destroy();
  }
}

/** The same plan as a web Response, for app.request() in tests and non-Node adapters. */
export function toWebResponse(plan: ResponsePlan): Response {
  const body = plan.body === undefined ? null : plan.body instanceof Uint8Array ? plan.body : (ReadableStreamFrom(plan.body()));
  return new Response(body, { status: plan.status, headers: plan.headers });
}

function ReadableStreamFrom(stream: NodeJS.ReadableStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const chunk of stream as AsyncIterable<Uint8Array>) controller.enqueue(chunk);
        controller.close();
      } catch (err) {
        controller.error(err);
      }
    },
  });
}
