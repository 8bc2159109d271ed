import { RepointError } from '../../errors.ts';

/** Pure writers for apt client configuration: apt.conf lines and deb822 `.sources` stanzas. */

/** Characters apt.conf allows in an unquoted option name (apt.conf(5)). */
const PLAIN_TAG = /^[A-Za-z0-9/\-:._+]+$/;

/**
 * One apt.conf line. A name with other characters (a Label such as "Debian Backports") is quoted:
 * apt's parser reads a quoted name whole and decodes %XX, so '%' and '"' are written encoded.
 */
export function aptConfLine(name: string, value: string): string {
  const tag = PLAIN_TAG.test(name) ? name : `"${name.replace(/%/g, '%25').replace(/"/g, '%22')}"`;
  // values are read verbatim up to the closing quote (no %XX decoding), so a quote cannot be written
  if (value.includes('"')) throw new RepointError('INTERNAL', `apt.conf value cannot hold a double quote: ${value}`);
  return `${tag} "${value}";`;
}

/** The Acquire::Snapshots override that sends `apt -S` for Releases with this Label (or Origin) to `uri`. */
export function snapshotOverride(by: 'Label' | 'Origin', value: string, uri: string): string {
  return aptConfLine(`Acquire::Snapshots::URI::Override::${by}::${value}`, uri);
}

/** A deb822 stanza (sources.list.d/*.sources); fields with empty values are left out. */
export function deb822Stanza(fields: ReadonlyArray<readonly [string, string]>): string {
  return fields.filter(([, v]) => v.length > 0).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
}

/** apt's own built-in overrides, which beat a Release's `Snapshots:` field (apt >= 2.7 defaults). */
export const BUILTIN_LABEL_OVERRIDES: readonly string[] = ['Debian-Security'];
