import { fail } from './errors.ts';

/** A time zone as the date functions need it: an offset at an instant, and its display names. */
export interface TimeZone {
  /** Canonical id, e.g. `UTC`, `GMT+05:30`, `America/New_York`. */
  readonly id: string;
  /** Offset from UTC in minutes at the given instant (epoch ms). */
  offsetMinutes(ms: number): number;
  /** Short display name as Java's `z` prints it, e.g. `PST`, `UTC`, `GMT+09:00`. */
  shortName(ms: number): string;
  /** Long display name as Java's `zzzz` prints it, e.g. `Pacific Standard Time`. */
  longName(ms: number): string;
}

/** Milliseconds since the epoch for a proleptic-Gregorian UTC wall time (years 0-99 included). */
export function utcMillis(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, milli = 0): number {
  // Date.UTC maps years 0..99 to 1900..1999, so set the full year explicitly.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, milli);
  return date.getTime();
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `+05:30` style text for an offset in minutes (Java's `GMT+hh:mm` display form without the prefix). */
export function offsetText(minutes: number, separator = ':'): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${two(Math.floor(abs / 60))}${separator}${two(abs % 60)}`;
}

class FixedZone implements TimeZone {
  constructor(
    readonly id: string,
    private readonly offset: number,
    private readonly short: string,
    private readonly long: string,
  ) {}
  offsetMinutes(): number {
    return this.offset;
  }
  shortName(): string {
    return this.short;
  }
  longName(): string {
    return this.long;
  }
}

function fixedOffsetZone(minutes: number): TimeZone {
  if (minutes === 0) return UTC_ZONE;
  const name = `GMT${offsetText(minutes)}`;
  return new FixedZone(name, minutes, name, name);
}

/** Normalizes Intl's `GMT+9` / `GMT-3:30` into Java's `GMT+09:00` / `GMT-03:30`. */
function javaStyleGmtName(name: string): string {
  if (!name.startsWith('GMT') || name.length === 3) return name;
  const sign = name[3];
  if (sign !== '+' && sign !== '-') return name;
  const rest = name.slice(4);
  const colon = rest.indexOf(':');
  const hours = Number(colon < 0 ? rest : rest.slice(0, colon));
  const minutes = colon < 0 ? 0 : Number(rest.slice(colon + 1));
  if (!Number.isInteger(hours) || !Number.isInteger(minutes)) return name;
  return `GMT${sign}${two(hours)}:${two(minutes)}`;
}

const SHORT_NAME_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IN', 'en-SG', 'en-ZA'];

/** Abbreviations Java prints for zones where no English Intl locale has one. */
const JAVA_ABBREVIATIONS = new Map<string, string>([
  ['Asia/Seoul', 'KST'],
  ['Asia/Tokyo', 'JST'],
  ['Asia/Shanghai', 'CST'],
  ['Asia/Taipei', 'CST'],
  ['Asia/Hong_Kong', 'HKT'],
  ['Asia/Jakarta', 'WIB'],
  ['Europe/Moscow', 'MSK'],
]);

class IntlZone implements TimeZone {
  private readonly fields: Intl.DateTimeFormat;
  private shortFormats: Intl.DateTimeFormat[] | undefined;
  private readonly shortNames = new Map<number, string>();
  private longFormat: Intl.DateTimeFormat | undefined;
  // One-entry memo: consecutive calls for the same minute (format then parse, or several fields)
  // are common and formatToParts is the expensive part.
  private memoMinute = Number.NaN;
  private memoOffset = 0;

  constructor(readonly id: string) {
    this.fields = new Intl.DateTimeFormat('en-US', {
      timeZone: id,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  offsetMinutes(ms: number): number {
    const minute = Math.floor(ms / 60_000);
    if (minute === this.memoMinute) return this.memoOffset;
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let min = 0;
    let sec = 0;
    let bc = false;
    for (const part of this.fields.formatToParts(ms)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value) % 24;
          break;
        case 'minute':
          min = Number(part.value);
          break;
        case 'second':
          sec = Number(part.value);
          break;
        case 'era':
          bc = part.value.startsWith('B');
          break;
        default:
          break;
      }
    }
    if (bc) year = 1 - year;
    const wall = utcMillis(year, month, day, hour, min, sec);
    const base = ms - (((ms % 1000) + 1000) % 1000);
    const offset = Math.round((wall - base) / 60_000);
    this.memoMinute = minute;
    this.memoOffset = offset;
    return offset;
  }

  shortName(ms: number): string {
    const offset = this.offsetMinutes(ms);
    const cached = this.shortNames.get(offset);
    if (cached !== undefined) return cached;
    // en-US alone prints "GMT+1" for Berlin; other English locales know more abbreviations (CET,
    // AEDT, IST, SGT), and a few zones only have them in Java's own table.
    this.shortFormats ??= SHORT_NAME_LOCALES.map(
      (locale) => new Intl.DateTimeFormat(locale, { timeZone: this.id, timeZoneName: 'short' }),
    );
    let name: string | undefined;
    for (const format of this.shortFormats) {
      const candidate = zoneNamePart(format, ms);
      if (
        candidate !== undefined &&
        !candidate.startsWith('GMT+') &&
        !candidate.startsWith('GMT-') &&
        !candidate.startsWith('UTC+')
      ) {
        name = candidate;
        break;
      }
    }
    name ??= JAVA_ABBREVIATIONS.get(this.id) ?? `GMT${offsetText(offset)}`;
    this.shortNames.set(offset, name);
    return name;
  }

  longName(ms: number): string {
    this.longFormat ??= new Intl.DateTimeFormat('en-US', { timeZone: this.id, timeZoneName: 'long' });
    return javaStyleGmtName(zoneNamePart(this.longFormat, ms) ?? `GMT${offsetText(this.offsetMinutes(ms))}`);
  }
}

function zoneNamePart(format: Intl.DateTimeFormat, ms: number): string | undefined {
  for (const part of format.formatToParts(ms)) {
    if (part.type === 'timeZoneName') return part.value;
  }
  return undefined;
}

const UTC_ZONE: TimeZone = new FixedZone('UTC', 0, 'UTC', 'Coordinated Universal Time');
const GMT_ZONE: TimeZone = new FixedZone('GMT', 0, 'GMT', 'Greenwich Mean Time');

/** Java's three-letter legacy zone ids (`java.time.ZoneId.SHORT_IDS`) that Intl does not know. */
const JAVA_SHORT_IDS = new Map<string, string>([
  ['ACT', 'Australia/Darwin'],
  ['AET', 'Australia/Sydney'],
  ['AGT', 'America/Argentina/Buenos_Aires'],
  ['ART', 'Africa/Cairo'],
  ['AST', 'America/Anchorage'],
  ['BET', 'America/Sao_Paulo'],
  ['BST', 'Asia/Dhaka'],
  ['CAT', 'Africa/Harare'],
  ['CNT', 'America/St_Johns'],
  ['CST', 'America/Chicago'],
  ['CTT', 'Asia/Shanghai'],
  ['EAT', 'Africa/Addis_Ababa'],
  ['ECT', 'Europe/Paris'],
  ['IET', 'America/Indiana/Indianapolis'],
  ['IST', 'Asia/Kolkata'],
  ['JST', 'Asia/Tokyo'],
  ['MIT', 'Pacific/Apia'],
  ['NET', 'Asia/Yerevan'],
  ['NST', 'Pacific/Auckland'],
  ['PLT', 'Asia/Karachi'],
  ['PNT', 'America/Phoenix'],
  ['PRT', 'America/Puerto_Rico'],
  ['PST', 'America/Los_Angeles'],
  ['SST', 'Pacific/Guadalcanal'],
  ['VST', 'Asia/Ho_Chi_Minh'],
]);

/**
 * Parses `+05:30`, `-0800`, `+9`, `GMT+09:00`, `UTC-5` into minutes; undefined when the text is
 * not an offset.
 */
export function parseOffsetId(text: string): number | undefined {
  let rest = text;
  if (rest.startsWith('GMT') || rest.startsWith('UTC')) rest = rest.slice(3);
  else if (rest.startsWith('UT')) rest = rest.slice(2);
  const sign = rest[0];
  if (sign !== '+' && sign !== '-') return undefined;
  const body = rest.slice(1);
  let hours: number;
  let minutes = 0;
  const colon = body.indexOf(':');
  if (colon >= 0) {
    hours = digitsValue(body.slice(0, colon), 1, 2);
    minutes = digitsValue(body.slice(colon + 1), 2, 2);
  } else if (body.length <= 2) {
    hours = digitsValue(body, 1, 2);
  } else {
    hours = digitsValue(body.slice(0, body.length - 2), 1, 2);
    minutes = digitsValue(body.slice(body.length - 2), 2, 2);
  }
  if (Number.isNaN(hours) || Number.isNaN(minutes) || hours > 18 || minutes > 59) return undefined;
  const total = hours * 60 + minutes;
  return sign === '-' ? -total : total;
}

function digitsValue(text: string, min: number, max: number): number {
  if (text.length < min || text.length > max) return Number.NaN;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    value = value * 10 + c;
  }
  return value;
}

const zoneCache = new Map<string, TimeZone>();

/**
 * Resolves a time zone id the way Java's `TimeZone.getTimeZone` users expect: `UTC`, `GMT`, offsets
 * (`GMT+09:00`, `+0530`), Java's legacy short ids (`PST`) and every IANA id Intl knows. Unlike Java,
 * an unknown id is an error rather than a silent fall back to GMT.
 */
export function resolveTimeZone(id: string): TimeZone {
  const cached = zoneCache.get(id);
  if (cached !== undefined) return cached;
  const zone = lookupZone(id.trim());
  if (zoneCache.size > 256) zoneCache.clear();
  zoneCache.set(id, zone);
  return zone;
}

function lookupZone(id: string): TimeZone {
  switch (id) {
    case 'UTC':
    case 'Etc/UTC':
    case 'UCT':
    case 'Etc/UCT':
    case 'Universal':
    case 'Etc/Universal':
    case 'Zulu':
    case 'Etc/Zulu':
    case 'Z':
      return UTC_ZONE;
    case 'GMT':
    case 'Etc/GMT':
    case 'GMT0':
    case 'Greenwich':
    case 'Etc/Greenwich':
      return GMT_ZONE;
    default:
      break;
  }
  const offset = parseOffsetId(id);
  if (offset !== undefined) return fixedOffsetZone(offset);
  const target = JAVA_SHORT_IDS.get(id) ?? id;
  if (target === '') throw fail('needs a time zone, but the time zone is empty');
  try {
    const canonical = new Intl.DateTimeFormat('en-US', { timeZone: target }).resolvedOptions().timeZone;
    return new IntlZone(canonical);
  } catch {
    throw fail(`does not know the time zone "${id}"; use an id like "UTC", "Europe/Paris" or "GMT+02:00"`);
  }
}

let hostZone: TimeZone | undefined;

/** The host's time zone (Intl's default), or UTC when the runtime cannot tell. */
export function defaultTimeZone(): TimeZone {
  if (hostZone === undefined) {
    let id = 'UTC';
    try {
      id = new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    } catch {
      id = 'UTC';
    }
    try {
      hostZone = resolveTimeZone(id);
    } catch {
      hostZone = UTC_ZONE;
    }
  }
  return hostZone;
}
