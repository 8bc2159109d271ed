import { RepointError } from '../../errors.ts';
import { parseParagraphsSync, type DebField } from './deb822.ts';
import { HASH_ALGOS, isHexDigest, RELEASE_HASH_FIELD, type HashAlgo, type Hashes } from './hashes.ts';
import { isSafeRelPath } from '../../formats/rel-path.ts';
import { stripCompression } from './paths.ts';
import { parseReleaseDate } from './release-date.ts';

export { strongestHash, type HashAlgo, type Hashes } from './hashes.ts';

export interface ReleaseFileEntry {
  /** Relative to the Release file's directory, e.g. `main/binary-amd64/Packages.xz`. */
  path: string;
  size: number;
  hashes: Hashes;
}

/** One line of a Release hash field, in file order. */
export interface ReleaseHashLine {
  hex: string;
  size: number;
  path: string;
}

function invalid(message: string, details?: Record<string, unknown>): RepointError {
  return new RepointError('METADATA_INVALID', message, details);
}

/** Parses the ` <hex> <size> <path>` lines of one hash field; hex comes back lower-case. */
export function parseHashLines(algo: HashAlgo, value: string): ReleaseHashLine[] {
  const out: ReleaseHashLine[] = [];
  const field = RELEASE_HASH_FIELD[algo];
  for (const raw of value.split('\n')) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const parts = line.split(/\s+/);
    const [hex = '', sizeText = '', path = ''] = parts;
    if (parts.length !== 3 || !isHexDigest(algo, hex) || !/^\d+$/.test(sizeText)) {
      throw invalid(`Release ${field}: malformed line ${JSON.stringify(line)}`, { field, line });
    }
    const size = Number(sizeText);
    if (!Number.isSafeInteger(size)) throw invalid(`Release ${field}: size out of range: ${sizeText}`, { field, line });
    if (!isSafeRelPath(path)) throw invalid(`Release ${field}: unsafe path ${JSON.stringify(path)}`, { field, path });
    out.push({ hex: hex.toLowerCase(), size, path });
  }
  return out;
}

const words = (v: string | undefined): string[] => (v === undefined ? [] : v.split(/\s+/).filter((w) => w.length > 0));

/**
 * A parsed Release file. Built from its ordered fields, so `fields` alone is enough to
 * re-create it; `findByHash` indexes the file list on first use.
 */
export class ReleaseFile {
  readonly origin: string | undefined;
  readonly label: string | undefined;
  readonly suite: string | undefined;
  readonly codename: string | undefined;
  readonly version: string | undefined;
  readonly date: Date | undefined;
  readonly validUntil: Date | undefined;
  readonly acquireByHash: boolean;
  readonly architectures: readonly string[];
  readonly components: readonly string[];
  /** Every field as written, in order (hash fields included). */
  readonly fields: readonly DebField[];
  /** By path, in order of first appearance. */
  readonly files: ReadonlyMap<string, ReleaseFileEntry>;
  #byHash: Map<string, ReleaseFileEntry[]> | undefined;

  constructor(fields: readonly DebField[]) {
    const get = (name: string): string | undefined => {
      const lower = name.toLowerCase();
      return fields.find((f) => f.name.toLowerCase() === lower)?.value;
    };
    this.fields = fields;
    this.origin = get('Origin');
    this.label = get('Label');
    this.suite = get('Suite');
    this.codename = get('Codename');
    this.version = get('Version');
    const date = get('Date');
    this.date = date === undefined ? undefined : parseReleaseDate(date, 'Date');
    const validUntil = get('Valid-Until');
    this.validUntil = validUntil === undefined ? undefined : parseReleaseDate(validUntil, 'Valid-Until');
    this.acquireByHash = get('Acquire-By-Hash')?.toLowerCase() === 'yes';
    this.architectures = words(get('Architectures'));
    this.components = words(get('Components'));
    this.files = collectFiles(get);
  }

  /**
   * The entry whose `algo` digest is `hex`. Several paths can share a digest (empty indexes
   * do); with `dir`, only an entry in that directory matches, as a by-hash request implies.
   */
  /**
   * The uncompressed size this Release declares for an index path (`main/binary-amd64/Packages.xz`
   * → the size of `main/binary-amd64/Packages`), or undefined when it does not list that variant.
   */
  openSizeOf(path: string): number | undefined {
    return this.files.get(stripCompression(path))?.size;
  }

  findByHash(algo: HashAlgo, hex: string, dir?: string): ReleaseFileEntry | undefined {
    this.#byHash ??= indexByHash(this.files);
    const list = this.#byHash.get(`${algo}:${hex.toLowerCase()}`);
    if (list === undefined || dir === undefined) return list?.[0];
    return list.find((e) => dirOf(e.path) === dir);
  }
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function collectFiles(get: (name: string) => string | undefined): Map<string, ReleaseFileEntry> {
  const files = new Map<string, ReleaseFileEntry>();
  // Weakest first so the map's order follows MD5Sum, as the file usually lists it first.
  for (const algo of [...HASH_ALGOS].reverse()) {
    const value = get(RELEASE_HASH_FIELD[algo]);
    if (value === undefined) continue;
    for (const { hex, size, path } of parseHashLines(algo, value)) {
      const entry = files.get(path);
      if (entry === undefined) {
        files.set(path, { path, size, hashes: { [algo]: hex } });
        continue;
      }
      if (entry.size !== size) throw invalid(`Release: ${path} listed with sizes ${entry.size} and ${size}`, { path });
      if (entry.hashes[algo] !== undefined && entry.hashes[algo] !== hex) {
        throw invalid(`Release: ${path} listed twice under ${RELEASE_HASH_FIELD[algo]}`, { path });
      }
      entry.hashes[algo] = hex;
    }
  }
  return files;
}

function indexByHash(files: ReadonlyMap<string, ReleaseFileEntry>): Map<string, ReleaseFileEntry[]> {
  const map = new Map<string, ReleaseFileEntry[]>();
  for (const entry of files.values()) {
    for (const algo of HASH_ALGOS) {
      const hex = entry.hashes[algo];
      if (hex === undefined) continue;
      const key = `${algo}:${hex}`;
      const list = map.get(key);
      if (list === undefined) map.set(key, [entry]);
      else list.push(entry);
    }
  }
  return map;
}

/** Parses verified Release text (InRelease with its signature already stripped). */
export function parseRelease(text: string): ReleaseFile {
  const paragraphs = parseParagraphsSync(text);
  const [first] = paragraphs;
  if (first === undefined) throw invalid('Release: no fields');
  if (paragraphs.length > 1) throw invalid(`Release: expected one paragraph, found ${paragraphs.length}`);
  return new ReleaseFile(first);
}
