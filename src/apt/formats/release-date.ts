import { RepointError } from '../../errors.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

// RFC 2822 as apt writes and reads it: optional weekday, then "10 Jun 2023 08:52:18 UTC".
// Date.parse is not used: it accepts far too much (e.g. "2023") for a security-relevant field.
const RFC2822 =
  /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+(UTC|GMT|UT|Z|[+-]\d{4})$/;

/** Parses a Release Date/Valid-Until value; throws METADATA_INVALID if it is not RFC 2822. */
export function parseReleaseDate(value: string, field = 'Date'): Date {
  const m = RFC2822.exec(value.trim());
  const fail = (): RepointError =>
    new RepointError('METADATA_INVALID', `Release ${field}: not an RFC 2822 date: ${JSON.stringify(value)}`, { field, value });
  if (m === null) throw fail();
  const [, dd = '', mon = '', yyyy = '', hh = '', mi = '', ss, zone = ''] = m;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === mon.toLowerCase());
  const day = Number(dd);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = ss === undefined ? 0 : Number(ss);
  if (month < 0 || hour > 23 || minute > 59 || second > 60) throw fail();
  let ms = Date.UTC(Number(yyyy), month, day, hour, minute, Math.min(second, 59));
  const check = new Date(ms);
  // Rejects e.g. 31 Feb, and years below 100 that Date.UTC would map to 19xx.
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month || check.getUTCFullYear() !== Number(yyyy)) throw fail();
  if (zone.startsWith('+') || zone.startsWith('-')) {
    const offMinutes = Number(zone.slice(3, 5));
    if (offMinutes > 59) throw fail();
    const offset = Number(zone.slice(1, 3)) * 60 + offMinutes;
    ms -= (zone.startsWith('-') ? -offset : offset) * 60_000;
  }
  return new Date(ms);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** apt's own Date format: "Sat, 10 Jun 2023 08:52:18 UTC" (seconds precision). */
export function formatReleaseDate(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RepointError('INTERNAL', 'formatReleaseDate: invalid Date');
  return (
    `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`
  );
}
