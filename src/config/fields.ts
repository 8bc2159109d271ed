/**
 * Building blocks of the config schema. Each carries the message a user sees (prefixed with the key
 * path by loadConfig), so every error names the key, what was expected and what was found.
 */
import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { parseDuration, parseSize } from './units.ts';

type Issue = { readonly input?: unknown };

/** The value that was found, for "got ..." in messages (an empty YAML value reads as "nothing"). */
export function got(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** A non-empty string. */
export function text(missing = 'required; set it to a string') {
  const error = (iss: Issue): string => (iss.input === undefined ? missing : `expected a non-empty string, got ${got(iss.input)}`);
  return z.string({ error }).min(1, { error });
}

/** An http(s) URL; trailing slashes are dropped so paths can be appended with one "/". */
export function httpUrl(problem: string) {
  return text().regex(/^https?:\/\/[^/]+/, { error: problem }).transform((u) => u.replace(/\/+$/, ''));
}

// Lists written as one item or as a list are normalised before validation, so an error names the
// item's index (`upstream[0]`) either way. The JSON schema must still offer both forms: see oneOrManyDefs.
const oneOrManyDefs = new WeakSet<object>();

/** One item or a list of items; the parsed value is always a list. */
export function oneOrMany<T extends z.ZodType>(item: T, missing = 'required; set a string or a list of strings') {
  const list = z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item, { error: missing }));
  oneOrManyDefs.add(list.def);
  return list;
}

/** True for a schema made by oneOrMany (or a copy of one, such as `.describe()` makes). */
export function isOneOrMany(schema: { readonly _zod: { readonly def: object } }): boolean {
  return oneOrManyDefs.has(schema._zod.def);
}

function unit(parse: (v: unknown) => number | undefined, expected: string) {
  const message = (v: unknown): string => `expected ${expected}, got ${got(v)}`;
  return z.union([z.string(), z.number()], { error: (iss) => message(iss.input) }).transform((v, ctx) => {
    const n = parse(v);
    if (n === undefined) {
      ctx.issues.push({ code: 'custom', message: message(v), input: v });
      return z.NEVER;
    }
    return n;
  });
}

/** "30s", "5m", "1h30m" or a number of milliseconds; parses to milliseconds. */
export const duration = () => unit(parseDuration, 'a duration like "30s", "5m" or "1h"');

/** "500MiB", "50GiB" or a number of bytes; parses to bytes. */
export const size = () => unit(parseSize, 'a size like "500MiB" or "50GiB"');

export function wholeNumber(min: number, max: number) {
  const error = (iss: Issue): string => `expected a whole number from ${min} to ${max}, got ${got(iss.input)}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

export function flag() {
  return z.boolean({ error: (iss) => `expected true or false, got ${got(iss.input)}` });
}

export function choice<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => `expected one of ${values.join(' | ')}, got ${got(iss.input)}` });
}

/** A node-cron expression. */
export function cron() {
  return text().refine((s) => validCron(s), {
    error: (iss) => `not a valid cron expression: "${String(iss.input)}" (five or six fields, e.g. "0 */6 * * *")`,
  });
}

/** A mapping that refuses unknown keys (typos), listing the valid ones. */
export function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const valid = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => iss.code === 'unrecognized_keys'
      ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')} (valid keys: ${valid})`
      : `expected a mapping, got ${got(iss.input)}`,
  });
}
