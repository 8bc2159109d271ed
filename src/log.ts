import { pino, stdTimeFunctions, destination, type DestinationStream, type Logger as Pino } from 'pino';
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { RepointError } from './errors.ts';
import { redactText } from './formats/http/redact.ts';

export type LogFields = Record<string, unknown>;

/** One line of the access log: flat keys, so jq and log shippers need no mapping. */
export interface AccessEntry {
  reqId: string;
  remote: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  cache: string;
  ms: number;
  /** Time spent waiting for upstream answers during this request, when there was one. */
  upstreamMs?: number;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /** The access log: one flat JSON object `{time, ...entry}` per call, whatever the level. */
  access(entry: AccessEntry): void;
  /** Writes out buffered access lines (shutdown). */
  flush(): void;
}

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** Where access lines go: the log stream (default), a file of their own, or nowhere. */
export type AccessLogTarget = 'stream' | 'off' | { file: string };

/** Secrets never reach the log: URL credentials in any string field are replaced by "***". */
function redactFields(o: Record<string, unknown>): Record<string, unknown> {
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'string' && v.includes('@')) o[k] = redactText(v);
  }
  return o;
}

/** Flat, stable keys: `level` as a word and an ISO `time`, no pid/hostname noise. */
const COMMON = { base: null, timestamp: stdTimeFunctions.isoTime } as const;

/**
 * JSON lines via pino, on stderr so stdout stays free for command output. `write` replaces the
 * destination (tests). Access lines are buffered (a write per ~4 KiB, flushed every second) so that a
 * busy node does not pay a syscall per request.
 */
export function createLogger(level: Level = 'info', base: LogFields = {}, write?: (line: string) => void, access: AccessLogTarget = 'stream'): Logger {
  const dest: DestinationStream = write ? { write } : destination({ dest: 2, sync: true });
  const root = pino({ ...COMMON, level, formatters: { level: (label) => ({ level: label }), log: redactFields } }, dest);
  let accessDest: DestinationStream | undefined;
  let flush = (): void => {};
  if (access !== 'off') {
    if (write) accessDest = dest;
    else {
      const boom = destination({ dest: access === 'stream' ? 2 : openAccessFile(access.file), sync: false, minLength: 4096 });
      // a failing write (disk full, a closed pipe) must not take the server down: the log says so once
      boom.once('error', (err: Error) => root.error({ reason: err.message }, 'access log write failed; access lines are lost from here on'));
      flush = () => { try { boom.flushSync(); } catch { /* nothing buffered, or not open yet */ } };
      setInterval(() => boom.flush(), 1000).unref();
      accessDest = boom;
    }
  }
  // No level and no msg on access lines: exactly `time` and the entry's keys.
  // (pino writes the level object first: it carries `time`, so that a line starts with it)
  const accessLog = accessDest
    ? pino({ base: null, timestamp: false, level: 'info', formatters: { level: () => ({ time: new Date().toISOString() }), log: redactFields } }, accessDest)
    : undefined;
  return wrap(root.child(base), accessLog, flush);
}

/** Opened at start-up, so a bad accessLog.file fails then, naming the key, not at the first request. */
function openAccessFile(file: string): number {
  try {
    mkdirSync(dirname(file), { recursive: true });
    return openSync(file, 'a', 0o640);
  } catch (err) {
    throw new RepointError('CONFIG_INVALID', `accessLog.file: cannot open ${file} for appending: ${(err as Error).message}`);
  }
}

function wrap(p: Pino, accessLog: Pino | undefined, flush: () => void): Logger {
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
    child: (f) => wrap(p.child(f), accessLog, flush),
    access: accessLog ? (e) => accessLog.info(e) : () => {},
    flush,
  };
}

export const silentLogger: Logger = createLogger('error', {}, () => {}, 'off');
