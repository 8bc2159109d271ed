/**
 * Forward-proxy mode (apt's Acquire::http::Proxy, yum's proxy=): the request line carries an absolute
 * URI. It is served by the remote whose upstream base prefixes it, so clients keep their sources.list
 * and still get verified, shared caching. The scheme is ignored: a client asks for http:// what the
 * remote fetches over https://. Returns the equivalent "/<remote>/<path>" (still percent-encoded), or
 * undefined when no remote mirrors that URL.
 */
export function forwardToRemote(absoluteUrl: string, remotes: ReadonlyMap<string, readonly string[]>): string | undefined {
  const target = stripScheme(absoluteUrl.replace(/[?#].*$/, ''));
  if (target === undefined) return undefined;
  let best: { remote: string; len: number } | undefined;
  for (const [remote, bases] of remotes) {
    for (const base of bases) {
      const b = stripScheme(base);
      if (b === undefined) continue;
      const prefix = b.endsWith('/') ? b : `${b}/`;
      if ((target.toLowerCase().startsWith(prefix.toLowerCase()) || `${target}/`.toLowerCase() === prefix.toLowerCase()) && (!best || prefix.length > best.len)) {
        best = { remote, len: prefix.length };
      }
    }
  }
  if (!best) return undefined;
  return `/${best.remote}/${target.slice(best.len)}`;
}

/** "http://Host:80/a/b" -> "host/a/b" (default ports dropped, host lower-cased). */
function stripScheme(url: string): string | undefined {
  const m = /^(https?):\/\/([^/]+)(\/.*)?$/i.exec(url);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const host = m[2]!.toLowerCase().replace(scheme === 'http' ? /:80$/ : /:443$/, '');
  return `${host}${m[3] ?? '/'}`;
}
