const TIME_UNITS: ReadonlyArray<[RegExp, number]> = [
  [/^(ns|nanos?|nanoseconds?)$/, 1e-6],
  [/^(us|micros?|microseconds?)$/, 1e-3],
  [/^(ms|millis?|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hrs?|hours?)$/, 3_600_000],
  [/^(d|days?)$/, 86_400_000],
  [/^(w|wks?|weeks?)$/, 604_800_000],
];

const TIME_PERIOD = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$/;

/**
 * Parses a NiFi-style time period ("30 sec", "1 min", "500 ms", "2 hours") into milliseconds.
 * @throws {RangeError} naming the value when it is not a time period.
 */
export function parseTimePeriod(text: string): number {
  const match = TIME_PERIOD.exec(text);
  if (match?.[1] !== undefined && match[2] !== undefined) {
    const unit = match[2].toLowerCase();
    for (const [pattern, factor] of TIME_UNITS) {
      if (pattern.test(unit)) return Number(match[1]) * factor;
    }
  }
  throw new RangeError(`"${text}" is not a time period; write a number and a unit, like "30 sec", "5 mins" or "500 ms"`);
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  byte: 1,
  bytes: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const DATA_SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$/;

/**
 * Parses a NiFi-style data size ("1 GB", "10 KB", "512 B"; binary multiples, as NiFi does) into bytes.
 * @throws {RangeError} naming the value when it is not a data size.
 */
export function parseDataSize(text: string): number {
  const match = DATA_SIZE.exec(text);
  if (match?.[1] !== undefined && match[2] !== undefined) {
    const factor = Object.hasOwn(SIZE_UNITS, match[2].toLowerCase()) ? SIZE_UNITS[match[2].toLowerCase()] : undefined;
    if (factor !== undefined) return Math.floor(Number(match[1]) * factor);
  }
  throw new RangeError(`"${text}" is not a data size; write a number and a unit, like "1 GB", "64 KB" or "512 B"`);
}

/** Formats bytes the way the UI and bulletins show them ("1.5 MB"). */
export function formatDataSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
