import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const CHUNK = 64 * 1024;

export interface PumpOptions {
  file: string;
  /** first file byte of the body */
  start: number;
  /** how many body bytes to send (may be less than the advertised length) */
  count: number;
  /** body offset of a byte to invert */
  flipAt?: number;
  /** body offset at which to pause for stallMs */
  stallAt?: number;
  stallMs?: number;
  /** bytes per second, read before every chunk so a change applies mid-stream */
  rate: () => number | undefined;
  /** bytes per write when paced (default: a tenth of a second's worth, at least 1 KiB) */
  chunk?: number;
  signal: AbortSignal;
}

/** Resolves when p settles or the signal aborts, whichever is first. */
function orAbort(p: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve();
  return Promise.race([p, once(signal, 'abort')]);
}

/** Waits; false if aborted first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Streams `count` bytes of the file to res with pacing and the requested corruption.
 * Resolves with the bytes handed to the socket, once all of them have been flushed,
 * so a caller that then cuts the connection cuts it after exactly those bytes.
 */
export async function pumpBody(res: ServerResponse, o: PumpOptions): Promise<number> {
  const fh = await open(o.file, 'r');
  let sent = 0;
  let lastFlush: Promise<void> = Promise.resolve();
  let paceStart = performance.now();
  let pacedBytes = 0;
  let paceRate = o.rate();
  try {
    while (sent < o.count && !o.signal.aborted) {
      if (o.stallAt !== undefined && o.stallMs !== undefined && sent === o.stallAt) {
        await orAbort(lastFlush, o.signal);
        if (!(await pause(o.stallMs, o.signal))) break;
        paceStart = performance.now();
        pacedBytes = 0;
      }
      const rate = o.rate();
      if (rate !== paceRate) {
        paceRate = rate;
        paceStart = performance.now();
        pacedBytes = 0;
      }
      let len = Math.min(o.count - sent, rate ? (o.chunk ?? Math.max(1024, Math.min(CHUNK, Math.floor(rate / 10)))) : CHUNK);
      if (o.stallAt !== undefined && sent < o.stallAt) len = Math.min(len, o.stallAt - sent);
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, o.start + sent);
      if (bytesRead === 0) break; // file shrank under us (root swapped mid-response)
      const chunk = buf.subarray(0, bytesRead);
      if (o.flipAt !== undefined && o.flipAt >= sent && o.flipAt < sent + bytesRead) {
        const i = o.flipAt - sent;
        chunk[i] = (chunk[i] ?? 0) ^ 0xff;
      }
      lastFlush = new Promise((resolve) => res.write(chunk, () => resolve()));
      sent += bytesRead;
      pacedBytes += bytesRead;
      if (res.writableNeedDrain) {
        await once(res, 'drain', { signal: o.signal }).catch(() => undefined);
      }
      if (rate) {
        const due = (pacedBytes / rate) * 1000 - (performance.now() - paceStart);
        if (due > 0 && !(await pause(due, o.signal))) break;
      }
    }
    await orAbort(lastFlush, o.signal);
    return sent;
  } finally {
    await fh.close();
  }
}
