/**
 * Connections to redirect targets on another origin (issue 8, finding 1): the address check runs
 * inside the connection's own DNS lookup, so the address checked is the address connected to (no
 * window for DNS rebinding between a check and the connect).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { RepointError } from '../errors.ts';
import { refusedTarget } from './address-class.ts';

/** The addresses of a remote's configured upstream hosts, resolved now (literals as they are). */
export function upstreamAddresses(bases: readonly string[]): () => Promise<string[]> {
  const hosts = [...new Set(bases.map((b) => new URL(b).hostname.replace(/^\[|\]$/g, '')))];
  return async () => {
    const all = await Promise.all(hosts.map(async (h) => {
      if (isIP(h)) return [h];
      try {
        return (await lookupAll(h, { all: true })).map((a) => a.address);
      } catch {
        return []; // an upstream that does not resolve grants nothing
      }
    }));
    return all.flat();
  };
}

function refusal(remote: string, host: string, why: string): RepointError {
  return new RepointError('UPSTREAM_REDIRECT_REFUSED',
    `upstream of remote ${remote} redirected to host ${host}, which is a ${why}; redirects never reach loopback, link-local or private networks the remote's own upstream is not on`,
    { remote });
}

/** An undici connector that refuses forbidden addresses for this remote's redirect targets. */
export function guardedConnector(remote: string, own: () => Promise<string[]>, options: buildConnector.BuildOptions): buildConnector.connector {
  const lookup: LookupFunction = (hostname, opts, callback) => {
    dnsLookup(hostname, { ...opts, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      own().then((mine) => {
        const allowed = addresses.filter((a) => refusedTarget(a.address, mine) === undefined);
        const first = allowed[0];
        if (!first) return callback(refusal(remote, hostname, `name resolving to a ${refusedTarget(addresses[0]?.address ?? '', mine) ?? 'forbidden address'}`), '', 0);
        if (opts.all) callback(null, allowed);
        else callback(null, first.address, first.family);
      }, (e: Error) => callback(e, '', 0));
    });
  };
  const connect = buildConnector({ ...options, lookup });
  return (opts, callback) => {
    // net.connect skips the lookup for an address literal: check it here
    if (isIP(opts.hostname) === 0) return connect(opts, callback);
    own().then((mine) => {
      const why = refusedTarget(opts.hostname, mine);
      if (why) callback(refusal(remote, opts.hostname, why), null);
      else connect(opts, callback);
    }, (e: Error) => callback(e, null));
  };
}
