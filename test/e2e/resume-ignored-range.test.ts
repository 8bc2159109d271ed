import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];
const BREAK_AT = 3_000_000;

/**
 * Issue 8, finding 5: when the body breaks off mid-download, repoint resumes with a Range request;
 * a mirror that ignores Range answers 200 with the whole file, whose start must be skipped, not
 * appended again (the fix: "fill: skip what we already have when a 200 answers a resume").
 */
describeE2E('a resume answered with a plain 200 (issue 8, finding 5)', TOOLS, () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({ packages: [{ name: 'bigpkg', version: '1.0-1', sizeBytes: 8_000_000 }] });
  });
  afterAll(async () => w?.close());

  it('real apt-get downloads a large .deb intact through a mid-body break and a mirror that ignores Range', async () => {
    const deb = w.repo.packages[0]!;
    const path = `/${deb.filename}`;
    const apt = await w.client();
    const up = await apt.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    w.upstream.setIgnoreRange(true);
    w.upstream.fault(path, { kind: 'truncate', at: BREAK_AT, times: 1 });
    try {
      const dir = await tempDir();
      await apt.download(['bigpkg'], dir);
      expect(await sha256File(join(dir, debFileName(deb)))).toBe(deb.sha256);
    } finally {
      w.upstream.setIgnoreRange(false);
    }
    const asked = w.upstream.requests.filter((r) => r.path === path);
    expect(asked.map((r) => [r.status, r.bytesSent])).toEqual([
      [200, BREAK_AT], // broke off
      [200, deb.size], // the resume, answered with the whole file
    ]);
    expect(asked[0]!.range).toBeUndefined();
    // The resume starts at what repoint had kept: bytes still in flight when the socket broke are
    // lost, so that may be a little short of what the upstream wrote.
    const from = Number(/^bytes=(\d+)-$/.exec(asked[1]!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(BREAK_AT);
  });
});
