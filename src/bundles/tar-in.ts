import { RepointError } from '../errors.ts';

const BLOCK = 512;

export interface TarHeader {
  name: string;
  size: number;
  /** The typeflag: '0' for a regular file (an old-style '\0' reads as '0'). */
  type: string;
}

function damaged(message: string): RepointError {
  return new RepointError('BUNDLE_INVALID', `the bundle is truncated or damaged: ${message}`);
}

/** A NUL- or space-terminated octal field; GNU base-256 (high bit set) for sizes of 8 GiB and more. */
function numeric(h: Uint8Array, offset: number, length: number, what: string): number {
  if (h[offset]! & 0x80) {
    let n = h[offset]! & 0x7f;
    for (let i = offset + 1; i < offset + length; i++) n = n * 256 + h[i]!;
    if (!Number.isSafeInteger(n)) throw damaged(`tar ${what} field out of range`);
    return n;
  }
  let n = 0;
  let i = offset;
  while (i < offset + length && (h[i] === 0x20 || h[i] === 0)) i++; // leading padding
  for (; i < offset + length; i++) {
    const c = h[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw damaged(`tar ${what} field is not octal`);
    n = n * 8 + (c - 0x30);
  }
  return n;
}

function text(h: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && h[end] !== 0) end++;
  return Buffer.from(h.buffer, h.byteOffset + offset, end - offset).toString('latin1');
}

/**
 * Parses one 512-byte tar header: undefined for a zero block (the end-of-archive marker). The checksum
 * must match (unsigned sum, as POSIX; the signed sum of old writers too); a ustar prefix is joined to
 * the name. Pure: no I/O.
 */
export function parseTarHeader(h: Uint8Array): TarHeader | undefined {
  if (h.length !== BLOCK) throw new RangeError('a tar header is 512 bytes');
  let unsigned = 0;
  let signed = 0;
  let zero = true;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (h[i] !== 0) zero = false;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (zero) return undefined;
  const sum = numeric(h, 148, 8, 'checksum');
  if (sum !== unsigned && sum !== signed) throw damaged('a tar header checksum does not match (not a tar file, or damaged)');
  let name = text(h, 0, 100);
  const magic = text(h, 257, 6);
  if (magic.startsWith('ustar')) {
    const prefix = text(h, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const flag = h[156] === 0 ? '0' : String.fromCharCode(h[156]!);
  return { name, size: numeric(h, 124, 12, 'size'), type: flag };
}

/**
 * Reads a tar stream entry by entry without a stream per entry: a bundle has one entry per blob
 * (tens of thousands of small ones), and an entry's bytes come as slices of the input chunks (no copy).
 * Strict, as the bundle format is: headers only from regular files are handed out, the caller checks
 * names and sizes.
 */
export class TarReader {
  readonly #input: AsyncIterator<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #off = 0;
  #ended = false;
  /** Bytes of the input consumed so far (for messages). */
  #position = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.#input = input[Symbol.asyncIterator]();
  }

  get position(): number {
    return this.#position;
  }

  /** The next entry's header; undefined at the end-of-archive marker. A stream that ends first is damaged. */
  async next(): Promise<TarHeader | undefined> {
    const block = await this.#take(BLOCK);
    if (!block) throw damaged(`it ends at byte ${this.#position} without the end-of-archive marker`);
    return parseTarHeader(block);
  }

  /** Hands the entry's `size` bytes to `sink` in slices, then skips its padding. */
  async data(size: number, sink: (slice: Uint8Array) => void | Promise<void>): Promise<void> {
    let left = size;
    while (left > 0) {
      if (this.#off === this.#chunk.length && !(await this.#pull())) throw damaged(`an entry ends after ${size - left} of its ${size} bytes`);
      const n = Math.min(left, this.#chunk.length - this.#off);
      const slice = this.#chunk.subarray(this.#off, this.#off + n);
      this.#off += n;
      this.#position += n;
      left -= n;
      await sink(slice);
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad && !(await this.#take(pad))) throw damaged('an entry\'s padding is cut off');
  }

  /** Stops reading (the input's own return() runs, so a file is closed). */
  async close(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.#input.return?.();
  }

  /** Exactly n bytes (a view when they lie in one chunk, else a copy); undefined when the input ends first. */
  async #take(n: number): Promise<Uint8Array | undefined> {
    if (this.#off === this.#chunk.length && !(await this.#pull())) return undefined;
    if (this.#chunk.length - this.#off >= n) {
      const view = this.#chunk.subarray(this.#off, this.#off + n);
      this.#off += n;
      this.#position += n;
      return view;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.#off === this.#chunk.length && !(await this.#pull())) return undefined;
      const k = Math.min(n - got, this.#chunk.length - this.#off);
      out.set(this.#chunk.subarray(this.#off, this.#off + k), got);
      this.#off += k;
      got += k;
    }
    this.#position += n;
    return out;
  }

  async #pull(): Promise<boolean> {
    while (!this.#ended) {
      const r = await this.#input.next();
      if (r.done) {
        this.#ended = true;
        return false;
      }
      if (r.value.length > 0) {
        this.#chunk = r.value;
        this.#off = 0;
        return true;
      }
    }
    return false;
  }
}
