import { compileDatePattern, formatDate, JAVA_DATE_TO_STRING, parseDate } from './date-format.ts';
import { fail, quote } from './errors.ts';
import { defaultTimeZone } from './time-zone.ts';

/**
 * The static result types of the Expression Language: `number` is NiFi's whole Number (a Java long),
 * `decimal` its Decimal (a double); `unknown` when it depends on run-time data.
 */
export type ResultType = 'string' | 'number' | 'decimal' | 'boolean' | 'date' | 'unknown';

/** A NiFi Date: an instant in epoch milliseconds. */
export class DateValue {
  constructor(readonly ms: number) {}
}

/**
 * A run-time value: strings, whole numbers as 64-bit `bigint` (Java long semantics, exact beyond
 * 2^53), decimals as `number`, booleans, dates, and null (a missing attribute).
 */
export type Value = string | bigint | number | boolean | DateValue | null;

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** Wraps a bigint into the Java long range, as Java arithmetic overflows. */
export function toLong(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

/** The run-time type of a value, in the vocabulary of ResultType. */
export function typeOfValue(value: Value): ResultType {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'number';
    case 'number':
      return 'decimal';
    case 'boolean':
      return 'boolean';
    default:
      return value === null ? 'unknown' : 'date';
  }
}

/** Java's `Double.toString`: `5.0`, `0.001`, `1.0E7`, `1.5E-4`, `NaN`, `Infinity`. */
export function javaDouble(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(value);
  if (abs >= 1e-3 && abs < 1e7) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const exp = value.toExponential();
  const e = exp.indexOf('e');
  let mantissa = exp.slice(0, e);
  if (!mantissa.includes('.')) mantissa += '.0';
  const power = exp.slice(e + 1);
  return `${mantissa}E${power.startsWith('+') ? power.slice(1) : power}`;
}

/** The Java `Date.toString()` text of a date in the host's zone, e.g. `Wed Dec 31 12:00:04 UTC 2016`. */
export function dateText(date: DateValue): string {
  return formatDate(compileDatePattern(JAVA_DATE_TO_STRING), date.ms, defaultTimeZone());
}

/** A value as text; null stays null. */
export function asString(value: Value): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'bigint':
      return value.toString();
    case 'number':
      return javaDouble(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return value === null ? null : dateText(value);
  }
}

/** A value as the text a template shows: null becomes the empty string. */
export function toText(value: Value): string {
  return typeof value === 'string' ? value : (asString(value) ?? '');
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/**
 * Classifies text as a NiFi number literal: `whole` (`-12`, `0x1F`), `decimal` (`1.5`, `.5`, `1e3`,
 * `-2.5E-3`) or undefined. Hand-written because it runs for every string→number coercion.
 */
export function classifyNumber(text: string): 'whole' | 'hex' | 'decimal' | undefined {
  const n = text.length;
  let i = 0;
  if (i < n && (text.charCodeAt(i) === 45 || text.charCodeAt(i) === 43)) i++;
  if (text.charCodeAt(i) === 48 && (text.charCodeAt(i + 1) === 120 || text.charCodeAt(i + 1) === 88)) {
    let j = i + 2;
    while (j < n && isHexDigit(text.charCodeAt(j))) j++;
    return j > i + 2 && j === n ? 'hex' : undefined;
  }
  let before = 0;
  while (i < n && isDigit(text.charCodeAt(i))) {
    i++;
    before++;
  }
  let decimal = false;
  let after = 0;
  if (i < n && text.charCodeAt(i) === 46) {
    decimal = true;
    i++;
    while (i < n && isDigit(text.charCodeAt(i))) {
      i++;
      after++;
    }
  }
  if (before + after === 0) return undefined;
  if (i < n && (text.charCodeAt(i) === 101 || text.charCodeAt(i) === 69)) {
    decimal = true;
    i++;
    if (i < n && (text.charCodeAt(i) === 45 || text.charCodeAt(i) === 43)) i++;
    let exp = 0;
    while (i < n && isDigit(text.charCodeAt(i))) {
      i++;
      exp++;
    }
    if (exp === 0) return undefined;
  }
  if (i !== n) return undefined;
  return decimal ? 'decimal' : 'whole';
}

/** Parses number text: whole numbers (in the long range) as bigint, decimals as number, else undefined. */
export function parseNumberText(raw: string): bigint | number | undefined {
  const text = raw.trim();
  const kind = classifyNumber(text);
  if (kind === undefined) return undefined;
  if (kind === 'decimal') return Number(text);
  let value: bigint;
  if (kind === 'hex') {
    const negative = text.startsWith('-');
    const digits = text.startsWith('-') || text.startsWith('+') ? text.slice(1) : text;
    value = BigInt(digits);
    if (negative) value = -value;
  } else {
    value = BigInt(text);
  }
  return value < LONG_MIN || value > LONG_MAX ? undefined : value;
}

/** A value as a whole or decimal number for arithmetic; null when null or not a number. */
export function asNumber(value: Value): bigint | number | null {
  switch (typeof value) {
    case 'bigint':
    case 'number':
      return value;
    case 'string':
      return parseNumberText(value) ?? null;
    case 'boolean':
      return null;
    default:
      return value === null ? null : BigInt(Math.trunc(value.ms));
  }
}

/** Java's `(long) double`: truncation, NaN → 0, saturating at the long range. */
export function truncToLong(value: number): bigint {
  if (Number.isNaN(value)) return 0n;
  if (value >= 9.223372036854776e18) return LONG_MAX;
  if (value <= -9.223372036854776e18) return LONG_MIN;
  return BigInt(Math.trunc(value));
}

/** A value as a whole number (decimals truncated); null when null or not a number. */
export function asWhole(value: Value): bigint | null {
  const n = asNumber(value);
  if (n === null) return null;
  return typeof n === 'bigint' ? n : truncToLong(n);
}

/** A value as a decimal; null when null or not a number. */
export function asDecimal(value: Value): number | null {
  const n = asNumber(value);
  if (n === null) return null;
  return typeof n === 'number' ? n : Number(n);
}

/** A value as a boolean the way NiFi casts: text is true when it reads `true` (any case). */
export function asBoolean(value: Value): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.trim().toLowerCase() === 'true';
  return null;
}

/** Largest instant a JavaScript Date can hold (±100,000,000 days from the epoch). */
const MAX_EPOCH_MS = 8.64e15;

function epochDate(ms: number): DateValue {
  if (!(Math.abs(ms) <= MAX_EPOCH_MS)) throw fail(`cannot use ${ms} as a date: it is too far from 1970`);
  return new DateValue(ms);
}

const ALTERNATE_DATE = 'yyyy/MM/dd HH:mm:ss';
const ALTERNATE_DATE_MILLIS = 'yyyy/MM/dd HH:mm:ss.SSS';

function looksLikeJavaDateString(text: string): boolean {
  // "EEE MMM dd HH:mm:ss zzz yyyy": two 3-letter words, then a day and a time.
  return (
    text.length >= 24 && text.charAt(3) === ' ' && text.charAt(7) === ' ' && text.charAt(13) === ':' && text.charAt(16) === ':'
  );
}

/**
 * A value as a date, as NiFi coerces implicitly: dates, epoch milliseconds (numbers or digit text),
 * Java `Date.toString()` text and `yyyy/MM/dd HH:mm:ss[.SSS]`. Other text is an ElFailure.
 */
export function asDate(value: Value, nowMs: number): DateValue | null {
  switch (typeof value) {
    case 'bigint':
      return epochDate(Number(value));
    case 'number':
      return epochDate(Math.trunc(value));
    case 'boolean':
      throw fail(`cannot use the true/false value ${value} as a date`);
    case 'string': {
      const text = value.trim();
      if (text !== '' && classifyNumber(text) === 'whole' && !text.startsWith('-') && !text.startsWith('+')) {
        return epochDate(Number(text));
      }
      const zone = defaultTimeZone();
      try {
        if (looksLikeJavaDateString(text))
          return new DateValue(parseDate(compileDatePattern(JAVA_DATE_TO_STRING), text, zone, nowMs).ms);
        if (text.length === 19) return new DateValue(parseDate(compileDatePattern(ALTERNATE_DATE), text, zone, nowMs).ms);
        if (text.length === 23) return new DateValue(parseDate(compileDatePattern(ALTERNATE_DATE_MILLIS), text, zone, nowMs).ms);
      } catch {
        // fall through to the plain explanation below
      }
      throw fail(
        `cannot use ${quote(value)} as a date; convert it first with toDate('<format>'), e.g. toDate('yyyy-MM-dd HH:mm:ss')`,
      );
    }
    default:
      return value;
  }
}
