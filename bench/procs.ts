import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Every process and temp dir the bench starts, so one cleanup (normal end, error or SIGINT)
 * stops exactly those processes by pid and removes exactly those dirs.
 */
export class Procs {
  #children = new Set<ChildProcess>();
  #dirs: string[] = [];
  #hooks: Array<() => Promise<void>> = [];
  #cleaned = false;

  /** A long-running server whose stdout/stderr go to `logFile`. */
  spawnServer(cmd: string, args: readonly string[], logFile: string, env?: NodeJS.ProcessEnv): ChildProcess {
    const fd = openSync(logFile, 'a');
    try {
      const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
      this.#track(child);
      return child;
    } finally {
      closeSync(fd);
    }
  }

  /** A short command whose output is collected; tracked so an interrupt stops it too. */
  exec(cmd: string, args: readonly string[], timeoutMs = 120_000): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
      this.#track(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (b: Buffer) => out.push(b));
      child.stderr?.on('data', (b: Buffer) => err.push(b));
      child.once('error', reject);
      child.once('close', (code, signal) => {
        resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      });
    });
  }

  addDir(dir: string): void {
    this.#dirs.push(dir);
  }

  /** Extra teardown (e.g. stopping a gpg-agent), run before dirs are removed. */
  onCleanup(fn: () => Promise<void>): void {
    this.#hooks.push(fn);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(child: ChildProcess, graceMs = 5000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async cleanup(): Promise<void> {
    if (this.#cleaned) return;
    this.#cleaned = true;
    await Promise.all([...this.#children].map((c) => this.stop(c)));
    for (const hook of this.#hooks.toReversed()) await hook().catch(() => undefined);
    for (const dir of this.#dirs.toReversed()) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  #track(child: ChildProcess): void {
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
  }
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
