import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RepomdData } from '../../src/yum/formats/repomd.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { YUM_TOOLS, startYumWorld, type YumWorld } from './yum-world.ts';

interface Part { start: number; end: number; size: number; data: Buffer }

/** Splits a multipart/byteranges body, reading each part's length from its Content-Range (binary-safe). */
function parseByteranges(body: Buffer, contentType: string): Part[] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new Error('no first boundary');
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    const m = /content-range: bytes (\d+)-(\d+)\/(\d+)/i.exec(body.subarray(pos, headEnd).toString('latin1'));
    if (!m) throw new Error('part without Content-Range');
    const [start, end, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const dataStart = headEnd + 4;
    parts.push({ start, end, size, data: body.subarray(dataStart, dataStart + end - start + 1) });
    pos = body.indexOf(delim, dataStart + end - start + 1);
    if (pos !== dataStart + end - start + 3) throw new Error('part is not followed by CRLF and the boundary');
  }
}

async function rangeGet(url: string, range: string): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(url, { headers: { range } });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describeE2E('zchunk metadata through repoint (librepo-style range requests)', YUM_TOOLS, () => {
  let w: YumWorld;
  let zck: RepomdData[];
  const file = (d: RepomdData): Promise<Buffer> => readFile(join(w.repo.root, d.location));
  const entry = (type: string): RepomdData => zck.find((d) => d.type === type)!;

  beforeAll(async () => {
    w = await startYumWorld();
    zck = (await w.repomd()).data.filter((d) => d.location.endsWith('.zck'));
    const md = await fetch(`${w.base}/repodata/repomd.xml`);
    expect(md.status).toBe(200);
    await md.arrayBuffer();
  });
  afterAll(async () => w?.close());

  it('builds zchunk data with header sizes', () => {
    expect(w.repo.zchunk).toBe(true);
    expect(zck.map((d) => d.type)).toEqual(expect.arrayContaining(['primary_zck', 'filelists_zck', 'other_zck']));
    for (const d of zck) expect(d.headerSize, d.type).toBeGreaterThan(0);
  });

  it('serves the header range, then a multi-range request, from one verified upstream download', async () => {
    const d = entry('primary_zck');
    const bytes = await file(d);
    const size = bytes.length;
    const hs = d.headerSize!;
    const url = `${w.base}/${d.location}`;

    const head = await rangeGet(url, `bytes=0-${hs - 1}`);
    expect(head.res.status).toBe(206);
    expect(head.res.headers.get('content-range')).toBe(`bytes 0-${hs - 1}/${size}`);
    expect(head.body.equals(bytes.subarray(0, hs))).toBe(true);

    const mid = Math.floor(size / 2);
    const wanted = [[hs, hs + 9], [mid, mid + 99], [size - 50, size - 1]] as const;
    const multi = await rangeGet(url, `bytes=${wanted.map(([a, b]) => `${a}-${b}`).join(',')}`);
    expect(multi.res.status).toBe(206);
    expect(multi.res.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    const parts = parseByteranges(multi.body, multi.res.headers.get('content-type')!);
    expect(parts.map((p) => [p.start, p.end])).toEqual(wanted.map((r) => [...r]));
    for (const p of parts) {
      expect(p.size).toBe(size);
      expect(p.data.equals(bytes.subarray(p.start, p.end + 1)), `${p.start}-${p.end}`).toBe(true);
    }

    const single = await rangeGet(url, 'bytes=5-20');
    expect(single.res.status).toBe(206);
    expect(single.res.headers.get('content-range')).toBe(`bytes 5-20/${size}`);
    expect(single.body.equals(bytes.subarray(5, 21))).toBe(true);

    const seen = w.upstream.requests.filter((r) => r.path === `/${d.location}`);
    expect(seen.length).toBe(1);
    expect(seen[0]?.range).toBeUndefined(); // the whole file, verified against repomd
  });

  it('answers range requests that arrive while the download is still running, after verifying it', async () => {
    const d = entry('other_zck');
    const bytes = await file(d);
    const size = bytes.length;
    const path = `/${d.location}`;
    let finished = 0;
    const off = w.upstream.onResponse((r) => { if (r.path === path) finished = Date.now(); });
    w.upstream.fault(path, { kind: 'stall', at: 64, ms: 1500, times: 1 });
    try {
      const url = `${w.base}/${d.location}`;
      const started = Date.now();
      const first = rangeGet(url, 'bytes=0-31').then((r) => ({ ...r, at: Date.now() }));
      await new Promise((r) => setTimeout(r, 300));
      const sentSecond = Date.now();
      const second = await rangeGet(url, `bytes=0-9,40-79,${size - 10}-${size - 1}`);
      const one = await first;
      expect(finished === 0 || finished > sentSecond, 'the second request joined a running download').toBe(true);
      expect(one.res.status).toBe(206);
      expect(one.body.equals(bytes.subarray(0, 32))).toBe(true);
      // the first 64 bytes had arrived at once, yet the answer waited for the verified whole
      expect(one.at - started).toBeGreaterThanOrEqual(1400);
      const parts = parseByteranges(second.body, second.res.headers.get('content-type')!);
      expect(parts.map((p) => p.start)).toEqual([0, 40, size - 10]);
      for (const p of parts) expect(p.data.equals(bytes.subarray(p.start, p.end + 1))).toBe(true);
      expect(w.upstream.hits(path)).toBe(1);
    } finally {
      off();
    }
  });

  it('never completes a range of a .zck that fails verification', async () => {
    const d = entry('filelists_zck');
    const fault = w.upstream.fault(`/${d.location}`, { kind: 'flip', at: 100 });
    try {
      const outcome = await fetch(`${w.base}/${d.location}`, { headers: { range: 'bytes=0-9' } })
        .then((r) => r.arrayBuffer()).then(() => 'complete', () => 'cut');
      expect(outcome).toBe('cut');
      expect(fault.applied).toBe(1);
    } finally {
      fault.remove();
    }
    const ok = await rangeGet(`${w.base}/${d.location}`, 'bytes=0-9');
    expect(ok.res.status).toBe(206);
    expect(ok.body.equals((await file(d)).subarray(0, 10))).toBe(true);
  });

  it('verifies an RPM for a zchunk client: the proxy fetches and indexes primary.xml itself', async () => {
    const primary = (await w.repomd()).data.find((d) => d.type === 'primary')!;
    // no client asked for the non-zchunk primary; the proxy fetches it itself (in the background once
    // the repomd is verified, or on this RPM request), exactly once
    expect(w.upstream.hits(`/${primary.location}`)).toBeLessThanOrEqual(1);
    const pkg = w.repo.packages.find((p) => p.name === 'tildepkg')!;
    const res = await fetch(`${w.base}/${pkg.location}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-repoint-verified')).toBeNull();
    expect(res.headers.get('etag')).toBe(`"${pkg.sha256}"`);
    expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(join(w.repo.root, pkg.location)))).toBe(true);
    expect(w.upstream.hits(`/${primary.location}`)).toBe(1);
  });
});
