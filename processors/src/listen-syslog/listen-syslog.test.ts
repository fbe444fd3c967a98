import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, startListener, until } from '../network-support/network.test-helper.ts';
import { ListenSyslog } from './index.ts';

const RFC5424 =
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event log entry';
const RFC3164 = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8";

describe('ListenSyslog', () => {
  let runner: TestRunner | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await runner?.close();
    runner = undefined;
  });

  const start = async (properties: Record<string, string> = {}): Promise<{ r: TestRunner; port: number }> => {
    runner = await TestRunner.create(ListenSyslog, { properties: { port: '0', ...properties } });
    return { r: runner, port: await startListener(runner) };
  };

  const sendUdp = async (port: number, ...messages: (string | Buffer)[]): Promise<void> => {
    const client = createSocket('udp4');
    try {
      for (const m of messages) {
        await new Promise<void>((resolve, reject) => client.send(m, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      }
    } finally {
      client.close();
    }
  };

  const openTcp = async (port: number): Promise<Socket> => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return socket;
  };

  const all = (r: TestRunner) => [...r.transferred('success'), ...r.transferred('invalid')];

  it('parses RFC 5424 and RFC 3164 messages received over UDP into attributes', async () => {
    const { r, port } = await start();
    await sendUdp(port, RFC5424, `${RFC3164}\n`);
    await until(() => r.transferred('success').length === 2, 'two messages');
    const [a, b] = r.transferred('success');
    expect(a?.text()).toBe(RFC5424);
    expect(Object.fromEntries([...(a?.attributes ?? [])].filter(([k]) => k.startsWith('syslog.')))).toEqual({
      'syslog.valid': 'true',
      'syslog.priority': '165',
      'syslog.facility': '20',
      'syslog.severity': '5',
      'syslog.version': '1',
      'syslog.timestamp': '2003-10-11T22:14:15.003Z',
      'syslog.hostname': 'mymachine.example.com',
      'syslog.appname': 'evntslog',
      'syslog.procid': '42',
      'syslog.msgid': 'ID47',
      'syslog.structuredData.exampleSDID@32473.iut': '3',
      'syslog.structuredData.exampleSDID@32473.eventSource': 'Application',
      'syslog.body': 'An application event log entry',
      'syslog.sender': '127.0.0.1',
      'syslog.protocol': 'UDP',
      'syslog.port': String(port),
    });
    expect(b?.attribute('syslog.priority')).toBe('34');
    expect(b?.attribute('syslog.facility')).toBe('4');
    expect(b?.attribute('syslog.severity')).toBe('2');
    expect(b?.attribute('syslog.version')).toBeUndefined();
    expect(b?.attribute('syslog.timestamp')).toBe('Oct 11 22:14:15');
    expect(b?.attribute('syslog.hostname')).toBe('mymachine');
    expect(b?.attribute('syslog.appname')).toBe('su');
    expect(b?.attribute('syslog.body')).toBe("'su root' failed for lonvick on /dev/pts/8");
    const events = await r.provenanceEvents('RECEIVE');
    expect(events).toHaveLength(2);
    expect(events[0]?.transitUri).toMatch(/^syslog\+udp:\/\/127\.0\.0\.1:\d+$/);
  });

  it('routes messages that are not syslog to invalid with the reason, never dropping them', async () => {
    const { r, port } = await start();
    await sendUdp(port, 'just some text', Buffer.from([0x3c, 0x31, 0x3e, 0xff, 0xfe]), RFC3164);
    await until(() => all(r).length === 3, 'three FlowFiles');
    const invalid = r.transferred('invalid');
    expect(invalid.map((f) => f.text())[0]).toBe('just some text');
    expect(invalid.map((f) => f.attribute('syslog.valid'))).toEqual(['false', 'false']);
    expect(invalid.map((f) => f.attribute('syslog.invalid.reason'))).toEqual([
      'the message does not start with a priority like <34>',
      'the message is not valid UTF-8',
    ]);
    expect(r.transferred('success')).toHaveLength(1);
  });

  it('receives over TCP with newline framing and octet counting on one connection', async () => {
    const { r, port } = await start({ protocol: 'TCP' });
    const socket = await openTcp(port);
    const counted = Buffer.from(RFC5424);
    socket.write(`${RFC3164}\r\n`);
    socket.write(Buffer.concat([Buffer.from(`${counted.length} `), counted.subarray(0, 20)]));
    await sleep(50);
    socket.write(Buffer.concat([counted.subarray(20), Buffer.from('<13>Feb  5 17:32:18 host app: last line')]));
    socket.end();
    await until(() => r.transferred('success').length === 3, 'three messages');
    const out = r.transferred('success');
    expect(out.map((f) => f.text())).toEqual([RFC3164, RFC5424, '<13>Feb  5 17:32:18 host app: last line']);
    expect(out.map((f) => f.attribute('syslog.protocol'))).toEqual(['TCP', 'TCP', 'TCP']);
    expect(out[1]?.attribute('syslog.msgid')).toBe('ID47');
  });

  it('cuts a message longer than Max Message Size and sends it to invalid', async () => {
    const { r, port } = await start({ protocol: 'TCP', maxMessageSize: '100 B' });
    const socket = await openTcp(port);
    socket.write(`<13>Feb  5 17:32:18 host app: ${'x'.repeat(200)}\n${RFC3164}\n`);
    await until(() => all(r).length === 2, 'two FlowFiles');
    const [cut] = r.transferred('invalid');
    expect(cut?.size).toBe(100);
    expect(cut?.attribute('syslog.truncated')).toBe('unknown');
    expect(cut?.attribute('syslog.invalid.reason')).toContain('longer than Max Message Size');
    expect(r.transferred('success')[0]?.text()).toBe(RFC3164);
  });

  it('pauses TCP senders while the buffer is full and loses nothing', async () => {
    const { r, port } = await start({ protocol: 'TCP', maxBufferedMessages: '5' });
    const flow = structuredClone(r.engine.flow);
    for (const c of flow.rootGroup.connections ?? []) c.backPressureObjectThreshold = 1;
    await r.engine.applyFlow(flow);
    const socket = await openTcp(port);
    socket.write(`${RFC3164}\n`);
    await until(() => r.transferred('success').length === 1, 'the first message');
    const lines = Array.from({ length: 2000 }, (_, i) => `<13>Feb  5 17:32:18 host app: message ${i}\n`).join('');
    socket.write(lines);
    await sleep(300);
    expect(r.transferred('success').length).toBeLessThan(50);
    const relaxed = structuredClone(r.engine.flow);
    for (const c of relaxed.rootGroup.connections ?? []) c.backPressureObjectThreshold = 0;
    await r.engine.applyFlow(relaxed);
    await until(() => r.transferred('success').length === 2001, 'every message', 20_000);
    const bodies = r
      .transferred('success')
      .slice(1)
      .map((f) => f.attribute('syslog.body'));
    expect(bodies).toEqual(Array.from({ length: 2000 }, (_, i) => `message ${i}`));
  });

  it('batches unparsed messages per sender when not parsing', async () => {
    const { r, port } = await start({ protocol: 'TCP', parseMessages: 'false', batchSize: '10', delimiter: '\\n' });
    const flow = structuredClone(r.engine.flow);
    for (const c of flow.rootGroup.connections ?? []) c.backPressureObjectThreshold = 1;
    await r.engine.applyFlow(flow);
    const socket = await openTcp(port);
    socket.write('first\n');
    await until(() => r.transferred('success').length === 1, 'the first batch');
    socket.write('not syslog\nstill fine\nthird\n');
    await sleep(200);
    const relaxed = structuredClone(r.engine.flow);
    for (const c of relaxed.rootGroup.connections ?? []) c.backPressureObjectThreshold = 0;
    await r.engine.applyFlow(relaxed);
    await until(() => r.transferred('success').length === 2, 'the second batch');
    expect(r.transferred('success').map((f) => f.text())).toEqual(['first', 'not syslog\nstill fine\nthird']);
    expect(r.transferred('success')[1]?.attribute('syslog.valid')).toBeUndefined();
  });

  it('closes TCP connections beyond the maximum, with a warning', async () => {
    const { r, port } = await start({ protocol: 'TCP', maxConnections: '1' });
    await openTcp(port);
    const second = await openTcp(port);
    await new Promise<void>((resolve) => second.once('close', () => resolve()));
    await until(() => r.logsAt('WARN').some((l) => l.message.includes('Max Number of TCP Connections')), 'the warning');
  });

  it('validates its properties', async () => {
    runner = await TestRunner.create(ListenSyslog, { properties: { port: '99999', protocol: 'SCTP' } });
    const errors = runner.validationErrors().join('\n');
    expect(errors).toContain('99999 is above the maximum of 65535');
    expect(errors).toContain('"SCTP" is not one of the allowed values: UDP, TCP');
  });
});
