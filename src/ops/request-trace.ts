import { AsyncLocalStorage } from 'node:async_hooks';

/** What one client request learned about upstream while it was being answered (for its access line). */
export interface RequestTrace {
  /** Time to upstream response headers, summed over this request's upstream requests. */
  upstreamMs: number;
  upstreamRequests: number;
  /** An upstream answered with content (200/206): what was served did not come only from the cache. */
  fetched: boolean;
  /** False once the request has been logged: a detached download it started stops reporting to it. */
  open: boolean;
}

/**
 * Carries the current request's trace through async calls, so an upstream request made deep in a
 * remote handler (a revalidation, a fill it started) is attributed to it without threading a parameter
 * through every layer. One instance per process, made by the runtime.
 */
export class RequestScope {
  readonly #als = new AsyncLocalStorage<RequestTrace>();

  run<T>(trace: RequestTrace, fn: () => T): T {
    return this.#als.run(trace, fn);
  }

  current(): RequestTrace | undefined {
    const t = this.#als.getStore();
    return t?.open ? t : undefined;
  }
}

export function newTrace(): RequestTrace {
  return { upstreamMs: 0, upstreamRequests: 0, fetched: false, open: true };
}
