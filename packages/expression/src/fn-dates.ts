import { compileDatePattern, type DatePattern, daysInMonth, formatDate, parseDate, wallToInstant } from './date-format.ts';
import { fail, quote } from './errors.ts';
import { eager } from './fn-text.ts';
import { ArgFailure, type FunctionSpec, nowMs, type StaticArg } from './function-types.ts';
import { defaultTimeZone, resolveTimeZone, type TimeZone, utcMillis } from './time-zone.ts';
import { asDate, asString, DateValue, type Value } from './values.ts';

function zoneArg(value: Value | undefined): TimeZone {
  if (value === undefined) return defaultTimeZone();
  const id = asString(value);
  return id === null || id.trim() === '' ? defaultTimeZone() : resolveTimeZone(id);
}

/** Compile-time check of literal date-format and time-zone arguments. */
function checkDateArgs(formatIndex: number, zoneIndex: number): (args: readonly StaticArg[]) => void {
  return (args) => {
    const format = args[formatIndex]?.literal;
    if (typeof format === 'string') {
      try {
        compileDatePattern(format);
      } catch (e) {
        throw new ArgFailure(formatIndex, e instanceof Error ? e.message : String(e));
      }
    }
    const zone = args[zoneIndex]?.literal;
    if (typeof zone === 'string' && zone.trim() !== '') {
      try {
        resolveTimeZone(zone);
      } catch (e) {
        throw new ArgFailure(zoneIndex, e instanceof Error ? e.message : String(e));
      }
    }
  };
}

type DurationUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';
const UNITS: readonly DurationUnit[] = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year'];

/** Parses NiFi's duration amounts: `<whole number> <unit>`, unit singular or plural, any case. */
function parseDuration(text: string): { amount: number; unit: DurationUnit } {
  const trimmed = text.trim();
  let i = 0;
  while (i < trimmed.length && trimmed.charCodeAt(i) >= 48 && trimmed.charCodeAt(i) <= 57) i++;
  const digits = trimmed.slice(0, i);
  const rest = trimmed.slice(i);
  const word = rest.trim().toLowerCase();
  const singular = word.endsWith('s') ? word.slice(0, -1) : word;
  const unit = UNITS.find((u) => u === singular);
  if (digits === '' || rest.trim() === rest || unit === undefined || digits.length > 9) {
    throw fail(
      `cannot read the duration ${quote(text)}; write a whole number, a space and a unit, e.g. "2 weeks" (units: seconds, minutes, hours, days, weeks, months, years)`,
    );
  }
  return { amount: Number(digits), unit };
}

function shiftDate(date: DateValue, duration: string, sign: 1 | -1): DateValue {
  const shifted = shiftMillis(date, duration, sign);
  if (!(Math.abs(shifted.ms) <= 8.64e15))
    throw fail(`cannot move the date by ${quote(duration)}: the result is too far from 1970`);
  return shifted;
}

function shiftMillis(date: DateValue, duration: string, sign: 1 | -1): DateValue {
  const { amount, unit } = parseDuration(duration);
  const n = amount * sign;
  switch (unit) {
    case 'second':
      return new DateValue(date.ms + n * 1000);
    case 'minute':
      return new DateValue(date.ms + n * 60_000);
    case 'hour':
      return new DateValue(date.ms + n * 3_600_000);
    default:
      break;
  }
  // Calendar units move the wall-clock date in the default zone (as java.time's ZonedDateTime does),
  // so "1 day" across a daylight-saving change keeps the time of day.
  const zone = defaultTimeZone();
  const offset = zone.offsetMinutes(date.ms);
  const wall = new Date(date.ms + offset * 60_000);
  let year = wall.getUTCFullYear();
  let month = wall.getUTCMonth() + 1;
  let day = wall.getUTCDate();
  if (unit === 'day' || unit === 'week') {
    day += unit === 'day' ? n : n * 7;
  } else {
    const months = unit === 'month' ? n : n * 12;
    const total = year * 12 + (month - 1) + months;
    year = Math.floor(total / 12);
    month = (total % 12) + 1;
    day = Math.min(day, daysInMonth(year, month));
  }
  const shifted = utcMillis(
    year,
    month,
    day,
    wall.getUTCHours(),
    wall.getUTCMinutes(),
    wall.getUTCSeconds(),
    wall.getUTCMilliseconds(),
  );
  return new DateValue(wallToInstant(shifted, zone).ms);
}

function checkDuration(args: readonly StaticArg[]): void {
  const text = args[0]?.literal;
  if (typeof text === 'string') {
    try {
      parseDuration(text);
    } catch (e) {
      throw new ArgFailure(0, e instanceof Error ? e.message : String(e));
    }
  }
}

/** Date functions. */
export const DATE_FUNCTIONS: readonly FunctionSpec[] = [
  eager({
    name: 'now',
    group: 'date',
    description: 'The current date and time.',
    returns: 'date',
    subject: 'none',
    subjectKind: 'any',
    eval: (ctx) => new DateValue(nowMs(ctx)),
  }),
  eager({
    name: 'format',
    group: 'date',
    description: 'Formats a date (or epoch milliseconds) with a Java SimpleDateFormat pattern, in an optional time zone.',
    returns: 'string',
    subjectKind: 'date',
    params: [
      { name: 'format', kind: 'string' },
      { name: 'timeZone', kind: 'string', optional: true },
    ],
    check: checkDateArgs(0, 1),
    eval: (ctx, s, args) => {
      const date = asDate(s, nowMs(ctx));
      if (date === null) return null;
      const pattern = compileDatePattern(asString(args[0] ?? null) ?? '');
      return formatDate(pattern, date.ms, zoneArg(args[1]));
    },
  }),
  eager({
    name: 'toDate',
    group: 'date',
    description:
      'Reads the subject as a date with a Java SimpleDateFormat pattern, in an optional time zone; without a pattern, reads epoch milliseconds.',
    returns: 'date',
    subjectKind: 'any',
    params: [
      { name: 'format', kind: 'string', optional: true },
      { name: 'timeZone', kind: 'string', optional: true },
    ],
    check: checkDateArgs(0, 1),
    eval: (ctx, s, args) => {
      if (s === null) return null;
      if (args.length === 0) return asDate(s, nowMs(ctx));
      const text = asString(s) ?? '';
      if (text.trim() === '') return null;
      const pattern = compileDatePattern(asString(args[0] ?? null) ?? '');
      return new DateValue(parseDate(pattern, text, zoneArg(args[1]), nowMs(ctx)).ms);
    },
  }),
  eager({
    name: 'isValidDate',
    group: 'date',
    description: 'True if the subject is a real date in the given Java SimpleDateFormat pattern (and optional time zone).',
    returns: 'boolean',
    params: [
      { name: 'format', kind: 'string' },
      { name: 'timeZone', kind: 'string', optional: true },
    ],
    check: checkDateArgs(0, 1),
    eval: (ctx, s, args) => {
      const text = asString(s);
      if (text === null) return false;
      let pattern: DatePattern;
      try {
        pattern = compileDatePattern(asString(args[0] ?? null) ?? '');
      } catch {
        return false;
      }
      try {
        return !parseDate(pattern, text, zoneArg(args[1]), nowMs(ctx)).inGap;
      } catch {
        return false;
      }
    },
  }),
  eager({
    name: 'plusDuration',
    group: 'date',
    description: 'The subject date plus a duration such as "1 day", "2 weeks" or "3 months".',
    returns: 'date',
    subjectKind: 'date',
    params: [{ name: 'duration', kind: 'string' }],
    check: checkDuration,
    eval: (ctx, s, args) => {
      const date = asDate(s, nowMs(ctx));
      return date === null ? null : shiftDate(date, asString(args[0] ?? null) ?? '', 1);
    },
  }),
  eager({
    name: 'minusDuration',
    group: 'date',
    description: 'The subject date minus a duration such as "1 day", "2 weeks" or "3 months".',
    returns: 'date',
    subjectKind: 'date',
    params: [{ name: 'duration', kind: 'string' }],
    check: checkDuration,
    eval: (ctx, s, args) => {
      const date = asDate(s, nowMs(ctx));
      return date === null ? null : shiftDate(date, asString(args[0] ?? null) ?? '', -1);
    },
  }),
];
