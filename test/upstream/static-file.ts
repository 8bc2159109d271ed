import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { resolve, sep } from 'node:path';

/** What to answer for one GET/HEAD of a static file. */
export interface StaticPlan {
  status: 200 | 206 | 304 | 404 | 416;
  headers: Record<string, string>;
  file?: string;
  /** body byte range [start, end) within the file */
  start: number;
  end: number;
}

/** Maps a decoded URL path onto a regular file under root; undefined if outside or missing. */
export async function locate(root: string, urlPath: string): Promise<{ file: string; st: Stats } | undefined> {
  const base = resolve(root);
  const file = resolve(base, `.${urlPath}`);
  if (file !== base && !file.startsWith(base + sep)) return undefined;
  try {
    const st = await stat(file);
    return st.isFile() ? { file, st } : undefined;
  } catch {
    return undefined;
  }
}

export function etagOf(st: Stats): string {
  return `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

function notModified(h: IncomingHttpHeaders, etag: string, mtime: Date): boolean {
  const inm = h['if-none-match'];
  if (inm !== undefined) return inm.split(',').some((t) => t.trim() === etag || t.trim() === '*');
  const ims = h['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) <= Math.floor(since / 1000);
}

/** Parses a single `bytes=` range; undefined = ignore (serve 200), null = unsatisfiable. */
export function parseRange(header: string, size: number): { start: number; end: number } | null | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // multi-range or other units: serving the whole file is allowed
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return null;
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(a);
  const end = b === '' ? size : Math.min(size, Number(b) + 1);
  if (b !== '' && Number(b) < start) return undefined;
  if (start >= size) return null;
  return { start, end };
}

function ifRangeHolds(h: IncomingHttpHeaders, etag: string, lastModified: string): boolean {
  const v = h['if-range'];
  if (typeof v !== 'string') return true;
  return v.startsWith('"') || v.startsWith('W/') ? v === etag : Date.parse(v) === Date.parse(lastModified);
}

export async function planStatic(root: string, urlPath: string, h: IncomingHttpHeaders): Promise<StaticPlan> {
  const found = await locate(root, urlPath);
  if (!found) return { status: 404, headers: { 'content-type': 'text/plain' }, start: 0, end: 0 };
  const { file, st } = found;
  const etag = etagOf(st);
  const lastModified = st.mtime.toUTCString();
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'last-modified': lastModified,
    etag,
    'accept-ranges': 'bytes',
  };
  if (notModified(h, etag, st.mtime)) return { status: 304, headers, file, start: 0, end: 0 };
  const rangeHeader = h['range'];
  if (rangeHeader !== undefined && ifRangeHolds(h, etag, lastModified)) {
    const r = parseRange(rangeHeader, st.size);
    if (r === null) {
      return { status: 416, headers: { ...headers, 'content-range': `bytes */${st.size}` }, start: 0, end: 0 };
    }
    if (r !== undefined) {
      headers['content-range'] = `bytes ${r.start}-${r.end - 1}/${st.size}`;
      return { status: 206, headers, file, start: r.start, end: r.end };
    }
  }
  return { status: 200, headers, file, start: 0, end: st.size };
}
