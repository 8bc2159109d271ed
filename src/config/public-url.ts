import { hostname } from 'node:os';

/** What the base URL is derived from: the config, and the port actually bound (listen port 0). */
export interface PublicUrlSource {
  publicUrl?: string;
  listen: { host: string; port: number };
}

/**
 * The base URL clients reach this mirror at, for `Snapshots:` fields, API answers and setup pages:
 * `publicUrl`, else the address the node listens on (the machine's hostname when it listens on every
 * address). Never a request header: a client must not be able to put its own host into a signed
 * Release or into URLs handed to other clients.
 */
export function publicBaseUrl(src: PublicUrlSource, boundPort?: number): string {
  if (src.publicUrl !== undefined) return src.publicUrl;
  const { host } = src.listen;
  const h = host === '0.0.0.0' || host === '::' || host === '' ? hostname() : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${boundPort ?? src.listen.port}`;
}

/**
 * How other nodes reach this one (`/-/internal/…`): node.internalUrl, else the listen address (the
 * hostname when listening on every address). Never publicUrl: that is often the load balancer.
 */
export function internalBaseUrl(src: { node: { internalUrl?: string }; listen: { host: string; port: number } }, boundPort?: number): string {
  return src.node.internalUrl ?? publicBaseUrl({ listen: src.listen }, boundPort);
}
