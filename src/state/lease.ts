import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RepointError, isRepointError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { LeaseBackend } from './state-store.ts';

export interface LeaseTiming {
  /** How long the lease lives unless renewed: the longest a dead holder blocks others. */
  ttlMs: number;
  /** How often a live holder renews it; at most ttlMs / 2, so one failed renewal does not lose it. */
  renewEveryMs: number;
}

export interface LeaseOptions extends LeaseTiming {
  /**
   * Who holds it, readable by others through leaseHolder(): "pid 123 on host-a" for a CLI run, a
   * node's internal URL for a cross-node single flight (followers find the leader this way).
   */
  owner?: string;
  log?: Logger;
}

/** A lease this process holds, renewed in the background until released or lost. */
export interface Lease {
  readonly name: string;
  readonly token: string;
  /**
   * Aborts (with a RepointError LEASE_LOST as its reason) once the lease is lost: a renewal found
   * another holder, or renewals failed (state down) until the lease may have lapsed. Work done under
   * the lease passes this signal down and stops; it also aborts on release().
   */
  readonly signal: AbortSignal;
  /**
   * Renews now and throws LEASE_LOST when the lease is gone: call it right before an irreversible
   * step (publishing), so that step runs with a full ttl of the lease still ahead.
   */
  confirm(): Promise<void>;
  /** Stops renewing and frees the lease (compare-and-delete); safe to call twice. */
  release(): Promise<void>;
}

const SEP = ' ';

/** Takes `name` when it is free (or its holder's lease lapsed) and keeps it renewed; undefined when held. */
export async function tryAcquireLease(leases: LeaseBackend, name: string, opts: LeaseOptions): Promise<Lease | undefined> {
  if (!(opts.renewEveryMs > 0 && opts.renewEveryMs * 2 <= opts.ttlMs)) {
    throw new RepointError('INTERNAL', `lease ${name}: renewEveryMs (${opts.renewEveryMs}) must be positive and at most half of ttlMs (${opts.ttlMs})`);
  }
  // The owner travels in the token, so holder() can say who it is without a second key.
  const token = `${randomUUID()}${opts.owner ? `${SEP}${opts.owner}` : ''}`;
  if (!(await leases.acquire(name, token, opts.ttlMs))) return undefined;
  return new HeldLease(leases, name, token, opts);
}

/** Who holds `name` now (the owner given at acquire) and for how much longer; undefined when free. */
export async function leaseHolder(leases: LeaseBackend, name: string): Promise<{ owner?: string; remainingMs: number } | undefined> {
  const h = await leases.holder(name);
  if (!h) return undefined;
  const at = h.token.indexOf(SEP);
  return { ...(at >= 0 ? { owner: h.token.slice(at + 1) } : {}), remainingMs: h.remainingMs };
}

/**
 * Waits until nobody holds `name` (polling, at most every second; a crashed holder frees it at its
 * TTL). `onWait` is told once, when there is a holder to wait for. Aborts with `signal`.
 */
export async function waitUntilFree(leases: LeaseBackend, name: string, signal: AbortSignal, onWait?: (owner: string | undefined) => void): Promise<void> {
  for (let told = false; ; told = true) {
    const h = await leaseHolder(leases, name);
    if (!h) return;
    if (!told) onWait?.(h.owner);
    await sleep(Math.min(1000, Math.max(50, h.remainingMs)), undefined, { signal });
  }
}

/**
 * Runs `work` under the lease `name`, renewed while it runs and released after. Returns
 * `{ held: false }` without running it when another holder has the lease. `work` gets the lease:
 * its signal aborts if the lease is lost mid-way.
 */
export async function withLease<T>(leases: LeaseBackend, name: string, opts: LeaseOptions, work: (lease: Lease) => Promise<T>): Promise<{ held: true; value: T } | { held: false; owner?: string }> {
  const lease = await tryAcquireLease(leases, name, opts);
  if (!lease) {
    const h = await leaseHolder(leases, name).catch(() => undefined);
    return { held: false, ...(h?.owner ? { owner: h.owner } : {}) };
  }
  try {
    return { held: true, value: await work(lease) };
  } finally {
    await lease.release();
  }
}

class HeldLease implements Lease {
  readonly name: string;
  readonly token: string;
  readonly #leases: LeaseBackend;
  readonly #opts: LeaseOptions;
  readonly #log: Logger;
  readonly #ac = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  /** When the last successful renewal (or the acquire) happened: the lease is certain until then + ttl. */
  #renewedAt = Date.now();
  #released = false;

  constructor(leases: LeaseBackend, name: string, token: string, opts: LeaseOptions) {
    this.#leases = leases;
    this.name = name;
    this.token = token;
    this.#opts = opts;
    this.#log = opts.log ?? silentLogger;
    this.#schedule();
  }

  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  async confirm(): Promise<void> {
    this.signal.throwIfAborted();
    await this.#renew();
    this.signal.throwIfAborted();
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    if (!this.#ac.signal.aborted) this.#ac.abort(new RepointError('LEASE_LOST', `lease ${this.name} was released`));
    try {
      await this.#leases.release(this.name, this.token);
    } catch (err) {
      // it lapses by itself within ttlMs
      this.#log.warn('lease release failed; it lapses by itself', { lease: this.name, reason: (err as Error).message });
    }
  }

  #schedule(): void {
    if (this.#released || this.signal.aborted) return;
    this.#timer = setTimeout(() => void this.#renew().finally(() => this.#schedule()), this.#opts.renewEveryMs);
    // the work under the lease keeps the process alive, not its renewal
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    if (this.#released || this.signal.aborted) return;
    const attempt = Date.now();
    try {
      if (await this.#leases.renew(this.name, this.token, this.#opts.ttlMs)) {
        this.#renewedAt = attempt;
        return;
      }
      this.#lose('another holder has it now (it lapsed before it was renewed)');
    } catch (err) {
      // The state may be briefly down: keep trying while the lease certainly still runs.
      if (Date.now() - this.#renewedAt >= this.#opts.ttlMs) this.#lose(`renewals failed for a whole lease term: ${(err as Error).message}`);
      else this.#log.warn('lease renewal failed; retrying', { lease: this.name, reason: (err as Error).message, code: isRepointError(err) ? err.code : undefined });
    }
  }

  #lose(why: string): void {
    if (this.signal.aborted) return;
    this.#log.error('lease lost; stopping the work it guarded', { lease: this.name, reason: why });
    this.#ac.abort(new RepointError('LEASE_LOST', `lease ${this.name} lost: ${why}`));
  }
}
