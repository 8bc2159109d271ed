/**
 * Which network an IP address belongs to, for the redirect guard (issue 8, finding 1). Pure: the
 * caller resolves names; this only reads address text. IPv6 forms that carry an IPv4 address
 * (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are classified by that address.
 */
import { isIP } from 'node:net';

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'reserved' | 'invalid';

/** IPv4 blocks (network, prefix length, class); the first match wins. */
const V4: ReadonlyArray<readonly [string, number, AddressClass]> = [
  ['0.0.0.0', 32, 'unspecified'],
  ['0.0.0.0', 8, 'reserved'], // "this network": 0.x.y.z reaches the local host on Linux
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'private'], // carrier-grade NAT
  ['169.254.0.0', 16, 'link-local'], // includes cloud metadata services
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // documentation
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'reserved'], // multicast
  ['240.0.0.0', 4, 'reserved'], // future use and broadcast
];

function v4Number(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function classifyV4(ip: string): AddressClass {
  const n = v4Number(ip);
  for (const [net, bits, cls] of V4) {
    const size = 2 ** (32 - bits);
    const start = v4Number(net);
    if (n >= start && n < start + size) return cls;
  }
  return 'public';
}

/** The eight 16-bit groups of an IPv6 address (already validated by isIP). */
function v6Groups(ip: string): number[] {
  let text = ip;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = v4Number(dotted[1] ?? '');
    text = `${text.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  if (tail === undefined) return h;
  const t = parse(tail);
  return [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

function embeddedV4(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

function classifyV6(ip: string): AddressClass {
  const g = v6Groups(ip);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroUpTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g7 === 1) return 'loopback';
  if (zeroUpTo(5) && g5 === 0xffff) return classifyV4(embeddedV4(g6, g7)); // IPv4-mapped
  if (zeroUpTo(6)) return 'reserved'; // deprecated IPv4-compatible ::a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return classifyV4(embeddedV4(g6, g7)); // NAT64
  if (g0 === 0x2002) return classifyV4(embeddedV4(g1, g2)); // 6to4
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return 'reserved'; // multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved'; // documentation
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'; // discard-only
  return 'public';
}

/** The class of an address literal (an IPv6 zone id such as %eth0 is ignored). */
export function classifyAddress(address: string): AddressClass {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  switch (isIP(ip)) {
    case 4: return classifyV4(ip);
    case 6: return classifyV6(ip);
    default: return 'invalid';
  }
}

/** One spelling per address (IPv4-mapped IPv6 as IPv4, IPv6 fully expanded), for equality. */
export function canonicalAddress(address: string): string {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIP(ip) !== 6) return ip;
  const g = v6Groups(ip);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return embeddedV4(g[6] ?? 0, g[7] ?? 0);
  return g.map((x) => x.toString(16)).join(':');
}

/**
 * May repoint connect to `target` when following a redirect to another origin? Public addresses:
 * yes. Private ones (RFC 1918, unique local, CGNAT): only when a configured upstream of the remote
 * is private too (a mirror inside the same network). Loopback and link-local: only an address a
 * configured upstream itself has (a loopback upstream may redirect to itself on another port, never
 * to the machine's other services; cloud metadata at 169.254.169.254 is never reached). Unspecified
 * and reserved addresses: never. Returns the refusal reason, or undefined when allowed.
 */
export function refusedTarget(target: string, upstreamAddresses: readonly string[]): string | undefined {
  const cls = classifyAddress(target);
  if (cls === 'public') return undefined;
  const own = upstreamAddresses.map(canonicalAddress);
  if (cls === 'private' && upstreamAddresses.some((a) => classifyAddress(a) === 'private')) return undefined;
  if ((cls === 'loopback' || cls === 'link-local') && own.includes(canonicalAddress(target))) return undefined;
  return `${cls} address`;
}
