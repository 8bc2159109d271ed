import type { ErrorCode, RepointError } from '../errors.ts';
import { redactText } from '../formats/http/redact.ts';

/** The only place error codes become HTTP statuses. */
const STATUS: Record<ErrorCode, number> = {
  BAD_PATH: 400,
  BAD_RANGE: 400,
  BAD_QUERY: 400,
  RANGE_NOT_SATISFIABLE: 416,
  UNKNOWN_REMOTE: 404,
  REMOTE_UNAVAILABLE: 503,
  METHOD_NOT_ALLOWED: 405,
  NOT_FOUND: 404,
  NOT_IN_INDEX: 404,
  UPSTREAM_NOT_FOUND: 404,
  UPSTREAM_UNAVAILABLE: 502,
  UPSTREAM_BAD_STATUS: 502,
  UPSTREAM_TIMEOUT: 504,
  UPSTREAM_DEADLINE: 504,
  UPSTREAM_TRUNCATED: 502,
  UPSTREAM_TOO_LARGE: 502,
  UPSTREAM_DIGEST_MISMATCH: 502,
  UPSTREAM_SIZE_MISMATCH: 502,
  UPSTREAM_REDIRECT_REFUSED: 502,
  SIGNATURE_INVALID: 502,
  SIGNATURE_MISSING: 502,
  METADATA_INVALID: 502,
  METADATA_EXPIRED: 502,
  METADATA_ROLLBACK: 502,
  // signed but hostile: a bomb, an endless line, an oversized Release (config limits:)
  METADATA_TOO_LARGE: 502,
  CONFIG_INVALID: 500,
  CHECKPOINT_NOT_FOUND: 404,
  CHECKPOINT_FAILED: 500,
  CHECKPOINT_RUNNING: 409,
  // object storage down: not now, never a wrong answer
  BLOB_STORE_UNAVAILABLE: 503,
  GC_RUNNING: 409,
  LEASE_LOST: 503,
  STATE_UNAVAILABLE: 503,
  // the local disk, not upstream: 507 Insufficient Storage when full, 503 when it cannot be written
  STORAGE_FULL: 507,
  STORAGE_FAILED: 503,
  SHUTTING_DOWN: 503,
  UNAUTHORIZED: 401,
  // an offline remote before its first import: the remote exists, nothing is published yet
  NO_CHECKPOINT_YET: 404,
  BUNDLE_INVALID: 400,
  BUNDLE_UNTRUSTED: 403,
  BUNDLE_INCOMPLETE: 422,
  BUNDLE_BASE_MISSING: 409,
  INTERNAL: 500,
};

export function statusFor(code: ErrorCode): number {
  return STATUS[code];
}

/** Seconds a client should wait before retrying, for the codes that mean "not now" rather than "no". */
const RETRY_AFTER: Partial<Record<ErrorCode, number>> = {
  BLOB_STORE_UNAVAILABLE: 5,
  STATE_UNAVAILABLE: 5,
  LEASE_LOST: 5,
  SHUTTING_DOWN: 5,
  STORAGE_FULL: 60,
  STORAGE_FAILED: 30,
};

export function retryAfterFor(code: ErrorCode): number | undefined {
  return RETRY_AFTER[code];
}

/**
 * What a client is told (issue 8, finding 8). These codes' messages name local keyring paths, key
 * fingerprints or internals: clients get a generic text with the stable code, the log keeps the
 * detail. Every other message is passed on with any URL credentials redacted.
 */
const GENERIC: Partial<Record<ErrorCode, string>> = {
  SIGNATURE_INVALID: 'upstream metadata failed signature verification with the remote\'s keyring; details are in the server log',
  SIGNATURE_MISSING: 'upstream metadata is not signed as the remote requires; details are in the server log',
  CONFIG_INVALID: 'the server configuration is invalid; details are in the server log',
  REMOTE_UNAVAILABLE: 'this remote is disabled; the reason is in the server log',
  INTERNAL: 'internal error; details are in the server log',
  STORAGE_FULL: 'the mirror\'s local storage is full; details are in the server log',
  STORAGE_FAILED: 'the mirror\'s local storage cannot be written; details are in the server log',
};

export function publicMessage(e: RepointError): string {
  return GENERIC[e.code] ?? redactText(e.message);
}
