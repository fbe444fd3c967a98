import { createSocket, type Socket } from 'node:dgram';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, startListener, until } from '../network-support/network.test-helper.ts';
import { ListenUDP } from './index.ts';

describe('ListenUDP', () => {
  let runner: TestRunner | undefined;
  let client: Socket | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await runner?.close();
    runner = undefined;
  });

  const start = async (properties: Record<string, string> = {}): Promise<{ r: TestRunner; port: number }> => {
    runner = await TestRunner.create(ListenUDP, { properties: { port: '0', ...properties } });
    const port = await startListener(runner);
    client = createSocket('udp4');
    await new Promise<void>((resolve) => client?.bind(0, '127.0.0.1', resolve));
    return { r: runner, port };
  };

  const sendTo = (port: number, ...messages: string[]): Promise<void> =>
    messages.reduce(
      (previous, message) =>
        previous.then(
          () =>
            new Promise<void>((resolve, reject) => client?.send(message, port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
        ),
      Promise.resolve(),
    );

  it('turns each datagram into a FlowFile with the sender and port, and a RECEIVE event', async () => {
    const { r, port } = await start();
    await sendTo(port, 'first', 'second');
    await until(() => r.transferred('success').length === 2, 'two FlowFiles');
    const out = r.transferred('success');
    expect(out.map((f) => f.text())).toEqual(['first', 'second']);
    const clientPort = String(client?.address().port);
    expect(out[0]?.attribute('udp.sender')).toBe('127.0.0.1');
    expect(out[0]?.attribute('udp.sender.port')).toBe(clientPort);
    expect(out[0]?.attribute('udp.port')).toBe(String(port));
    const events = await r.provenanceEvents('RECEIVE');
    expect(events.map((e) => e.transitUri)).toEqual([`udp://127.0.0.1:${clientPort}`, `udp://127.0.0.1:${clientPort}`]);
  });

  /** Sets the back-pressure threshold of the success queue (0 = none). */
  const threshold = async (r: TestRunner, n: number): Promise<void> => {
    const flow = structuredClone(r.engine.flow);
    for (const c of flow.rootGroup.connections ?? []) c.backPressureObjectThreshold = n;
    await r.engine.applyFlow(flow);
  };

  it('batches datagrams from one sender with the delimiter', async () => {
    const { r, port } = await start({ batchSize: '3', delimiter: '|' });
    // Held by back pressure while they arrive, so one trigger sees all five.
    await threshold(r, 1);
    await sendTo(port, 'hold');
    await until(() => r.transferred('success').length === 1, 'the first FlowFile');
    await sendTo(port, 'a', 'b', 'c', 'd', 'e');
    await sleep(200);
    await threshold(r, 0);
    await until(() => r.transferred('success').length === 3, 'the batches');
    expect(r.transferred('success').map((f) => f.text())).toEqual(['hold', 'a|b|c', 'd|e']);
  });

  it('drops datagrams beyond the buffer while held, counts and warns, and keeps going', async () => {
    const { r, port } = await start({ maxBufferedMessages: '5' });
    await threshold(r, 1);
    await sendTo(port, 'fills the queue');
    await until(() => r.transferred('success').length === 1, 'the first FlowFile');
    await sendTo(port, ...Array.from({ length: 20 }, (_, i) => `m${i}`));
    await until(() => r.logsAt('WARN').some((l) => l.message.includes('dropped')), 'the drop warning');
    const warning = r.logsAt('WARN').find((l) => l.message.includes('dropped'))?.message ?? '';
    expect(warning).toContain('the buffer of 5 messages is full');
    expect(warning).toContain('UDP cannot slow senders down');
    await threshold(r, 0);
    await until(() => r.transferred('success').length === 6, 'the five buffered datagrams');
    await sleep(200);
    // The first five of the burst were kept; the other fifteen were dropped and counted.
    expect(r.transferred('success').map((f) => f.text())).toEqual(['fills the queue', 'm0', 'm1', 'm2', 'm3', 'm4']);
    await until(() => r.engine.component('under-test')?.stats.counters.get('datagrams dropped') === 15, 'the drop counter');
    // And it keeps receiving.
    await sendTo(port, 'later');
    await until(() => r.transferred('success').length === 7, 'a later datagram');
  });

  it('only keeps datagrams from the Sending Host when set', async () => {
    const { r, port } = await start({ sendingHost: '127.0.0.2' });
    await sendTo(port, 'from 127.0.0.1');
    await sleep(300);
    expect(r.transferred('success')).toHaveLength(0);
  });

  it('reports a port already in use clearly', async () => {
    const blocker = createSocket('udp4');
    await new Promise<void>((resolve) => blocker.bind(0, '127.0.0.1', resolve));
    try {
      runner = await TestRunner.create(ListenUDP, { properties: { port: String(blocker.address().port) } });
      await runner.engine.startComponent('under-test');
      await until(() => (runner?.logsAt('ERROR').length ?? 0) > 0, 'the start failure');
      expect(String(runner.logsAt('ERROR')[0]?.error)).toContain('the address is already in use');
    } finally {
      blocker.close();
    }
  });

  it('validates its properties', async () => {
    runner = await TestRunner.create(ListenUDP, { properties: { port: '-1', batchSize: '0' } });
    const errors = runner.validationErrors().join('\n');
    expect(errors).toContain('-1 is below the minimum of 0');
    expect(errors).toContain('0 is below the minimum of 1');
  });
});
