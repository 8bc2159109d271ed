/**
 * Upstream URLs without their secrets (issue 8, finding 8). Credentials are split out of configured
 * URLs when the config is read, so the URLs repoint keeps are clean; these helpers are the one way
 * any other URL (a redirect target, a message that may quote one) is shown.
 */

/** A URL's userinfo removed; with `query: 'drop'` also the query and fragment (signed CDN URLs carry tokens there). */
export function redactUrl(url: string, opts: { query?: 'keep' | 'drop' } = {}): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactText(url);
  }
  u.username = '';
  u.password = '';
  if (opts.query !== 'drop') return u.href;
  const query = u.search ? '?…' : '';
  u.search = '';
  u.hash = '';
  return `${u.href}${query}`;
}

// scheme://userinfo@ : userinfo runs to the last "@" before the authority ends
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>]*@/gi;

/** Any text with the userinfo of every URL in it replaced by "***", for messages and logs. */
export function redactText(text: string): string {
  return text.replace(USERINFO, '$1***@');
}

export interface Userinfo {
  username: string;
  password: string;
}

/** Splits `http://user:pass@host/path` into the clean URL and the decoded credentials. */
export function splitUserinfo(url: string): { url: string; userinfo?: Userinfo } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  if (u.username === '' && u.password === '') return { url };
  const userinfo = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  // URL adds a "/" to an empty path; keep the caller's form otherwise (no trailing slash)
  const clean = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  return { url: clean, userinfo };
}
