import { fail } from './errors.ts';
import { offsetText, parseOffsetId, type TimeZone, utcMillis } from './time-zone.ts';

// Java SimpleDateFormat patterns, formatted and parsed in English (NiFi's usual en_US locale) with
// US week rules (weeks start on Sunday; week 1 is the week holding January 1).

type DateItem =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'field'; readonly letter: string; readonly count: number };

/** A compiled SimpleDateFormat pattern. */
export interface DatePattern {
  readonly source: string;
  readonly items: readonly DateItem[];
}

const PATTERN_LETTERS = 'GyYMLwWDdFEuaHkKhmsSzZX';
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const patternCache = new Map<string, DatePattern>();

function isAsciiLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/** Compiles (and caches) a SimpleDateFormat pattern; throws an ElFailure naming the bad letter. */
export function compileDatePattern(source: string): DatePattern {
  const cached = patternCache.get(source);
  if (cached !== undefined) return cached;
  const items: DateItem[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === "'") {
      if (source.charAt(i + 1) === "'") {
        text += "'";
        i += 2;
        continue;
      }
      let j = i + 1;
      let closed = false;
      while (j < source.length) {
        if (source.charAt(j) === "'") {
          if (source.charAt(j + 1) === "'") {
            text += "'";
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        text += source.charAt(j);
        j++;
      }
      if (!closed) throw fail(`has a date format with an unterminated quote: "${source}"`);
      i = j + 1;
      continue;
    }
    if (isAsciiLetter(c)) {
      if (!PATTERN_LETTERS.includes(c)) {
        throw fail(`has a date format with the unknown pattern letter '${c}' in "${source}" (quote literal text, e.g. 'T')`);
      }
      let j = i + 1;
      while (source.charAt(j) === c) j++;
      const count = j - i;
      if (c === 'X' && count > 3) throw fail(`has a date format with too many 'X' letters in "${source}" (use X, XX or XXX)`);
      if (text !== '') {
        items.push({ kind: 'text', text });
        text = '';
      }
      items.push({ kind: 'field', letter: c, count });
      i = j;
      continue;
    }
    text += c;
    i++;
  }
  if (text !== '') items.push({ kind: 'text', text });
  const pattern: DatePattern = { source, items };
  if (patternCache.size > 256) patternCache.clear();
  patternCache.set(source, pattern);
  return pattern;
}

function pad(value: number, width: number): string {
  const s = String(value);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in a month (1-based month). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function dayOfYear(year: number, month: number, day: number): number {
  let doy = day;
  for (let m = 1; m < month; m++) doy += daysInMonth(year, m);
  return doy;
}

/** Broken-down local time of an instant in a zone. */
interface LocalFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  milli: number;
  /** 0 = Sunday */
  dow: number;
  offset: number;
}

function localFields(ms: number, zone: TimeZone): LocalFields {
  const offset = zone.offsetMinutes(ms);
  const d = new Date(ms + offset * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    milli: d.getUTCMilliseconds(),
    dow: d.getUTCDay(),
    offset,
  };
}

function weekOfYear(f: LocalFields): { week: number; weekYear: number } {
  const doy = dayOfYear(f.year, f.month, f.day);
  const yearDays = isLeap(f.year) ? 366 : 365;
  // The week (Sunday..Saturday) that holds January 1 of the next year is that year's week 1.
  if (doy + (6 - f.dow) > yearDays) return { week: 1, weekYear: f.year + 1 };
  const jan1Dow = (((f.dow - (doy - 1)) % 7) + 7) % 7;
  return { week: Math.floor((doy - 1 + jan1Dow) / 7) + 1, weekYear: f.year };
}

function formatYear(year: number, count: number): string {
  const yearOfEra = year <= 0 ? 1 - year : year;
  if (count === 2) return pad(yearOfEra % 100, 2);
  return pad(yearOfEra, count);
}

/** Formats an instant (epoch ms) with a compiled pattern in a zone. */
export function formatDate(pattern: DatePattern, ms: number, zone: TimeZone): string {
  const f = localFields(ms, zone);
  let out = '';
  for (const item of pattern.items) {
    if (item.kind === 'text') {
      out += item.text;
      continue;
    }
    const n = item.count;
    switch (item.letter) {
      case 'G':
        out += f.year > 0 ? 'AD' : 'BC';
        break;
      case 'y':
        out += formatYear(f.year, n);
        break;
      case 'Y':
        out += formatYear(weekOfYear(f).weekYear, n);
        break;
      case 'M':
      case 'L':
        out += n >= 4 ? (MONTHS[f.month - 1] ?? '') : n === 3 ? (MONTHS[f.month - 1] ?? '').slice(0, 3) : pad(f.month, n);
        break;
      case 'w':
        out += pad(weekOfYear(f).week, n);
        break;
      case 'W': {
        const firstDow = (((f.dow - (f.day - 1)) % 7) + 7) % 7;
        out += pad(Math.floor((f.day - 1 + firstDow) / 7) + 1, n);
        break;
      }
      case 'D':
        out += pad(dayOfYear(f.year, f.month, f.day), n);
        break;
      case 'd':
        out += pad(f.day, n);
        break;
      case 'F':
        out += pad(Math.floor((f.day - 1) / 7) + 1, n);
        break;
      case 'E':
        out += n >= 4 ? (DAYS[f.dow] ?? '') : (DAYS[f.dow] ?? '').slice(0, 3);
        break;
      case 'u':
        out += pad(f.dow === 0 ? 7 : f.dow, n);
        break;
      case 'a':
        out += f.hour < 12 ? 'AM' : 'PM';
        break;
      case 'H':
        out += pad(f.hour, n);
        break;
      case 'k':
        out += pad(f.hour === 0 ? 24 : f.hour, n);
        break;
      case 'K':
        out += pad(f.hour % 12, n);
        break;
      case 'h':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, n);
        break;
      case 'm':
        out += pad(f.minute, n);
        break;
      case 's':
        out += pad(f.second, n);
        break;
      case 'S':
        out += pad(f.milli, n);
        break;
      case 'z':
        out += n >= 4 ? zone.longName(ms) : zone.shortName(ms);
        break;
      case 'Z':
        out += offsetText(f.offset, '');
        break;
      case 'X':
        if (f.offset === 0) out += 'Z';
        else if (n === 1) out += offsetText(f.offset, '').slice(0, 3);
        else out += offsetText(f.offset, n === 2 ? '' : ':');
        break;
      default:
        break;
    }
  }
  return out;
}

/** Well-known zone abbreviations accepted when parsing `z` text (Java accepts these too). */
const ZONE_ABBREVIATIONS = new Map<string, number>([
  ['UTC', 0],
  ['GMT', 0],
  ['UT', 0],
  ['Z', 0],
  ['WET', 0],
  ['WEST', 60],
  ['BST', 60],
  ['CET', 60],
  ['CEST', 120],
  ['MET', 60],
  ['MEST', 120],
  ['EET', 120],
  ['EEST', 180],
  ['MSK', 180],
  ['IST', 330],
  ['ICT', 420],
  ['HKT', 480],
  ['SGT', 480],
  ['AWST', 480],
  ['JST', 540],
  ['KST', 540],
  ['ACST', 570],
  ['ACDT', 630],
  ['AEST', 600],
  ['AEDT', 660],
  ['NZST', 720],
  ['NZDT', 780],
  ['NST', -210],
  ['NDT', -150],
  ['AST', -240],
  ['ADT', -180],
  ['EST', -300],
  ['EDT', -240],
  ['CST', -360],
  ['CDT', -300],
  ['MST', -420],
  ['MDT', -360],
  ['PST', -480],
  ['PDT', -420],
  ['AKST', -540],
  ['AKDT', -480],
  ['HST', -600],
]);

const NUMERIC_LETTERS = 'yYwWDdFuHkKhmsS';

function isNumericItem(item: DateItem | undefined): boolean {
  if (item === undefined || item.kind !== 'field') return false;
  if (item.letter === 'M' || item.letter === 'L') return item.count < 3;
  return NUMERIC_LETTERS.includes(item.letter);
}

function matchName(text: string, pos: number, names: readonly string[]): { index: number; end: number } | undefined {
  const lower = text.toLowerCase();
  let bestIndex = -1;
  let bestEnd = -1;
  for (let index = 0; index < names.length; index++) {
    const name = names[index] ?? '';
    for (const candidate of [name, name.slice(0, 3)]) {
      if (lower.startsWith(candidate.toLowerCase(), pos) && pos + candidate.length > bestEnd) {
        bestIndex = index;
        bestEnd = pos + candidate.length;
      }
    }
  }
  return bestIndex < 0 ? undefined : { index: bestIndex, end: bestEnd };
}

function parseZoneText(text: string, pos: number): { offset: number; end: number } | undefined {
  // Offsets: +hh, +hhmm, +hh:mm, optionally after GMT / UTC.
  let prefixEnd = pos;
  if (text.startsWith('GMT', pos) || text.startsWith('UTC', pos)) prefixEnd = pos + 3;
  const sign = text.charAt(prefixEnd);
  if (sign === '+' || sign === '-') {
    let end = prefixEnd + 1;
    while (end < text.length && end - prefixEnd <= 6) {
      const c = text.charAt(end);
      if ((c >= '0' && c <= '9') || c === ':') end++;
      else break;
    }
    for (let stop = end; stop > prefixEnd + 1; stop--) {
      const offset = parseOffsetId(text.slice(prefixEnd, stop));
      if (offset !== undefined) return { offset, end: stop };
    }
    return undefined;
  }
  if (prefixEnd > pos) return { offset: 0, end: prefixEnd };
  let end = pos;
  while (end < text.length && isAsciiLetter(text.charAt(end))) end++;
  const word = text.slice(pos, end).toUpperCase();
  const offset = ZONE_ABBREVIATIONS.get(word);
  return offset === undefined ? undefined : { offset, end };
}

/** Result of parsing: the instant, and whether the wall time fell into a daylight-saving gap. */
export interface ParsedDate {
  readonly ms: number;
  readonly inGap: boolean;
}

/**
 * Converts a wall time (expressed as if it were UTC) in a zone to an instant. A time inside a
 * daylight-saving gap moves forward as Java's lenient calendar does; an ambiguous time takes the
 * earlier instant.
 */
export function wallToInstant(wall: number, zone: TimeZone): ParsedDate {
  const o1 = zone.offsetMinutes(wall);
  const t1 = wall - o1 * 60_000;
  const o2 = zone.offsetMinutes(t1);
  if (o1 === o2) return { ms: t1, inGap: false };
  const t2 = wall - o2 * 60_000;
  if (zone.offsetMinutes(t2) === o2) return { ms: t2, inGap: false };
  return { ms: wall - Math.min(o1, o2) * 60_000, inGap: true };
}

/**
 * Parses text with a compiled pattern. The whole (trimmed) text must match and every field must be
 * in range (no February 30). Throws an ElFailure saying what did not match.
 */
export function parseDate(pattern: DatePattern, input: string, zone: TimeZone, nowMs: number): ParsedDate {
  const text = input.trim();
  const bad = (why: string) => fail(`cannot read "${input}" as a date with format "${pattern.source}": ${why}`);
  let pos = 0;
  let year: number | undefined;
  let twoDigitYear = false;
  let month: number | undefined;
  let day: number | undefined;
  let dayOfYearValue: number | undefined;
  let hour24: number | undefined;
  let hour12: number | undefined;
  let pm: boolean | undefined;
  let minute = 0;
  let second = 0;
  let milli = 0;
  let offset: number | undefined;
  let bc = false;

  const items = pattern.items;
  for (let idx = 0; idx < items.length; idx++) {
    const item = items[idx];
    if (item === undefined) continue;
    if (item.kind === 'text') {
      if (!text.startsWith(item.text, pos)) {
        throw bad(`expected "${item.text}" at character ${pos + 1}`);
      }
      pos += item.text.length;
      continue;
    }
    const { letter, count } = item;
    if (isNumericItem(item)) {
      const max = isNumericItem(items[idx + 1]) ? count : 12;
      let end = pos;
      while (end < text.length && end - pos < max) {
        const c = text.charCodeAt(end);
        if (c < 48 || c > 57) break;
        end++;
      }
      if (end === pos) throw bad(`expected a number for '${letter.repeat(count)}' at character ${pos + 1}`);
      const value = Number(text.slice(pos, end));
      switch (letter) {
        case 'y':
        case 'Y':
          year = value;
          twoDigitYear = count <= 2 && end - pos === 2;
          break;
        case 'M':
        case 'L':
          month = value;
          break;
        case 'd':
          day = value;
          break;
        case 'D':
          dayOfYearValue = value;
          break;
        case 'H':
          hour24 = value;
          break;
        case 'k':
          hour24 = value === 24 ? 0 : value;
          if (value === 0 || value > 24) throw bad(`hour ${value} is out of range 1-24`);
          break;
        case 'K':
          hour12 = value;
          if (value > 11) throw bad(`hour ${value} is out of range 0-11`);
          break;
        case 'h':
          if (value === 0 || value > 12) throw bad(`hour ${value} is out of range 1-12`);
          hour12 = value % 12;
          break;
        case 'm':
          minute = value;
          break;
        case 's':
          second = value;
          break;
        case 'S':
          milli = value;
          break;
        default:
          // w, W, F, u: read and checked for shape only (the calendar date comes from y/M/d).
          break;
      }
      pos = end;
      continue;
    }
    switch (letter) {
      case 'M':
      case 'L': {
        const m = matchName(text, pos, MONTHS);
        if (m === undefined) throw bad(`expected a month name at character ${pos + 1}`);
        month = m.index + 1;
        pos = m.end;
        break;
      }
      case 'E': {
        const m = matchName(text, pos, DAYS);
        if (m === undefined) throw bad(`expected a day name at character ${pos + 1}`);
        pos = m.end;
        break;
      }
      case 'a': {
        const word = text.slice(pos, pos + 2).toUpperCase();
        if (word !== 'AM' && word !== 'PM') throw bad(`expected AM or PM at character ${pos + 1}`);
        pm = word === 'PM';
        pos += 2;
        break;
      }
      case 'G': {
        const word = text.slice(pos, pos + 2).toUpperCase();
        if (word !== 'AD' && word !== 'BC') throw bad(`expected AD or BC at character ${pos + 1}`);
        bc = word === 'BC';
        pos += 2;
        break;
      }
      default: {
        // z, Z, X
        const zoneText = parseZoneText(text, pos);
        if (zoneText === undefined) throw bad(`expected a time zone at character ${pos + 1}`);
        offset = zoneText.offset;
        pos = zoneText.end;
        break;
      }
    }
  }
  if (pos < text.length) throw bad(`unexpected "${text.slice(pos)}" at character ${pos + 1}`);

  let y = year ?? 1970;
  let windowStart = Number.NEGATIVE_INFINITY;
  if (twoDigitYear) {
    // Java resolves two-digit years into the window [now - 80 years, now + 20 years).
    const now = new Date(nowMs);
    const startYear = now.getUTCFullYear() - 80;
    windowStart = utcMillis(startYear, now.getUTCMonth() + 1, now.getUTCDate(), now.getUTCHours(), now.getUTCMinutes());
    y += Math.floor(startYear / 100) * 100;
    if (y < startYear) y += 100;
  }
  if (bc) y = 1 - y;
  let mo = month ?? 1;
  let d = day ?? 1;
  if (dayOfYearValue !== undefined && month === undefined && day === undefined) {
    const yearDays = isLeap(y) ? 366 : 365;
    if (dayOfYearValue < 1 || dayOfYearValue > yearDays) throw bad(`day of year ${dayOfYearValue} is out of range`);
    let rest = dayOfYearValue;
    mo = 1;
    while (rest > daysInMonth(y, mo)) {
      rest -= daysInMonth(y, mo);
      mo++;
    }
    d = rest;
  }
  if (mo < 1 || mo > 12) throw bad(`month ${mo} is out of range 1-12`);
  if (d < 1 || d > daysInMonth(y, mo)) throw bad(`day ${d} does not exist in month ${mo}`);
  let h = hour24 ?? 0;
  if (hour24 === undefined && hour12 !== undefined) h = hour12 + (pm === true ? 12 : 0);
  else if (hour24 === undefined && pm === true) h = 12;
  if (h > 23) throw bad(`hour ${h} is out of range 0-23`);
  if (minute > 59) throw bad(`minute ${minute} is out of range 0-59`);
  if (second > 59) throw bad(`second ${second} is out of range 0-59`);
  if (milli > 999) throw bad(`millisecond ${milli} is out of range 0-999`);
  let wall = utcMillis(y, mo, d, h, minute, second, milli);
  if (wall < windowStart) {
    y += 100;
    if (d > daysInMonth(y, mo)) throw bad(`day ${d} does not exist in month ${mo}`);
    wall = utcMillis(y, mo, d, h, minute, second, milli);
  }
  if (offset !== undefined) return { ms: wall - offset * 60_000, inGap: false };
  return wallToInstant(wall, zone);
}

/** Java `Date.toString()` layout, used when a whole expression evaluates to a Date. */
export const JAVA_DATE_TO_STRING = 'EEE MMM dd HH:mm:ss zzz yyyy';
