import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { run, type RunResult } from './run.ts';
import type { TestProxy } from './proxy.ts';

const NODE = join(process.cwd(), 'node_modules/.bin/node');

/** Runs the repoint CLI as its own process (as an operator would), never throwing: the caller asserts. */
export function repoint(args: readonly string[], configPath: string, opts: { input?: Uint8Array } = {}): Promise<RunResult> {
  return run(NODE, ['bin/repoint.js', ...args, '--config', configPath], { allowFail: true, timeoutMs: 300_000, ...(opts.input ? { input: opts.input } : {}) });
}

/** The same, expecting exit 0. */
export async function repointOk(args: readonly string[], configPath: string): Promise<RunResult> {
  const r = await repoint(args, configPath);
  expect(r.code, `repoint ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

/** A node's mirror key, saved to a file (armored, as import.trustedKeys takes it; binary for apt signed-by). */
export async function saveKey(proxy: TestProxy, dir: string, name: string, form: 'asc' | 'gpg'): Promise<string> {
  const file = join(dir, `${name}.${form}`);
  await writeFile(file, Buffer.from(await (await fetch(`${proxy.url}/-/keys/mirror.${form}`)).arrayBuffer()));
  return file;
}

export async function checkpointsOf(proxy: TestProxy, remote: string): Promise<string[]> {
  const res = await fetch(`${proxy.url}/-/api/remotes/${remote}/checkpoints`);
  const body = (await res.json()) as { checkpoints: Array<{ ts: string }> };
  return body.checkpoints.map((c) => c.ts);
}

export async function createCheckpoint(proxy: TestProxy, remote: string, token: string): Promise<string> {
  const res = await fetch(`${proxy.url}/-/api/remotes/${remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { ts: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.ts;
}

export interface TarEntry {
  name: string;
  size: number;
  /** Offset of the entry's data in the file. */
  offset: number;
}

/** The entries of a ustar file (enough for what repoint writes: no pax/GNU long names). */
export async function tarEntries(file: string): Promise<TarEntry[]> {
  const buf = await readFile(file);
  const out: TarEntry[] = [];
  let off = 0;
  while (off + 512 <= buf.length) {
    const block = buf.subarray(off, off + 512);
    if (block.every((b) => b === 0)) break;
    const name = block.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(block.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
    out.push({ name, size, offset: off + 512 });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The bundle manifest inside a bundle file. */
/** A bundle manifest's blob entry: the digests besides sha256 are there for entries indexes list without it. */
export interface BundleBlob { sha256: string; size: number; sha512?: string; sha384?: string; sha224?: string }

export async function bundleManifestOf(file: string): Promise<{ exporter: { fingerprint: string }; since: { ts: string; blobs: BundleBlob[] } | null; checkpoints: Array<{ ts: string }>; blobs: BundleBlob[]; totals: { count: number; bytes: number } }> {
  const [first] = await tarEntries(file);
  const buf = await readFile(file);
  return JSON.parse(buf.subarray(first!.offset, first!.offset + first!.size).toString('utf8')) as Awaited<ReturnType<typeof bundleManifestOf>>;
}

/** A copy of a bundle with one byte inverted in the middle of the entry `name`. */
export async function flipByteIn(file: string, name: string, dest: string): Promise<void> {
  const e = (await tarEntries(file)).find((x) => x.name === name);
  if (!e) throw new Error(`${name} is not in ${file}`);
  const buf = await readFile(file);
  const at = e.offset + Math.floor(e.size / 2);
  buf[at] = buf[at]! ^ 0xff;
  await writeFile(dest, buf);
}

/** The first `fraction` of a bundle. */
export async function truncated(file: string, fraction: number, dest: string): Promise<void> {
  const buf = await readFile(file);
  await writeFile(dest, buf.subarray(0, Math.floor(buf.length * fraction)));
}
