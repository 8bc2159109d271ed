/** HTTP-date (RFC 9110 §5.6.7): we send IMF-fixdate and accept all three historic forms. */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAYS = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MON = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

const IMF_FIXDATE = new RegExp(`^${DAYS}, (\\d{2}) ${MON} (\\d{4}) ${TIME} GMT$`);
const RFC850 = new RegExp(`^${LONG_DAYS}, (\\d{2})-${MON}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^${DAYS} ${MON} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT` (sub-second part dropped). */
export function formatHttpDate(d: Date): string {
  return d.toUTCString();
}

/**
 * Parses an HTTP-date, or returns undefined. A two-digit rfc850 year more than
 * 50 years after `now` means the previous century (RFC 9110 §5.6.7).
 */
export function parseHttpDate(value: string, now: Date = new Date()): Date | undefined {
  const s = value.trim();
  let m = IMF_FIXDATE.exec(s);
  if (m) return build(m[3], m[2], m[1], m[4], m[5], m[6]);
  m = ASCTIME.exec(s);
  if (m) return build(m[6], m[1], m[2], m[3], m[4], m[5]);
  m = RFC850.exec(s);
  if (m) {
    const yy = Number(m[3]);
    const nowYear = now.getUTCFullYear();
    let year = nowYear - (nowYear % 100) + yy;
    if (year > nowYear + 50) year -= 100;
    return build(String(year), m[2], m[1], m[4], m[5], m[6]);
  }
  return undefined;
}

function build(...parts: Array<string | undefined>): Date | undefined {
  const [y, mon, d, h, mi, s] = parts;
  if (y === undefined || mon === undefined || d === undefined || h === undefined || mi === undefined || s === undefined) {
    return undefined;
  }
  const year = Number(y);
  const month = MONTHS.indexOf(mon);
  const day = Number(d.trim());
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(2000, month, day, hour, minute, second));
  date.setUTCFullYear(year);
  // Date.UTC rolls 31 Apr into 1 May; a real date survives unchanged.
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day) return undefined;
  return date;
}
