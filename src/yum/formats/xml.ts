import { SaxesParser } from 'saxes';
import type { SaxesTagNS } from 'saxes';
import { RepointError, isRepointError } from '../../errors.ts';

export const REPO_NS = 'http://linux.duke.edu/metadata/repo';
export const COMMON_NS = 'http://linux.duke.edu/metadata/common';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export type NsParser = SaxesParser<{ xmlns: true; position: boolean }>;

/** A namespace-aware parser; saxes neither expands DTD entities nor fetches anything. */
export function newNsParser(trackPosition: boolean): NsParser {
  return new SaxesParser({ xmlns: true, position: trackPosition });
}

/**
 * True for an element in `ns` or in no namespace. Elements from other
 * namespaces (rpm:, extensions) never match, so they cannot shadow ours.
 */
export function isOurs(tag: SaxesTagNS, ns: string, local: string): boolean {
  return tag.local === local && (tag.uri === ns || tag.uri === '');
}

export function attr(tag: SaxesTagNS, name: string): string | undefined {
  return tag.attributes[name]?.value;
}

/** The `xml:base` attribute, matched by namespace rather than prefix spelling. */
export function xmlBase(tag: SaxesTagNS): string | undefined {
  for (const a of Object.values(tag.attributes)) if (a.uri === XML_NS && a.local === 'base') return a.value;
  return undefined;
}

/** Non-negative decimal integer within the safe range, or undefined. */
export function parseCount(text: string): number | undefined {
  const s = text.trim();
  if (!/^\d{1,16}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Wraps saxes' plain Errors as METADATA_INVALID; our own errors pass through. */
export function toMetadataError(err: unknown, what: string): RepointError {
  if (isRepointError(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new RepointError('METADATA_INVALID', `${what}: malformed XML: ${msg}`, undefined, { cause: err });
}
