import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from 'undici';
import type { BenchFile } from './fixtures.ts';
import { download, fanIn, median, type Download, type FanIn } from './http.ts';
import type { Memory, RepointProc } from './repoint-proc.ts';

export interface FanInOptions {
  repoint: RepointProc;
  /** repoint's URL prefix for the remote whose upstream is the rate-limited server */
  repointBase: string;
  /** the rate-limited upstream's URL prefix for the same repository */
  limitedBase: string;
  /** the path prefix the upstream sees, to find the file's lines in its access log */
  upstreamPathPrefix: string;
  accessLog: string;
  file: BenchFile;
  clients: number;
  agent: Agent;
}

export interface FanInResult {
  file: BenchFile;
  clients: number;
  wallMs: number;
  direct: Download;
  /** the same clients straight from the limited upstream: what the box and client manage at that rate */
  directFan: FanIn;
  upstreamFetches: number;
  ttfbMedianMs: number;
  ttfbMaxMs: number;
  /** clients that got a 200 with every byte */
  complete: number;
  /** VmHWM is reset just before the fan-in, so this is its own peak */
  memory: Memory;
}

/** Access-log lines whose request line names `path` (any method: a Range resume counts too). */
async function countFetches(accessLog: string, path: string): Promise<number> {
  const text = await readFile(accessLog, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes(` ${path} HTTP/`)).length;
}

/**
 * One direct download from the limited upstream (the baseline) and `clients` direct ones (the
 * box's ceiling), then `clients` simultaneous GETs of the same, uncached file through repoint,
 * counting upstream fetches in the access log.
 */
export async function runFanIn(o: FanInOptions): Promise<FanInResult> {
  const upstreamPath = `${o.upstreamPathPrefix}/${o.file.path}`;
  const direct = await download(`${o.limitedBase}/${o.file.path}`, o.agent);
  if (direct.status !== 200 || direct.bytes !== o.file.size) throw new Error(`direct download of ${o.file.path}: status ${direct.status}, ${direct.bytes} bytes`);
  const directFan = await fanIn(`${o.limitedBase}/${o.file.path}`, o.clients);
  await sleep(200); // nginx logs a request when it ends
  const before = await countFetches(o.accessLog, upstreamPath);
  await o.repoint.resetPeak();
  const run = await fanIn(`${o.repointBase}/${o.file.path}`, o.clients);
  await sleep(300);
  const after = await countFetches(o.accessLog, upstreamPath);
  const ttfbs = run.clients.map((c) => c.ttfbMs);
  return {
    file: o.file,
    clients: o.clients,
    wallMs: run.wallMs,
    direct,
    directFan,
    upstreamFetches: after - before,
    ttfbMedianMs: median(ttfbs),
    ttfbMaxMs: Math.max(...ttfbs),
    complete: run.clients.filter((c) => c.status === 200 && c.bytes === o.file.size).length,
    memory: await o.repoint.memory(),
  };
}
