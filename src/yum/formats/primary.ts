import { TextDecoder } from 'node:util';
import type { SaxesTagNS } from 'saxes';
import { RepointError } from '../../errors.ts';
import { parseYumChecksum } from './checksum.ts';
import type { YumChecksum } from './checksum.ts';
import { COMMON_NS, attr, isOurs, newNsParser, parseCount, toMetadataError, xmlBase } from './xml.ts';
import type { NsParser } from './xml.ts';

export interface PrimaryPackage {
  /** The `<location href>`, relative to the repository base (or to xmlBase). */
  location: string;
  xmlBase?: string;
  /** The pkgid checksum of the .rpm file. */
  checksum: YumChecksum;
  /** `<size package="…">`: the .rpm file's length in bytes. */
  size: number;
  name: string;
  arch: string;
  version: { epoch: string; ver: string; rel: string };
}

interface Draft {
  name?: string;
  arch?: string;
  version?: PrimaryPackage['version'];
  checksum?: YumChecksum;
  size?: number;
  location?: string;
  xmlBase?: string;
}

/**
 * Streams the packages of a primary.xml (already decompressed). Memory stays
 * at about one package of state plus one chunk, whatever the file's size.
 * Throws METADATA_INVALID on malformed XML, bad UTF-8 or an incomplete package.
 */
export async function* parsePrimary(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<PrimaryPackage> {
  for await (const batch of parsePrimaryBatches(chunks)) yield* batch;
}

/** Default longest text or tag (config limits.indexLineMax). */
export const DEFAULT_MAX_TOKEN = 2 ** 20;

/**
 * Fails with METADATA_TOO_LARGE when a run of text without '<' or '>' (a text node, or a tag with its
 * attributes) grows past `max` characters: saxes buffers such a run whole, so an endless one would
 * grow without bound. Linear: each character is looked at once.
 */
export class TokenGuard {
  readonly #max: number;
  #run = 0;

  constructor(max = DEFAULT_MAX_TOKEN) {
    this.#max = max;
  }

  check(text: string): void {
    let run = this.#run;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 60 || c === 62) run = 0;
      else if (++run > this.#max) {
        throw new RepointError('METADATA_TOO_LARGE', `primary.xml has a text or tag longer than ${this.#max} characters (limits.indexLineMax)`, { max: this.#max });
      }
    }
    this.#run = run;
  }
}

/** As parsePrimary, but yields the packages each input chunk completed as one array (never empty). */
export async function* parsePrimaryBatches(chunks: AsyncIterable<Uint8Array | string>, opts: { maxToken?: number } = {}): AsyncGenerator<PrimaryPackage[]> {
  const parser = new PrimaryParser();
  const guard = new TokenGuard(opts.maxToken);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decode(decoder, chunk, true);
    guard.check(text);
    parser.write(text);
    const done = parser.take();
    if (done.length > 0) yield done;
  }
  parser.write(decode(decoder, new Uint8Array(0), false));
  parser.end();
  const done = parser.take();
  if (done.length > 0) yield done;
}

function decode(decoder: TextDecoder, bytes: Uint8Array, stream: boolean): string {
  try {
    return decoder.decode(bytes, { stream });
  } catch (err) {
    throw new RepointError('METADATA_INVALID', 'primary.xml: invalid UTF-8', undefined, { cause: err });
  }
}

/** Synchronous push parser: write text, then take() the packages completed so far. */
class PrimaryParser {
  readonly #sax: NsParser;
  #done: PrimaryPackage[] = [];
  #depth = 0;
  #draft: Draft | undefined;
  #collecting: { field: 'name' | 'arch' | 'checksum'; depth: number; type?: string; text: string } | undefined;
  #count = 0;

  constructor() {
    this.#sax = newNsParser(true);
    this.#sax.on('opentag', (tag) => this.#open(tag));
    this.#sax.on('closetag', () => this.#close());
    const onText = (t: string): void => {
      if (this.#collecting !== undefined) this.#collecting.text += t;
    };
    this.#sax.on('text', onText);
    this.#sax.on('cdata', onText);
  }

  write(text: string): void {
    if (text === '') return;
    try {
      this.#sax.write(text);
    } catch (err) {
      throw toMetadataError(err, 'primary.xml');
    }
  }

  end(): void {
    try {
      this.#sax.close();
    } catch (err) {
      throw toMetadataError(err, 'primary.xml');
    }
  }

  take(): PrimaryPackage[] {
    const out = this.#done;
    this.#done = [];
    return out;
  }

  #open(tag: SaxesTagNS): void {
    const depth = ++this.#depth;
    if (depth === 1) {
      if (!isOurs(tag, COMMON_NS, 'metadata')) this.#fail(`root element is <${tag.name}>, expected <metadata>`);
      return;
    }
    if (depth === 2) {
      if (isOurs(tag, COMMON_NS, 'package')) this.#draft = {};
      return;
    }
    const d = this.#draft;
    if (depth !== 3 || d === undefined || this.#collecting !== undefined) return;
    if (tag.uri !== COMMON_NS && tag.uri !== '') return;
    switch (tag.local) {
      case 'name':
      case 'arch':
        this.#startText(d, tag.local, depth, undefined);
        break;
      case 'checksum':
        this.#startText(d, 'checksum', depth, attr(tag, 'type'));
        break;
      case 'version': {
        if (d.version !== undefined) this.#fail('duplicate <version>');
        const ver = attr(tag, 'ver');
        if (ver === undefined || ver === '') this.#fail('<version> without ver');
        d.version = { epoch: attr(tag, 'epoch') || '0', ver, rel: attr(tag, 'rel') ?? '' };
        break;
      }
      case 'size': {
        if (d.size !== undefined) this.#fail('duplicate <size>');
        const size = parseCount(attr(tag, 'package') ?? '');
        if (size === undefined) this.#fail('<size> without a valid package attribute');
        d.size = size;
        break;
      }
      case 'location': {
        if (d.location !== undefined) this.#fail('duplicate <location>');
        const href = attr(tag, 'href');
        if (href === undefined || href === '') this.#fail('<location> without href');
        d.location = href;
        const base = xmlBase(tag);
        if (base !== undefined) d.xmlBase = base;
        break;
      }
    }
  }

  #startText(d: Draft, field: 'name' | 'arch' | 'checksum', depth: number, type: string | undefined): void {
    if (d[field] !== undefined) this.#fail(`duplicate <${field}>`);
    this.#collecting = type === undefined ? { field, depth, text: '' } : { field, depth, type, text: '' };
  }

  #close(): void {
    const depth = this.#depth--;
    const c = this.#collecting;
    const d = this.#draft;
    if (c !== undefined && c.depth === depth) {
      this.#collecting = undefined;
      if (d === undefined) return;
      if (c.field === 'checksum') d.checksum = parseYumChecksum(c.type, c.text, this.#where());
      else d[c.field] = c.text.trim();
    } else if (depth === 2 && d !== undefined) {
      this.#draft = undefined;
      this.#done.push(this.#finish(d));
    }
  }

  #finish(d: Draft): PrimaryPackage {
    this.#count++;
    if (d.name === undefined || d.name === '') this.#fail('package without <name>');
    if (d.arch === undefined || d.arch === '') this.#fail(`package ${d.name} without <arch>`);
    if (d.version === undefined) this.#fail(`package ${d.name} without <version>`);
    if (d.checksum === undefined) this.#fail(`package ${d.name} without <checksum>`);
    if (d.size === undefined) this.#fail(`package ${d.name} without <size>`);
    if (d.location === undefined) this.#fail(`package ${d.name} without <location>`);
    const pkg: PrimaryPackage = {
      location: d.location,
      checksum: d.checksum,
      size: d.size,
      name: d.name,
      arch: d.arch,
      version: d.version,
    };
    if (d.xmlBase !== undefined) pkg.xmlBase = d.xmlBase;
    return pkg;
  }

  #where(): string {
    return `primary.xml package #${this.#count + 1} (line ${this.#sax.line})`;
  }

  #fail(message: string): never {
    throw new RepointError('METADATA_INVALID', `${this.#where()}: ${message}`);
  }
}
