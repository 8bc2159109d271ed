/**
 * Which upstream redirects repoint follows (issue 8, finding 1). Pure: the address check of a
 * target on another origin happens when connecting (guarded-connect.ts), so DNS cannot change the
 * answer between this decision and the connection.
 */

/** More hops than this is refused (a loop, or a chain nobody should need). */
export const MAX_REDIRECTS = 5;

export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

export interface RedirectRules {
  /** The remote's name, for messages. */
  remote: string;
  /** Origin of the configured upstream base the request started from. */
  origin: string;
  /** remotes.<name>.redirectHosts: exact host names, or "*.suffix" for subdomains. */
  allowedHosts: readonly string[];
  /** Verified content (a digest or signature checks the body) may leave the origin for an allowed host. */
  verified: boolean;
}

export type RedirectDecision =
  | { follow: string; sameOrigin: boolean }
  | { refuse: string };

export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) && h.length > a.length - 1 : h === a));
}

/**
 * Where `location` (a Location header answering `current`) leads, or why it is refused. Messages
 * name the target's scheme and host only: its path and query may carry tokens.
 */
export function decideRedirect(current: string, location: string | undefined, hops: number, rules: RedirectRules): RedirectDecision {
  const by = `upstream of remote ${rules.remote}`;
  if (hops >= MAX_REDIRECTS) return { refuse: `${by} redirected more than ${MAX_REDIRECTS} times` };
  if (location === undefined || location.trim() === '') return { refuse: `${by} answered a redirect without a Location` };
  let target: URL;
  try {
    target = new URL(location.trim(), current);
  } catch {
    return { refuse: `${by} redirected to an unparsable Location` };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return { refuse: `${by} redirected to a ${target.protocol} URL; only http(s) redirects are followed` };
  }
  target.hash = '';
  target.username = ''; // credentials come from the config, never from an upstream's Location
  target.password = '';
  if (target.origin === rules.origin) return { follow: target.href, sameOrigin: true };
  const where = `${target.protocol}//${target.host}`;
  if (!rules.verified) {
    return { refuse: `${by} redirected to ${where}; content no verified metadata covers follows same-origin redirects only` };
  }
  if (!hostAllowed(target.hostname, rules.allowedHosts)) {
    return { refuse: `${by} redirected to ${where}, which is not its origin; if that host belongs to the mirror network, add "${target.hostname}" to remotes.${rules.remote}.redirectHosts` };
  }
  return { follow: target.href, sameOrigin: false };
}
