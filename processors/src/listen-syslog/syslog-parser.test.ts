import { describe, expect, it } from 'vitest';
import { type Frame, SyslogFramer } from './framing.ts';
import { parseSyslog, type SyslogMessage } from './syslog-parser.ts';

const parse = (text: string | Buffer): SyslogMessage => {
  const result = parseSyslog(typeof text === 'string' ? Buffer.from(text) : text);
  if (!result.valid) throw new Error(`expected a valid message, got: ${result.reason}`);
  return result.message;
};
const reason = (text: string | Buffer): string => {
  const result = parseSyslog(typeof text === 'string' ? Buffer.from(text) : text);
  if (result.valid) throw new Error('expected an invalid message');
  return result.reason;
};

describe('syslog parsing', () => {
  it('parses the RFC 5424 examples', () => {
    const su = parse(
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed for lonvick on /dev/pts/8",
    );
    expect(su).toMatchObject({
      priority: 34,
      facility: 4,
      severity: 2,
      version: '1',
      timestamp: '2003-10-11T22:14:15.003Z',
      hostname: 'mymachine.example.com',
      appname: 'su',
      procid: undefined,
      msgid: 'ID47',
      body: "'su root' failed for lonvick on /dev/pts/8",
    });
    const proc = parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nothing.");
    expect(proc).toMatchObject({
      facility: 20,
      severity: 5,
      procid: '8710',
      msgid: undefined,
      body: "%% It's time to make the do-nothing.",
    });
    const sd = parse(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    );
    expect(Object.fromEntries(sd.structuredData)).toEqual({
      'exampleSDID@32473.iut': '3',
      'exampleSDID@32473.eventSource': 'Application',
      'exampleSDID@32473.eventID': '1011',
      'examplePriority@32473.class': 'high',
    });
    expect(sd.body).toBe('');
    const escaped = parse('<13>1 - host app - - [x@1 q="a \\"quoted\\" \\] value"] body\n');
    expect(escaped.structuredData.get('x@1.q')).toBe('a "quoted" ] value');
    expect(escaped.timestamp).toBeUndefined();
    expect(escaped.body).toBe('body');
  });

  it('parses RFC 3164 messages, with or without a host, with tag and pid', () => {
    expect(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")).toMatchObject({
      priority: 34,
      version: undefined,
      timestamp: 'Oct 11 22:14:15',
      hostname: 'mymachine',
      appname: 'su',
      body: "'su root' failed for lonvick on /dev/pts/8",
    });
    expect(parse('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!')).toMatchObject({
      timestamp: 'Feb  5 17:32:18',
      hostname: '10.0.0.99',
      appname: undefined,
      body: 'Use the BFG!',
    });
    expect(parse('<30>Feb  5 17:32:18 sshd[1234]: Accepted publickey')).toMatchObject({
      hostname: undefined,
      appname: 'sshd',
      procid: '1234',
      body: 'Accepted publickey',
    });
    expect(parse('<30>2024-02-05T17:32:18.123+01:00 web01 nginx[77]: GET /')).toMatchObject({
      timestamp: '2024-02-05T17:32:18.123+01:00',
      hostname: 'web01',
      appname: 'nginx',
      procid: '77',
    });
  });

  it.each([
    ['hello world', 'does not start with a priority'],
    ['<192>Oct 11 22:14:15 host x', 'is not a priority'],
    ['<034>Oct 11 22:14:15 host x', 'is not a priority'],
    ['<34>not a timestamp at all', 'no timestamp after the priority'],
    ['<34>1 2003-13-11 host app - - - x', 'is not an RFC 3339 timestamp'],
    ['<34>1 2003-10-11T22:14:15Z host', 'header ends early'],
    ['<34>1 2003-10-11T22:14:15Z host app - - [unclosed a="b"', 'is not closed'],
    ['<34>1 2003-10-11T22:14:15Z host app - - [id a=b]', 'malformed parameter'],
  ])('refuses %j with a reason', (text, why) => {
    expect(reason(text)).toContain(why);
  });

  it('refuses invalid UTF-8', () => {
    expect(reason(Buffer.from([0x3c, 0x33, 0x34, 0x3e, 0xff, 0xfe, 0x41]))).toBe('the message is not valid UTF-8');
  });
});

describe('syslog TCP framing', () => {
  const frames = (max: number, ...chunks: string[]): Frame[] => {
    const out: Frame[] = [];
    const framer = new SyslogFramer(max, (f) => out.push(f));
    for (const c of chunks) framer.push(Buffer.from(c));
    framer.end();
    return out;
  };
  const texts = (list: Frame[]): string[] => list.map((f) => f.data.toString());

  it('splits newline framing (dropping CR) and octet counting, mixed and across chunks', () => {
    expect(texts(frames(1024, '<1>a b\r\n<2>c', 'd\n', '10 <3>hello\nx', '5 <4>ok<5>tail'))).toEqual([
      '<1>a b',
      '<2>cd',
      '<3>hello\nx',
      '<4>ok',
      '<5>tail',
    ]);
  });

  it('cuts messages longer than the limit and skips the rest of them', () => {
    const cut = frames(8, '<1>0123456789\n<2>ok\n', '20 <3>abcdefghijklmnopq<4>x\n');
    expect(texts(cut)).toEqual(['<1>01234', '<2>ok', '<3>abcde', '<4>x']);
    expect(cut.map((f) => f.truncatedFrom)).toEqual([-1, undefined, 20, undefined]);
  });

  it('flags a counted frame cut off by the end of the connection', () => {
    const cut = frames(1024, '50 <1>short');
    expect(texts(cut)).toEqual(['<1>short']);
    expect(cut[0]?.truncatedFrom).toBe(50);
  });
});
