import { RepointError } from '../../errors.ts';
import type { Stanza } from './deb822.ts';
import { isHexDigest, type HashAlgo } from './hashes.ts';
import { isSafeRelPath, joinRelPath } from '../../formats/rel-path.ts';
import type { IndexKind } from './paths.ts';

/** A file an index lists, relative to the archive root (see archiveRootOf). */
export interface IndexEntry {
  filename: string;
  size: number;
  sha256?: string;
  sha512?: string;
}

function invalid(message: string, details?: Record<string, unknown>): RepointError {
  return new RepointError('METADATA_INVALID', message, details);
}

function parseSize(text: string, what: string): number {
  const size = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(size)) throw invalid(`${what}: bad size ${JSON.stringify(text)}`, { size: text });
  return size;
}

function parseHex(algo: HashAlgo, hex: string, what: string): string {
  if (!isHexDigest(algo, hex)) throw invalid(`${what}: bad ${algo} ${JSON.stringify(hex)}`, { algo, hex });
  return hex.toLowerCase();
}

/**
 * Drops `./` segments (flat repositories write `Filename: ./foo.deb`) and rejects anything
 * that could leave the archive root.
 */
function cleanPath(path: string, what: string): string {
  const cleaned = path
    .split('/')
    .filter((seg) => seg !== '.')
    .join('/');
  if (!isSafeRelPath(cleaned)) throw invalid(`${what}: unsafe path ${JSON.stringify(path)}`, { path });
  return cleaned;
}

/** The .deb a Packages stanza points at, or undefined when Filename or Size is missing. */
export function packagesEntries(stanza: Stanza): IndexEntry | undefined {
  const filename = stanza['filename'];
  const sizeText = stanza['size'];
  if (filename === undefined || sizeText === undefined) return undefined;
  const what = `Packages ${stanza['package'] ?? filename}`;
  const entry: IndexEntry = { filename: cleanPath(filename, what), size: parseSize(sizeText, what) };
  const sha256 = stanza['sha256'];
  if (sha256 !== undefined) entry.sha256 = parseHex('sha256', sha256, what);
  const sha512 = stanza['sha512'];
  if (sha512 !== undefined) entry.sha512 = parseHex('sha512', sha512, what);
  return entry;
}

/**
 * The files of a Sources stanza (dsc, orig and debian tarballs), from Checksums-Sha256 and
 * Checksums-Sha512. A stanza without Directory or without either field yields nothing:
 * MD5-only `Files:` are not strong enough to serve by.
 */
export function sourcesEntries(stanza: Stanza): IndexEntry[] {
  const directory = stanza['directory'];
  if (directory === undefined) return [];
  const what = `Sources ${stanza['package'] ?? directory}`;
  const dir = directory.trim() === '.' ? '' : cleanPath(directory, what);
  const byName = new Map<string, IndexEntry>();
  const fields: ReadonlyArray<readonly ['sha256' | 'sha512', string]> = [
    ['sha256', 'checksums-sha256'],
    ['sha512', 'checksums-sha512'],
  ];
  for (const [algo, key] of fields) {
    const value = stanza[key];
    if (value === undefined) continue;
    for (const raw of value.split('\n')) {
      const line = raw.trim();
      if (line.length === 0) continue;
      const parts = line.split(/\s+/);
      const [hexText = '', sizeText = '', name = ''] = parts;
      if (parts.length !== 3) throw invalid(`${what}: malformed ${key} line ${JSON.stringify(line)}`, { line });
      const hex = parseHex(algo, hexText, what);
      const size = parseSize(sizeText, what);
      if (name.includes('/') || !isSafeRelPath(name)) throw invalid(`${what}: unsafe file name ${JSON.stringify(name)}`, { name });
      const entry = byName.get(name);
      if (entry === undefined) {
        byName.set(name, { filename: joinRelPath(dir, name), size, [algo]: hex });
      } else if (entry.size !== size) {
        throw invalid(`${what}: ${name} listed with sizes ${entry.size} and ${size}`, { name });
      } else {
        entry[algo] = hex;
      }
    }
  }
  return [...byName.values()];
}

/** The files one stanza lists. */
function stanzaEntries(kind: Exclude<IndexKind, 'other'>, stanza: Stanza): IndexEntry[] {
  if (kind === 'sources') return sourcesEntries(stanza);
  const entry = packagesEntries(stanza);
  return entry === undefined ? [] : [entry];
}

/** Every file listed by a Packages or Sources index, in index order. */
export async function* indexEntries(kind: Exclude<IndexKind, 'other'>, stanzas: AsyncIterable<Stanza>): AsyncGenerator<IndexEntry> {
  for await (const stanza of stanzas) yield* stanzaEntries(kind, stanza);
}

/** As indexEntries, a batch of stanzas at a time (one array per non-empty batch): no async hop per stanza. */
export async function* indexEntryBatches(kind: Exclude<IndexKind, 'other'>, batches: AsyncIterable<Stanza[]>): AsyncGenerator<IndexEntry[]> {
  for await (const stanzas of batches) {
    const out: IndexEntry[] = [];
    for (const stanza of stanzas) for (const e of stanzaEntries(kind, stanza)) out.push(e);
    if (out.length > 0) yield out;
  }
}
