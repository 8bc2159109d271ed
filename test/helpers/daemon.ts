import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';
const haveSetpriv = ((): boolean => {
  try {
    accessSync(SETPRIV, constants.X_OK);
    return true;
  } catch {
    return false;
  }
})();

/** Every daemon still running in this process, killed on exit if a test forgot to stop it. */
const live = new Set<Daemon>();
process.once('exit', () => {
  for (const d of live) d.killNow();
});

/**
 * A daemon run in the foreground as our child, so we hold its pid, see it exit and reap it. Under
 * setpriv --pdeathsig it also dies with this process when the test worker is killed outright.
 */
export class Daemon {
  readonly name: string;
  readonly pid: number;
  /** resolves when the process has exited (never rejects) */
  readonly exited: Promise<string>;
  private readonly child: ChildProcess;
  private readonly logFile: string;
  private output = '';

  constructor(name: string, cmd: string, args: readonly string[], logFile: string) {
    this.name = name;
    this.logFile = logFile;
    const argv = haveSetpriv ? [SETPRIV, '--pdeathsig', 'SIGKILL', '--', cmd, ...args] : [cmd, ...args];
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-8192);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        live.delete(this);
        resolve(`${name} could not be started: ${err.message}`);
      });
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        resolve(`${name} exited ${signal ?? `with code ${code}`}`);
      });
    });
    if (this.child.pid === undefined) throw new Error(`${name}: spawn ${cmd} gave no pid`);
    this.pid = this.child.pid;
    live.add(this);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The daemon's own log and its stdout/stderr, last lines only: for error messages. */
  tail(lines = 25): string {
    let log = '';
    try {
      log = readFileSync(this.logFile, 'utf8');
    } catch {
      log = '(no log file)';
    }
    const last = (s: string): string => s.trimEnd().split('\n').slice(-lines).join('\n');
    return `--- ${this.name} log (${this.logFile}), last lines:\n${last(log)}\n--- ${this.name} stdout/stderr:\n${last(this.output)}`;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.killNow();
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }

  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/**
 * Starts daemons and runs start-up steps while watching them: a step fails, with the daemons' log
 * tails, as soon as any daemon (one started during the step included) exits or the step's time is
 * up; a daemon that dies during start-up would otherwise only show as a hang. The step gets a
 * signal that aborts when it fails, so nothing it started lingers.
 */
export class Supervisor {
  readonly daemons: Daemon[] = [];
  private failStep: ((why: string, culprit: Daemon) => void) | undefined;

  start(name: string, cmd: string, args: readonly string[], logFile: string): Daemon {
    const d = new Daemon(name, cmd, args, logFile);
    this.daemons.push(d);
    void d.exited.then((why) => this.failStep?.(why, d));
    return d;
  }

  step<T>(what: string, timeoutMs: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const finish = (settle: () => void): void => {
        if (this.failStep !== fail) return;
        this.failStep = undefined;
        clearTimeout(timer);
        settle();
      };
      const fail = (why: string, culprit?: Daemon): void =>
        finish(() => {
          abort.abort();
          reject(new Error(`RGW harness: ${what}: ${why}\n${this.tails(culprit)}`));
        });
      this.failStep = fail;
      const timer = setTimeout(() => fail(`no result after ${timeoutMs / 1000} s`), timeoutMs);
      const dead = this.daemons.find((d) => !d.running);
      if (dead) fail(`${dead.name} is not running`, dead);
      else {
        run(abort.signal).then(
          (value) => finish(() => resolve(value)),
          (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
        );
      }
    });
  }

  /** Newest first (RGW's shutdown needs the OSD, the OSD says goodbye to the monitor). */
  async stopAll(graceMs: number): Promise<void> {
    for (const d of [...this.daemons].reverse()) await d.stop(graceMs);
  }

  /** the daemon that failed first and in full, the others' last lines for context */
  private tails(culprit?: Daemon): string {
    const others = this.daemons.filter((d) => d !== culprit).map((d) => d.tail(culprit ? 8 : 25));
    return [...(culprit ? [culprit.tail(40)] : []), ...others].join('\n');
  }
}
