/** Stable error codes; only http/ maps them to statuses. */
export type ErrorCode =
  | 'BAD_PATH'
  | 'BAD_RANGE'
  | 'BAD_QUERY'
  | 'RANGE_NOT_SATISFIABLE'
  | 'UNKNOWN_REMOTE'
  | 'REMOTE_UNAVAILABLE'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'NOT_IN_INDEX'
  | 'UPSTREAM_NOT_FOUND'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_BAD_STATUS'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_DEADLINE'
  | 'UPSTREAM_TRUNCATED'
  | 'UPSTREAM_TOO_LARGE'
  | 'UPSTREAM_DIGEST_MISMATCH'
  | 'UPSTREAM_SIZE_MISMATCH'
  | 'UPSTREAM_REDIRECT_REFUSED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MISSING'
  | 'METADATA_INVALID'
  | 'METADATA_EXPIRED'
  | 'METADATA_ROLLBACK'
  | 'METADATA_TOO_LARGE'
  | 'CONFIG_INVALID'
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_FAILED'
  | 'CHECKPOINT_RUNNING'
  | 'BLOB_STORE_UNAVAILABLE'
  | 'GC_RUNNING'
  | 'LEASE_LOST'
  | 'STATE_UNAVAILABLE'
  | 'STORAGE_FULL'
  | 'STORAGE_FAILED'
  | 'SHUTTING_DOWN'
  | 'UNAUTHORIZED'
  | 'NO_CHECKPOINT_YET'
  | 'BUNDLE_INVALID'
  | 'BUNDLE_UNTRUSTED'
  | 'BUNDLE_INCOMPLETE'
  | 'BUNDLE_BASE_MISSING'
  | 'INTERNAL';

export class RepointError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RepointError';
    this.code = code;
    this.details = details;
  }
}

export function isRepointError(err: unknown, code?: ErrorCode): err is RepointError {
  return err instanceof RepointError && (code === undefined || err.code === code);
}
