import { compile } from '@sluice/expression';
import { describe, expect, it } from 'vitest';
import { context, errorOf, ev } from './context.test-helper.ts';

const time = { time: '1420058163264' }; // 2014-12-31T20:36:03.264Z

describe('format', () => {
  it('follows the NiFi guide examples', () => {
    expect(ev(`\${time:format("yyyy/MM/dd HH:mm:ss.SSS'Z'", "GMT")}`, time)).toBe('2014/12/31 20:36:03.264Z');
    expect(ev(`\${time:format("yyyy/MM/dd HH:mm:ss.SSS'Z'", "America/Los_Angeles")}`, time)).toBe('2014/12/31 12:36:03.264Z');
    expect(ev(`\${time:format("yyyy/MM/dd HH:mm:ss.SSS'Z'", "Asia/Tokyo")}`, time)).toBe('2015/01/01 05:36:03.264Z');
    expect(ev('${time:format("yyyy/MM/dd", "GMT")} ${time:format("yyyy", "GMT")}', time)).toBe('2014/12/31 2014');
  });

  // Expected strings were produced by java.text.SimpleDateFormat (Locale.US) on JDK 17.
  const javaOutputs: [string, string, string][] = [
    ['EEE MMM dd HH:mm:ss zzz yyyy', 'UTC', 'Wed Dec 31 20:36:03 UTC 2014'],
    ['EEE MMM dd HH:mm:ss zzz yyyy', 'America/New_York', 'Wed Dec 31 15:36:03 EST 2014'],
    ['EEE MMM dd HH:mm:ss zzz yyyy', 'Asia/Seoul', 'Thu Jan 01 05:36:03 KST 2015'],
    ['EEE MMM dd HH:mm:ss zzz yyyy', 'Europe/Berlin', 'Wed Dec 31 21:36:03 CET 2014'],
    ['EEEE, MMMM d, yy h:mm a z Z X XX XXX', 'Asia/Kolkata', 'Thursday, January 1, 15 2:06 AM IST +0530 +05 +0530 +05:30'],
    ['zzzz', 'America/Los_Angeles', 'Pacific Standard Time'],
    ['zzzz', 'Asia/Seoul', 'Korean Standard Time'],
    ['z zzzz', 'GMT+05:30', 'GMT+05:30 GMT+05:30'],
    ['D w W F u k K G Y yyyyy S SS SSSSS', 'UTC', '365 1 5 5 3 20 8 AD 2015 02014 264 264 00264'],
    ["''yyyy'' 'o''clock'", 'UTC', "'2014' o'clock"],
    ['X XX XXX Z', 'UTC', 'Z Z Z +0000'],
    ['z', 'Europe/London', 'GMT'],
    ['z', 'Australia/Sydney', 'AEDT'],
  ];
  for (const [pattern, zone, expected] of javaOutputs) {
    it(`formats "${pattern}" in ${zone} like Java`, () => {
      const t = compile('${time:format(${p}, ${z})}');
      expect(t.evaluate(context({ ...time, p: pattern, z: zone }))).toBe(expected);
    });
  }

  it('computes US week fields like Java', () => {
    const cases: [number, string][] = [
      [0, '1970-01-01 Thu 1 1 1970 1 1 4'],
      [1704067200000, '2024-01-01 Mon 1 1 2024 1 1 1'],
      [1735603200000, '2024-12-31 Tue 1 5 2025 366 5 2'],
      [1609459200000, '2021-01-01 Fri 1 1 2021 1 1 5'],
      [1262217600000, '2009-12-31 Thu 1 5 2010 365 5 4'],
    ];
    const t = compile("${t:format('yyyy-MM-dd E w W Y D F u', 'UTC')}");
    for (const [ms, expected] of cases) expect(t.evaluate(context({ t: String(ms) }))).toBe(expected);
  });

  it('formats dates from now(), numbers and date text', () => {
    const now = () => 1420058163264;
    expect(ev("${now():format('yyyy-MM-dd HH:mm', 'UTC')}", {}, { now })).toBe('2014-12-31 20:36');
    expect(ev("${literal(0):format('yyyy-MM-dd', 'UTC')}")).toBe('1970-01-01');
    expect(ev("${d:format('yyyy-MM-dd', 'UTC')}", { d: 'Wed Dec 31 20:36:03 UTC 2014' })).toBe('2014-12-31');
    expect(ev("${now():toNumber():minus(86400000):format('E', 'UTC')}", {}, { now })).toBe('Tue');
    expect(ev("[${missing:format('yyyy')}]")).toBe('[]');
  });

  it('uses the host zone when none is given', () => {
    const host = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(ev("${time:format('yyyy-MM-dd HH:mm:ss.SSS')}", time)).toBe(
      ev('${time:format("yyyy-MM-dd HH:mm:ss.SSS", ${z})}', { ...time, z: host }),
    );
  });

  it('prints a whole Date the way Java Date.toString does, and reads it back', () => {
    const now = () => 1420058163264;
    const text = ev('${now()}', {}, { now });
    expect(text).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}$/);
    expect(ev('${now():toString():toDate():toNumber()}', {}, { now })).toBe('1420058163000');
  });

  it('rejects bad patterns, zones and subjects with clear messages', () => {
    expect(errorOf(() => compile("${t:format('yyyy-MM-dd HHh:mm', 'Mars/Olympus')}")).message).toBe(
      '"format" does not know the time zone "Mars/Olympus"; use an id like "UTC", "Europe/Paris" or "GMT+02:00" (at position 32)',
    );
    expect(() => compile("${t:format('yyyy-MM-ddTHH')}")).toThrow(/unknown pattern letter 'T'.*quote literal text, e.g. 'T'/);
    expect(() => compile("${t:format('yyyy 'unclosed')}")).toThrow();
    expect(() => compile('${t:format("\'oops")}')).toThrow(/unterminated quote/);
    expect(() => compile("${t:format('XXXX')}")).toThrow(/too many 'X'/);
    expect(() => ev("${t:format('yyyy')}", { t: 'yesterday' })).toThrow(
      /"format" cannot use "yesterday" as a date; convert it first with toDate/,
    );
    expect(() => ev('${t:format(${p})}', { t: '0', p: 'yyyyQ' })).toThrow(/unknown pattern letter 'Q'/);
  });

  it('accepts Java short ids and offsets as zones', () => {
    const t = { t: '1420058163264' };
    expect(ev("${t:format('HH:mm z', 'PST')}", t)).toBe('12:36 PST');
    expect(ev("${t:format('HH:mm z', '+09:00')}", t)).toBe('05:36 GMT+09:00');
    expect(ev("${t:format('HH:mm', 'GMT-0330')}", t)).toBe('17:06');
    expect(ev("${t:format('HH:mm', 'UTC+1')}", t)).toBe('21:36');
  });
});

describe('toDate', () => {
  it('parses with a pattern and zone (NiFi examples)', () => {
    expect(ev("${year:toDate('yyyy', 'GMT'):toNumber()}", { year: '2014' })).toBe(String(Date.UTC(2014, 0, 1)));
    expect(ev(`\${t:toDate("yyyy/MM/dd HH:mm:ss.SSS'Z'", "GMT"):toNumber()}`, { t: '2014/12/31 15:36:03.264Z' })).toBe(
      String(Date.UTC(2014, 11, 31, 15, 36, 3, 264)),
    );
    expect(ev("${date:toDate('MM-dd-yyyy', 'UTC'):format('yyyy/MM/dd', 'UTC')}", { date: '12-24-2014' })).toBe('2014/12/24');
  });

  // Expected instants were produced by java.text.SimpleDateFormat (Locale.US) on JDK 17.
  const javaParses: [string, string, string, number][] = [
    ['yyyyMMdd', '20240229', 'UTC', 1709164800000],
    ['dd/MM/yy', '05/03/99', 'UTC', 920592000000],
    ['EEE, d MMM yyyy HH:mm:ss Z', 'Tue, 3 Jun 2008 11:05:30 +0200', 'UTC', 1212483930000],
    ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", '2024-06-01T12:30:45.123-07:00', 'UTC', 1717270245123],
    ["yyyy-MM-dd'T'HH:mm:ssX", '2024-06-01T12:30:45Z', 'Asia/Seoul', 1717245045000],
    ['MMM d, yyyy h:mm a', 'Jan 5, 2024 7:15 PM', 'America/New_York', 1704500100000],
    ['MMMM d yyyy HH:mm z', 'July 4 2024 10:00 PDT', 'UTC', 1720112400000],
    ['yyyy-MM-dd HH:mm', '2024-07-01 09:00', 'Asia/Kolkata', 1719804600000],
    ['EEE MMM dd HH:mm:ss zzz yyyy', 'Wed Dec 31 15:36:03 EST 2014', 'UTC', 1420058163000],
    ['yyyy-DDD', '2024-060', 'UTC', 1709164800000],
    ['HHmmss', '235959', 'UTC', 86399000],
    ['yyyy-MM-dd HH:mm:ss z', '2024-01-01 00:00:00 GMT+05:30', 'UTC', 1704047400000],
    ['yyyy-MM-dd kk:mm', '2024-01-01 24:00', 'UTC', 1704067200000],
    ['yyyy-MM-dd KK:mm a', '2024-01-01 11:00 PM', 'UTC', 1704150000000],
    ['yyyy-MM-dd hh:mm a', '2024-01-01 12:05 AM', 'UTC', 1704067500000],
  ];
  for (const [pattern, text, zone, expected] of javaParses) {
    it(`parses "${text}" with "${pattern}" in ${zone} like Java`, () => {
      const t = compile('${v:toDate(${p}, ${z}):toNumber()}');
      expect(t.evaluate(context({ v: text, p: pattern, z: zone }))).toBe(String(expected));
    });
  }

  it('resolves two-digit years into [now - 80y, now + 20y) like Java', () => {
    const now = () => Date.UTC(2026, 10, 26);
    const t = compile("${v:toDate('dd/MM/yy', 'UTC'):format('yyyy-MM-dd', 'UTC')}");
    expect(t.evaluate(context({ v: '05/03/46' }, { now }))).toBe('2046-03-05');
    expect(t.evaluate(context({ v: '05/12/46' }, { now }))).toBe('1946-12-05');
    expect(t.evaluate(context({ v: '01/01/00' }, { now }))).toBe('2000-01-01');
    expect(t.evaluate(context({ v: '01/01/99' }, { now }))).toBe('1999-01-01');
  });

  it('round-trips format and toDate in many zones', () => {
    const zones = [
      'UTC',
      'America/New_York',
      'Europe/Berlin',
      'Asia/Seoul',
      'Asia/Kolkata',
      'Australia/Sydney',
      'America/St_Johns',
      'GMT-03:30',
    ];
    const patterns = [
      "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
      'yyyy-MM-dd HH:mm:ss.SSS Z',
      'EEE, d MMM yyyy HH:mm:ss.SSS z',
      'yyyyMMddHHmmssSSS',
    ];
    const instants = [0, 1420058163264, 1710055800000, 1730611800000, 951782400123, 4102444799999];
    const t = compile('${ms:format(${p}, ${z}):toDate(${p}, ${z}):toNumber()}');
    for (const z of zones) {
      for (const p of patterns) {
        for (const ms of instants) {
          expect(t.evaluate(context({ ms: String(ms), p, z })), `${p} in ${z} at ${ms}`).toBe(String(ms));
        }
      }
    }
  });

  it('moves a wall time in a daylight-saving gap forward, and takes the earlier of two ambiguous instants', () => {
    const t = compile("${v:toDate('yyyy-MM-dd HH:mm', 'America/New_York'):format('yyyy-MM-dd HH:mm z', 'America/New_York')}");
    expect(t.evaluate(context({ v: '2024-03-10 02:30' }))).toBe('2024-03-10 03:30 EDT');
    expect(t.evaluate(context({ v: '2024-11-03 01:30' }))).toBe('2024-11-03 01:30 EDT');
  });

  it('without a pattern reads epoch milliseconds or Java date text', () => {
    expect(ev('${v:toDate():toNumber()}', { v: '1420058163264' })).toBe('1420058163264');
    expect(ev("${v:toDate():format('yyyy', 'UTC')}", { v: '2014/12/31 20:36:03' })).toMatch(/^201[45]$/);
  });

  it('reports text that does not match, naming the value, the pattern and where it went wrong', () => {
    const error = errorOf(() => ev("${v:toDate('yyyy-MM-dd', 'UTC')}", { v: '2024/01/05' }));
    expect(error.message).toBe(
      '"toDate" cannot read "2024/01/05" as a date with format "yyyy-MM-dd": expected "-" at character 5 (at position 4)',
    );
    expect(() => ev("${v:toDate('yyyy-MM-dd')}", { v: '2024-02-30' })).toThrow(/day 30 does not exist in month 2/);
    expect(() => ev("${v:toDate('yyyy-MM-dd')}", { v: '2024-13-01' })).toThrow(/month 13 is out of range/);
    expect(() => ev("${v:toDate('yyyy-MM-dd')}", { v: '2024-01-01T00:00' })).toThrow(/unexpected "T00:00" at character 11/);
    expect(() => ev("${v:toDate('HH:mm')}", { v: '25:00' })).toThrow(/hour 25 is out of range/);
    expect(ev("[${v:toDate('yyyy')}] [${missing:toDate('yyyy')}]", { v: '  ' })).toBe('[] []');
  });
});

describe('isValidDate', () => {
  it('checks the whole text and the calendar', () => {
    const t = (v: string, p: string, z = 'UTC') => ev('${v:isValidDate(${p}, ${z})}', { v, p, z });
    expect(t('2024-02-29', 'yyyy-MM-dd')).toBe('true');
    expect(t('2023-02-29', 'yyyy-MM-dd')).toBe('false');
    expect(t(' 2024-01-31 ', 'yyyy-MM-dd')).toBe('true');
    expect(t('2024-01-31x', 'yyyy-MM-dd')).toBe('false');
    expect(t('2024-03-10 02:30', 'yyyy-MM-dd HH:mm', 'America/New_York')).toBe('false');
    expect(t('2024-03-10 03:30', 'yyyy-MM-dd HH:mm', 'America/New_York')).toBe('true');
    expect(ev("${missing:isValidDate('yyyy')}")).toBe('false');
  });
});

describe('plusDuration / minusDuration', () => {
  const noon = { d: String(Date.UTC(2024, 0, 15, 12)) };
  it('adds and subtracts clock and calendar amounts', () => {
    const f = (expr: string) => ev(`\${d:${expr}:format('yyyy-MM-dd HH:mm:ss', 'UTC')}`, noon);
    expect(f("plusDuration('1 day')")).toBe('2024-01-16 12:00:00');
    expect(f("plusDuration('2 weeks')")).toBe('2024-01-29 12:00:00');
    expect(f("minusDuration('3 hours')")).toBe('2024-01-15 09:00:00');
    expect(f("plusDuration('90 Seconds')")).toBe('2024-01-15 12:01:30');
    expect(f("plusDuration('1 year')")).toBe('2025-01-15 12:00:00');
    expect(f("minusDuration('13 months')")).toBe('2022-12-15 12:00:00');
  });

  it('clamps to the end of a shorter month, as java.time does', () => {
    expect(ev("${d:plusDuration('1 month'):format('yyyy-MM-dd', 'UTC')}", { d: String(Date.UTC(2024, 0, 31, 12)) })).toBe(
      '2024-02-29',
    );
    expect(ev("${d:minusDuration('1 year'):format('yyyy-MM-dd', 'UTC')}", { d: String(Date.UTC(2024, 1, 29, 12)) })).toBe(
      '2023-02-28',
    );
  });

  it('refuses results outside the range of dates', () => {
    expect(() => ev("${d:plusDuration('999999999 years')}", noon)).toThrow(
      /"plusDuration" cannot move the date by "999999999 years"/,
    );
    expect(() => ev("${d:format('yyyy')}", { d: '99999999999999999' })).toThrow(/too far from 1970/);
  });

  it('rejects durations it cannot read', () => {
    expect(() => compile("${d:plusDuration('ten days')}")).toThrow(/"plusDuration" cannot read the duration "ten days"/);
    expect(() => compile("${d:plusDuration('1 dog')}")).toThrow(/cannot read the duration "1 dog"/);
    expect(() => compile("${d:plusDuration('2weeks')}")).toThrow(/cannot read the duration/);
    expect(() => ev('${d:plusDuration(${x})}', { d: '0', x: 'B weeks' })).toThrow(/cannot read the duration "B weeks"/);
  });
});
