import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { run, type RunResult } from './run.ts';

/** Node 24 from the devDependency (the system node is older) and the CLI entry point. */
export const NODE = join(process.cwd(), 'node_modules/.bin/node');
export const MAIN = join(process.cwd(), 'bin/repoint.js');

/** Runs `repoint <args>` as its own process to the end; never throws on a non-zero exit. */
export function repoint(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return run(NODE, [MAIN, ...args], { allowFail: true, timeoutMs });
}

/** A `repoint` process still running: its output so far, and how it ended. */
export interface RepointProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when it exits: the exit code (null when a signal ended it) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnRepoint(args: readonly string[]): RepointProcess {
  const child = spawn(NODE, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    get pid() { return child.pid ?? -1; },
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited,
  };
}

/** Polls until `cond` is true; fails with `what` after `ms` (an outer bound, not a timing assertion). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
