import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { isRunning } from './procs.ts';

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-20).join('\n');
}

/** Polls until `url` answers 200; fails early (with the log tail) if the server process died. */
export async function waitForHttp(url: string, child: ChildProcess, logFile: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isRunning(child)) throw new Error(`server for ${url} exited (${child.exitCode ?? child.signalCode})\n${await tail(logFile)}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})\n${await tail(logFile)}`);
}

export interface Download {
  status: number;
  bytes: number;
  /** ms from the request start to the first body byte */
  ttfbMs: number;
  /** ms from the request start to the last body byte */
  totalMs: number;
}

/** One GET, body counted and discarded; times are measured from `t0` (performance.now()). */
export async function download(url: string, dispatcher: Agent, t0 = performance.now()): Promise<Download> {
  const res = await request(url, { dispatcher });
  let ttfbMs = -1;
  let bytes = 0;
  for await (const chunk of res.body) {
    if (ttfbMs < 0) ttfbMs = performance.now() - t0;
    bytes += (chunk as Buffer).length;
  }
  const totalMs = performance.now() - t0;
  return { status: res.statusCode, bytes, ttfbMs: ttfbMs < 0 ? totalMs : ttfbMs, totalMs };
}

/** GET that must answer 200 with `size` bytes (when given): used to warm caches. */
export async function mustGet(url: string, dispatcher: Agent, size?: number): Promise<void> {
  const d = await download(url, dispatcher);
  if (d.status !== 200) throw new Error(`GET ${url}: status ${d.status}`);
  if (size !== undefined && d.bytes !== size) throw new Error(`GET ${url}: ${d.bytes} bytes, expected ${size}`);
}

export async function getText(url: string, dispatcher: Agent): Promise<{ status: number; text: string }> {
  const res = await request(url, { dispatcher });
  return { status: res.statusCode, text: await res.body.text() };
}

export interface FanIn {
  clients: Download[];
  wallMs: number;
}

/** `n` clients GET `url` at the same moment, each on its own connection. */
export async function fanIn(url: string, n: number): Promise<FanIn> {
  const agent = new Agent({ connections: n, pipelining: 1 });
  try {
    const t0 = performance.now();
    const clients = await Promise.all(Array.from({ length: n }, () => download(url, agent, t0)));
    return { clients, wallMs: performance.now() - t0 };
  } finally {
    await agent.close();
  }
}

export function median(xs: readonly number[]): number {
  const s = xs.toSorted((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}
