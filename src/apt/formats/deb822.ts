import { RepointError } from '../../errors.ts';

/**
 * One deb822 paragraph. Keys are lower-cased field names (look-ups are case-insensitive in
 * deb822); the object has a null prototype so field names like `constructor` are plain keys.
 * A multi-line value is the first line, then each continuation line without its single
 * leading space/tab, joined with '\n'.
 */
export type Stanza = Record<string, string>;

/** A field with its original spelling, for re-writing a paragraph in order. */
export interface DebField {
  name: string;
  value: string;
}

// Printable US-ASCII without space and ':' (deb822(5)); must not start with '-' or '#'.
const FIELD_NAME = /^[!-,.-9;-~][!-9;-~]*$/;

function invalid(line: number, why: string): RepointError {
  return new RepointError('METADATA_INVALID', `deb822 line ${line}: ${why}`, { line });
}

/** Line-at-a-time paragraph builder shared by the sync and async parsers. */
class ParagraphReader {
  #rec: Stanza | undefined;
  #names: string[] = [];
  #lastKey = '';
  #line = 0;
  /** Validated name → key; field names repeat in every stanza, so check each once. */
  #keys = new Map<string, string>();

  /** Feed one line (without its terminator); returns a paragraph when a blank line ends one. */
  feed(line: string): Stanza | undefined {
    this.#line++;
    if (line.length === 0) return this.flush();
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      const text = line.trimEnd();
      if (text.length === 0) return this.flush(); // whitespace-only lines separate paragraphs too
      const rec = this.#rec;
      if (rec === undefined) throw invalid(this.#line, 'continuation line before any field');
      rec[this.#lastKey] += '\n' + text.slice(1);
      return undefined;
    }
    if (c === 35) return undefined; // '#' comment
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalid(this.#line, 'expected "Field: value"');
    const name = line.slice(0, colon);
    let key = this.#keys.get(name);
    if (key === undefined) {
      if (!FIELD_NAME.test(name)) throw invalid(this.#line, `bad field name ${JSON.stringify(name)}`);
      key = name.toLowerCase();
      if (this.#keys.size < 1024) this.#keys.set(name, key);
    }
    let rec = this.#rec;
    if (rec === undefined) {
      rec = Object.create(null) as Stanza;
      this.#rec = rec;
    } else if (key in rec) {
      throw invalid(this.#line, `duplicate field ${name}`);
    }
    rec[key] = line.slice(colon + 1).trim();
    this.#names.push(name);
    this.#lastKey = key;
    return undefined;
  }

  /** Ends the current paragraph (at a blank line or end of input). */
  flush(): Stanza | undefined {
    const rec = this.#rec;
    this.#rec = undefined;
    if (rec !== undefined) this.#names = [];
    return rec;
  }

  /** Original field names of the paragraph being built, in order (read before flush). */
  get names(): readonly string[] {
    return this.#names;
  }
}

/** Default longest line (config limits.indexLineMax); real Packages/Sources lines are a few KiB at most. */
export const DEFAULT_MAX_LINE = 2 ** 20;

/**
 * Splits text into lines; keeps the unterminated tail between pushes. CRLF becomes LF. Linear: each
 * push scans only its own text, and a pending line is kept as pieces joined once it ends (re-scanning
 * a growing tail on every chunk made a 16 MiB line take 40 s). A line longer than `maxLine` characters
 * fails with METADATA_TOO_LARGE as soon as it is seen, so the tail stays bounded.
 */
export class LineSplitter {
  readonly #maxLine: number;
  #pieces: string[] = [];
  #pending = 0;
  #line = 0;

  constructor(maxLine = DEFAULT_MAX_LINE) {
    this.#maxLine = maxLine;
  }

  push(text: string): string[] {
    const out: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.#check(nl - start);
      let line = text.slice(start, nl);
      if (this.#pieces.length > 0) {
        this.#pieces.push(line);
        line = this.#pieces.join('');
        this.#pieces = [];
        this.#pending = 0;
      }
      out.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      this.#line++;
      start = nl + 1;
    }
    if (start < text.length) {
      this.#check(text.length - start);
      this.#pieces.push(text.slice(start));
      this.#pending += text.length - start;
    }
    return out;
  }

  end(): string | undefined {
    if (this.#pieces.length === 0) return undefined;
    const rest = this.#pieces.join('');
    this.#pieces = [];
    this.#pending = 0;
    return rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  }

  #check(more: number): void {
    if (this.#pending + more > this.#maxLine) {
      throw new RepointError('METADATA_TOO_LARGE', `deb822 line ${this.#line + 1} is longer than ${this.#maxLine} characters (limits.indexLineMax)`, { line: this.#line + 1, max: this.#maxLine });
    }
  }
}

/**
 * Decodes chunks as UTF-8 (a character may straddle chunks) and yields them as lines.
 * Invalid bytes become U+FFFD rather than failing: integrity is checked by hash elsewhere,
 * and the fields we need are ASCII.
 */
async function* chunkLines(chunks: AsyncIterable<Uint8Array | string>, maxLine?: number): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8');
  const splitter = new LineSplitter(maxLine);
  for await (const chunk of chunks) {
    // A string chunk ends any pending byte sequence first.
    const text = typeof chunk === 'string' ? decoder.decode() + chunk : decoder.decode(chunk, { stream: true });
    if (text.length > 0) yield splitter.push(text);
  }
  const tail = splitter.push(decoder.decode());
  const last = splitter.end();
  if (last !== undefined) tail.push(last);
  if (tail.length > 0) yield tail;
}

/** Yields lines without terminators (LF or CRLF) from byte or string chunks. */
export async function* splitLines(chunks: AsyncIterable<Uint8Array | string>, opts: { maxLine?: number } = {}): AsyncGenerator<string> {
  for await (const lines of chunkLines(chunks, opts.maxLine)) yield* lines;
}

/** Parses deb822 paragraphs from lines (as produced by splitLines). */
export async function* parseStanzas(lines: AsyncIterable<string>): AsyncGenerator<Stanza> {
  const reader = new ParagraphReader();
  for await (const line of lines) {
    const st = reader.feed(line);
    if (st !== undefined) yield st;
  }
  const st = reader.flush();
  if (st !== undefined) yield st;
}

/**
 * Parses deb822 paragraphs straight from byte chunks, as one array per chunk (the paragraphs it
 * completed; never empty). One await per chunk rather than per line or paragraph: a bomb of 12-byte
 * stanzas spent seconds in per-stanza async hops. Lines longer than `maxLine` fail with METADATA_TOO_LARGE.
 */
export async function* parseStanzaBatches(chunks: AsyncIterable<Uint8Array | string>, opts: { maxLine?: number } = {}): AsyncGenerator<Stanza[]> {
  const reader = new ParagraphReader();
  for await (const lines of chunkLines(chunks, opts.maxLine)) {
    const batch: Stanza[] = [];
    for (const line of lines) {
      const st = reader.feed(line);
      if (st !== undefined) batch.push(st);
    }
    if (batch.length > 0) yield batch;
  }
  const st = reader.flush();
  if (st !== undefined) yield [st];
}

/** Same result as parseStanzas(splitLines(chunks)), one paragraph at a time (see parseStanzaBatches). */
export async function* parseStanzasFromChunks(chunks: AsyncIterable<Uint8Array | string>, opts: { maxLine?: number } = {}): AsyncGenerator<Stanza> {
  for await (const batch of parseStanzaBatches(chunks, opts)) yield* batch;
}

function forEachLine(text: string, fn: (line: string) => void): void {
  const splitter = new LineSplitter();
  for (const line of splitter.push(text)) fn(line);
  const last = splitter.end();
  if (last !== undefined) fn(last);
}

/** Parses all paragraphs of a small text (Release, a test fixture). */
export function parseStanzasSync(text: string): Stanza[] {
  const reader = new ParagraphReader();
  const out: Stanza[] = [];
  forEachLine(text, (line) => {
    const st = reader.feed(line);
    if (st !== undefined) out.push(st);
  });
  const st = reader.flush();
  if (st !== undefined) out.push(st);
  return out;
}

/** Like parseStanzasSync, but keeps each field's original spelling and order. */
export function parseParagraphsSync(text: string): DebField[][] {
  const reader = new ParagraphReader();
  const out: DebField[][] = [];
  const take = (names: readonly string[], st: Stanza | undefined): void => {
    if (st === undefined) return;
    out.push(names.map((name) => ({ name, value: st[name.toLowerCase()] ?? '' })));
  };
  forEachLine(text, (line) => {
    const names = reader.names; // flush() swaps in a fresh array, so this one stays intact
    take(names, reader.feed(line));
  });
  take(reader.names, reader.flush());
  return out;
}
