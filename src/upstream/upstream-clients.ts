import { Agent } from 'undici';
import type { RemoteConfig, UpstreamClientConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { authorizationFor, readTlsFiles } from './credentials.ts';
import { guardedConnector, upstreamAddresses } from './guarded-connect.ts';
import { HttpUpstream } from './http-upstream.ts';

function agentOptions(cfg: UpstreamClientConfig): Agent.Options {
  return {
    connections: cfg.connectionsPerHost,
    headersTimeout: cfg.bodyTimeoutMs,
    bodyTimeout: cfg.bodyTimeoutMs,
    keepAliveTimeout: 30_000,
  };
}

/**
 * The undici agents of the process. Redirects are not followed by undici (HttpUpstream applies the
 * redirect policy hop by hop). One shared agent serves the configured origins of remotes without
 * TLS settings; a remote with `tls` gets its own (its client certificate is for its upstream only),
 * and every remote gets an address-guarded agent for redirect targets on other origins.
 */
export class UpstreamClients {
  readonly #cfg: UpstreamClientConfig;
  readonly #shared: Agent;
  readonly #agents: Agent[] = [];

  constructor(cfg: UpstreamClientConfig) {
    this.#cfg = cfg;
    this.#shared = this.#track(new Agent({ ...agentOptions(cfg), connect: { timeout: cfg.connectTimeoutMs } }));
  }

  async forRemote(remote: RemoteConfig, log: Logger): Promise<HttpUpstream> {
    const bases = await Promise.all(remote.upstreams.map(async (url, i) => ({
      url, authorization: await authorizationFor(remote.name, remote.upstreamAuth[i]),
    })));
    const tls = remote.tls ? await readTlsFiles(remote.name, remote.tls) : undefined;
    const dispatcher = tls
      ? this.#track(new Agent({ ...agentOptions(this.#cfg), connect: { timeout: this.#cfg.connectTimeoutMs, ...tls } }))
      : this.#shared;
    const guarded = guardedConnector(remote.name, upstreamAddresses(remote.upstreams), { timeout: this.#cfg.connectTimeoutMs });
    const redirectDispatcher = this.#track(new Agent({ ...agentOptions(this.#cfg), connect: guarded }));
    return new HttpUpstream({
      remote: remote.name, bases, dispatcher, redirectDispatcher,
      redirectHosts: remote.redirectHosts, retries: this.#cfg.retries, log,
    });
  }

  /** Waits for requests in flight, then closes every connection. */
  async close(): Promise<void> {
    await Promise.all(this.#agents.map((a) => a.close()));
  }

  /** Drops every connection now, requests in flight included (the end of a shutdown's grace). */
  async destroy(): Promise<void> {
    await Promise.all(this.#agents.map((a) => a.destroy()));
  }

  #track(a: Agent): Agent {
    this.#agents.push(a);
    return a;
  }
}
