export interface OpenStateOptions {
  /** Key namespace; lets several deployments (or test runs) share one redis. Default 'repoint'. */
  namespace?: string;
  /** Errors a backend reports between calls (redis reconnects). Default: ignored. */
  onBackgroundError?: (err: unknown) => void;
  /** Redis connect timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** sqlite: told when the state could only be opened in its full-disk fallback (read-mostly, exclusive). */
  onDegraded?: (reason: string) => void;
}

/** The key namespace when none is configured. */
export const DEFAULT_NAMESPACE = 'repoint';
