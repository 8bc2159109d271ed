import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { RepointError } from '../errors.ts';

/** `FILE.tar.000`, `.001`, ...: the parts of a split bundle (plain byte ranges, `cat` joins them). */
export function partName(base: string, i: number): string {
  return `${base}.${String(i).padStart(3, '0')}`;
}

const PART = /^(.*)\.(\d{3})$/;

/**
 * The parts of a split set, in order, starting from `.000` (the path given may be any part or the
 * base name). A set whose `.000` is missing, or with a gap (`.002` missing beside a `.003`), is
 * refused naming the missing part: read up to the gap, it would fail later as merely "truncated".
 */
function splitParts(path: string): string[] | undefined {
  const m = PART.exec(path);
  const base = m ? m[1]! : existsSync(path) ? undefined : path;
  if (base === undefined) return undefined;
  const present = new Set<number>();
  let dirNames: string[] = [];
  try {
    dirNames = readdirSync(dirname(base));
  } catch {
    // no such directory: nothing present
  }
  const prefix = `${basename(base)}.`;
  for (const name of dirNames) {
    const n = name.startsWith(prefix) ? /^\d{3,}$/.exec(name.slice(prefix.length))?.[0] : undefined;
    if (n !== undefined && name === basename(partName(base, Number(n)))) present.add(Number(n)); // .000, not .0000
  }
  if (present.size === 0) return undefined;
  // a file named like one part, alone, is a plain bundle (x.123); not when other parts are there
  if (!present.has(0) && present.size === 1 && existsSync(path)) return undefined;
  const last = Math.max(...present);
  for (let i = 0; i <= last; i++) {
    if (!present.has(i)) throw new RepointError('NOT_FOUND', `split bundle ${base}: part ${partName(base, i)} is missing (the set has parts up to ${partName(base, last)})`);
  }
  return Array.from({ length: last + 1 }, (_, i) => partName(base, i));
}

async function* concat(parts: readonly string[]): AsyncGenerator<Buffer> {
  for (const p of parts) for await (const chunk of createReadStream(p, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
}

export type BundleSource = { kind: 'stream'; stream: Readable; name: string } | { kind: 'up-to-date'; name: string };

/** upstream.bodyTimeout's default, for `bundle verify --key URL`, which reads no config. */
const SILENCE_MS = 30_000;

export interface UrlOptions {
  token?: string;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  /** Longest silence before the headers or between body bytes (upstream.bodyTimeout). */
  timeoutMs?: number;
}

function seconds(ms: number): string {
  return `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)}s`;
}

/** A stall of the other node becomes UPSTREAM_TIMEOUT naming the setting, instead of undici's error. */
async function* stallsNamed(body: AsyncIterable<Buffer>, name: string, ms: number): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (err) {
    if ((err as { code?: string }).code !== 'UND_ERR_BODY_TIMEOUT') throw err;
    throw new RepointError('UPSTREAM_TIMEOUT', `${name}: no byte for ${seconds(ms)} mid-bundle (upstream.bodyTimeout)`, {}, { cause: err });
  }
}

/** The start of an error answer's body, for the message; the rest is not read (it may be endless: a proxy, a misbehaving node). */
async function firstBytes(body: AsyncIterable<Buffer> & { destroy(): unknown }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      n += chunk.length;
      if (n >= max) break;
    }
  } catch {
    // cut off or silent: what arrived is enough for the message
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/**
 * Opens a bundle: `-` (stdin), an http(s) URL (another repoint's export endpoint; 204 means nothing
 * newer), a split set (`FILE.tar.000` ...), or a file. A URL that goes silent for `timeoutMs` fails:
 * a stalled pull would otherwise hold the import (and the next scheduled one) for undici's 5 minutes
 * per silence, forever for a trickle.
 */
export async function openBundleSource(arg: string, opts: UrlOptions = {}): Promise<BundleSource> {
  if (arg === '-') {
    // a terminal would wait for a tar typed at the keyboard
    if (process.stdin.isTTY) throw new RepointError('CONFIG_INVALID', 'reading the bundle from stdin ("-"), but stdin is a terminal: pipe it in, e.g. `cat FILE.tar | repoint import -`');
    return { kind: 'stream', stream: process.stdin, name: 'stdin' };
  }
  if (/^https?:\/\//i.test(arg)) {
    const name = arg.replace(/[?#].*$/, '');
    if (!URL.canParse(arg)) throw new RepointError('CONFIG_INVALID', `not a valid URL: ${name}`);
    const silence = opts.timeoutMs ?? SILENCE_MS;
    const res = await request(arg, {
      method: 'GET', headersTimeout: silence, bodyTimeout: silence,
      headers: { accept: 'application/x-tar', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    }).catch((err: unknown) => {
      if (opts.signal?.aborted) throw err;
      const e = err as Error & { code?: string };
      if (e.code === 'UND_ERR_HEADERS_TIMEOUT') throw new RepointError('UPSTREAM_TIMEOUT', `${name}: no answer within ${seconds(silence)} (upstream.bodyTimeout)`, {}, { cause: err });
      throw new RepointError('UPSTREAM_UNAVAILABLE', `${name}: ${e.code ? `${e.code} ` : ''}${e.message}`, e.code ? { code: e.code } : {}, { cause: err });
    });
    if (res.statusCode === 204) {
      await res.body.dump();
      return { kind: 'up-to-date', name };
    }
    if (res.statusCode !== 200) {
      const text = await firstBytes(res.body, 2000);
      // one line: an HTML error page (a proxy's, a portal's) is shown as its text, shortened
      let detail = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
      try {
        const j = JSON.parse(text) as { error?: string; message?: string };
        if (j.message) detail = `${j.error ?? ''}: ${j.message}`;
      } catch {
        // not JSON: the text itself
      }
      throw new RepointError(res.statusCode === 404 ? 'NOT_FOUND' : res.statusCode === 401 ? 'UNAUTHORIZED' : 'UPSTREAM_BAD_STATUS', `${name} answered ${res.statusCode}: ${detail}`, { status: res.statusCode });
    }
    return { kind: 'stream', stream: Readable.from(stallsNamed(res.body, name, silence)), name };
  }
  const parts = splitParts(arg);
  if (parts) return { kind: 'stream', stream: Readable.from(concat(parts)), name: `${parts[0]} (+${parts.length - 1} parts)` };
  if (!existsSync(arg)) throw new RepointError('NOT_FOUND', `bundle not found: ${arg}`);
  return { kind: 'stream', stream: createReadStream(arg, { highWaterMark: 1 << 20 }), name: arg };
}

/**
 * Writes a byte stream into `FILE.000`, `FILE.001`, ... of at most `partBytes` each (for media),
 * fsyncing each part as it is closed. `remove()` deletes what was written (a failed export).
 */
export class SplitWriter extends Writable {
  readonly #base: string;
  readonly #partBytes: number;
  readonly written: string[] = [];
  #fh: FileHandle | undefined;
  /** A part being opened: remove() waits for it, or the file would appear after its unlink. */
  #opening: Promise<FileHandle> | undefined;
  #removed = false;
  #inPart = 0;

  constructor(base: string, partBytes: number) {
    super({ highWaterMark: 1 << 20 });
    if (!Number.isInteger(partBytes) || partBytes < 1) throw new RepointError('CONFIG_INVALID', `--split: expected a size like "4GiB", got ${partBytes}`);
    this.#base = base;
    this.#partBytes = partBytes;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#append(chunk).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#closePart().then(() => cb(), cb);
  }

  /** Deletes every part, also one being opened right now (a signal may come at any point); writes after it fail. */
  async remove(): Promise<void> {
    this.#removed = true;
    await this.#opening?.catch(() => {});
    await this.#closePart().catch(() => {});
    for (const p of this.written) await unlink(p).catch(() => {});
  }

  async #append(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      if (this.#removed) throw new RepointError('INTERNAL', 'the split output was removed');
      if (!this.#fh || this.#inPart === this.#partBytes) {
        await this.#closePart();
        // no await from this check to the open being recorded: remove() either came first or will see it
        if (this.#removed) throw new RepointError('INTERNAL', 'the split output was removed');
        const name = partName(this.#base, this.written.length);
        this.written.push(name); // listed before it exists: remove() deletes it whenever it comes
        this.#opening = open(name, 'w');
        this.#fh = await this.#opening;
        this.#opening = undefined;
        this.#inPart = 0;
        if (this.#removed) throw new RepointError('INTERNAL', 'the split output was removed');
      }
      const fh = this.#fh;
      const n = Math.min(chunk.length - off, this.#partBytes - this.#inPart);
      const { bytesWritten } = await fh.write(chunk, off, n);
      off += bytesWritten;
      this.#inPart += bytesWritten;
    }
  }

  async #closePart(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    if (!fh) return;
    await fh.sync();
    await fh.close();
  }
}
