import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';

const TOOLS = ['chromium', 'apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];
/** Where the screenshots go (CI keeps test-artifacts/; git ignores it). */
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

describeE2E('the status page in headless Chromium', TOOLS, () => {
  let w: AptWorld;
  let browser: Browser;
  let page: Page;
  const figure = (id: string): Promise<string> => page.locator(`[data-remote="deb"] [data-testid="${id}"]`).innerText();

  beforeAll(async () => {
    w = await startAptWorld({
      remote: { checkpoints: { suites: ['stable'], components: ['main'], architectures: ['amd64'] } },
      date: new Date(Date.now() - 2 * 3600_000), validUntil: new Date(Date.now() + 7 * 86_400_000),
      extra: { publicUrl: 'http://mirror.example:8080', cache: { maxSize: '64MiB' } },
    });
    // Debian's chromium; as root it needs --no-sandbox
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await w?.close();
  });

  it('renders the fixture remote before any traffic', async () => {
    const res = await page.goto(`${w.proxy.url}/-/status`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('repoint status');
    await expect.poll(() => page.locator('[data-remote="deb"] h2').innerText()).toContain('deb');
    expect(await figure('requests')).toBe('0');
    expect(await figure('hit-ratio')).toBe('–');
    expect(await page.locator('[data-remote="deb"]').innerText()).toContain('not asked yet');
  });

  it('shows the numbers move after apt-get traffic, and writes a screenshot', async () => {
    const client = await w.client();
    expect(aptProblems(await client.update())).toEqual([]);
    const dirs = [await tempDir('repoint-dl-'), await tempDir('repoint-dl-')];
    await client.download(['bigpkg', 'tildepkg', 'allpkg'], dirs[0]!); // cold
    await client.download(['bigpkg', 'tildepkg', 'allpkg'], dirs[1]!); // warm: from the cache
    await w.proxy.running.runtime.checkpoints.create('deb');
    await page.reload();
    expect(Number(await figure('requests'))).toBeGreaterThanOrEqual(7);
    expect(await figure('hit-ratio')).toMatch(/^\d+\.\d %$/);
    expect(parseFloat(await figure('byte-hit-ratio'))).toBeGreaterThan(30);
    expect(await figure('bytes-saved')).toMatch(/MiB$/);
    const card = page.locator('[data-remote="deb"]');
    expect(await card.innerText()).toContain('answering');
    // freshness: the fixture Release is two hours old and valid for a week
    expect(await card.locator('[data-testid="age"]').innerText()).toBe('2.0 h');
    // the charts drew bars for this minute, with their figures in a tooltip
    expect(await card.locator('svg rect').count()).toBeGreaterThanOrEqual(2);
    expect(await card.locator('svg g title').first().textContent()).toMatch(/UTC: hit \d+/);
    // the checkpoint with its pins, copy-paste ready
    expect(await card.locator('[data-testid="checkpoints"] pre').first().innerText()).toMatch(/apt -S \d{8}T\d{6}Z update|URIs: http:\/\/mirror\.example:8080\/deb\/\d{8}T\d{6}Z/);
    await mkdir(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'status-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(10_000);
    // readable on a phone: nothing wider than the screen but the <pre> blocks, which scroll
    await page.setViewportSize({ width: 390, height: 844 });
    // (a string: the test's TypeScript has no DOM types)
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });
    await Promise.all(dirs.map((d) => rm(d, { recursive: true })));
  });
});
