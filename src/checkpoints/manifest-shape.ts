import { isSha256Hex } from '../blobs/blob-paths.ts';

/**
 * Shape checks for the type fields of a checkpoint manifest that came from elsewhere (a bundle): the
 * header is checked by parseManifest, the rest is read as the type's own interfaces, so a field of
 * another shape would otherwise surface as a TypeError deep in the reading code.
 */

export type Fields = Record<string, unknown>;

export function isFields(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isSha256(v: unknown): boolean {
  return typeof v === 'string' && isSha256Hex(v);
}

export function isOptional(v: unknown, type: 'string' | 'number'): boolean {
  return v === undefined || typeof v === type;
}

/** A `files` map: path -> ManifestFile ({sha256, size, sha512?, from?}); the first bad path, or undefined. */
export function badFile(files: unknown): string | undefined {
  if (!isFields(files)) return 'files';
  for (const [path, f] of Object.entries(files)) {
    if (!isFields(f) || !isSha256(f['sha256']) || typeof f['size'] !== 'number' || !isOptional(f['sha512'], 'string') || !isOptional(f['from'], 'string')) return `files.${path}`;
  }
  return undefined;
}
