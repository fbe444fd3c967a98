import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { LogAttribute } from './index.ts';

describe('LogAttribute', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  /** Lines the processor itself logged (the engine may log too). */
  const processorLogs = (r: TestRunner) => r.logs.filter((l) => l.componentType === 'LogAttribute');

  it('logs every attribute at INFO by default and passes the FlowFile on unchanged', async () => {
    runner = await TestRunner.create(LogAttribute);
    const input = await runner.enqueue('payload', { color: 'red', filename: 'a.txt' });
    await runner.run();
    runner.assertAllTransferred('success', 1);
    const out = runner.transferred('success')[0];
    expect(out?.uuid).toBe(input.uuid);
    expect(out?.text()).toBe('payload');
    expect(out?.attributes).toEqual(input.attributes);
    const lines = processorLogs(runner);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe('INFO');
    const message = lines[0]?.message ?? '';
    expect(message).toContain(`FlowFile ${input.uuid} (7 bytes)`);
    expect(message).toContain('  color = red');
    expect(message).toContain('  filename = a.txt');
    expect(message).toContain(`  uuid = ${input.uuid}`);
    // Content is not logged unless asked for.
    expect(message).not.toContain('payload');
    // Logging changes nothing, so it records no provenance.
    expect(await runner.provenanceEvents()).toEqual([]);
  });

  it('logs only attributes whose whole name matches the filter, sorted, with the prefix', async () => {
    runner = await TestRunner.create(LogAttribute, { properties: { attributesToLog: 'http\\..*|size', logPrefix: '[audit] ' } });
    await runner.enqueue('', { 'http.method': 'GET', 'http.status': '200', 'x.http.other': 'no', sizes: 'no', size: '3' });
    await runner.run();
    const message = processorLogs(runner)[0]?.message ?? '';
    expect(message.startsWith('[audit] FlowFile ')).toBe(true);
    expect(message.split('\n').slice(1)).toEqual(['  http.method = GET', '  http.status = 200', '  size = 3']);
  });

  it.each(['DEBUG', 'INFO', 'WARN', 'ERROR'] as const)('logs at %s when asked to', async (level) => {
    runner = await TestRunner.create(LogAttribute, { properties: { logLevel: level } });
    await runner.enqueue('x');
    await runner.run();
    expect(processorLogs(runner).map((l) => l.level)).toEqual([level]);
  });

  it('logs nothing at TRACE when the engine logs from DEBUG up, but still passes FlowFiles on', async () => {
    runner = await TestRunner.create(LogAttribute, { properties: { logLevel: 'TRACE' } });
    await runner.enqueue('x');
    await runner.enqueue('y');
    await runner.run();
    expect(processorLogs(runner)).toEqual([]);
    runner.assertAllTransferred('success', 2);
  });

  it('turns WARN lines into bulletins, but not INFO lines', async () => {
    runner = await TestRunner.create(LogAttribute, { properties: { logLevel: 'WARN', attributesToLog: 'tag' } });
    await runner.enqueue('x', { tag: 'look-at-me' });
    await runner.run();
    const bulletins = runner.engine.bulletins.list({ componentId: 'under-test' });
    expect(bulletins).toHaveLength(1);
    expect(bulletins[0]?.level).toBe('WARN');
    expect(bulletins[0]?.componentType).toBe('LogAttribute');
    expect(bulletins[0]?.message).toContain('tag = look-at-me');

    await runner.setProperty('logLevel', 'INFO');
    await runner.enqueue('x', { tag: 'quiet' });
    await runner.run();
    expect(runner.engine.bulletins.list({ componentId: 'under-test' })).toHaveLength(1);
  });

  it('logs the payload when asked, cut at Max Payload Bytes', async () => {
    runner = await TestRunner.create(LogAttribute, {
      properties: { logPayload: 'true', maxPayloadBytes: '10', attributesToLog: 'none' },
    });
    await runner.enqueue('0123456789abcdefghij');
    await runner.enqueue('short');
    await runner.run();
    const [long, short] = processorLogs(runner).map((l) => l.message);
    expect(long).toContain('  payload: 0123456789 … (10 more bytes)');
    expect(long).not.toContain('abcdefghij');
    expect(short).toContain('  payload: short');
    expect(short).not.toContain('more bytes');
  });

  it('does not print half a character when the cut falls inside one', async () => {
    runner = await TestRunner.create(LogAttribute, {
      properties: { logPayload: 'true', maxPayloadBytes: '4', attributesToLog: 'none' },
    });
    // "€" is 3 bytes (positions 2-4): a cut after 4 bytes falls inside it.
    await runner.enqueue('ab€c');
    await runner.run();
    const message = processorLogs(runner)[0]?.message ?? '';
    expect(message).toContain('  payload: ab … (4 more bytes)');
    expect(message).not.toContain('\uFFFD');
  });

  it('reads no more than Max Payload Bytes of a large content', async () => {
    runner = await TestRunner.create(LogAttribute, {
      properties: { logPayload: 'true', maxPayloadBytes: '16', attributesToLog: 'none' },
    });
    await runner.enqueue(Buffer.alloc(2 * 1024 * 1024, 'z'));
    await runner.run();
    const message = processorLogs(runner)[0]?.message ?? '';
    expect(message).toContain(`  payload: ${'z'.repeat(16)} … (${2 * 1024 * 1024 - 16} more bytes)`);
    expect(message.length).toBeLessThan(200);
    expect(runner.engine.component('under-test')?.stats.readBytes.sum(Date.now())).toBe(16);
  });

  it('refuses an invalid filter, naming the property', async () => {
    runner = await TestRunner.create(LogAttribute, { properties: { attributesToLog: '(' } });
    expect(runner.validationErrors()).toEqual([
      expect.stringMatching(/^property "attributesToLog": not a valid regular expression/),
    ]);
    await expect(runner.run()).rejects.toThrow(/attributesToLog/);
  });

  it('refuses a negative Max Payload Bytes and an unknown level', async () => {
    runner = await TestRunner.create(LogAttribute, { properties: { maxPayloadBytes: '-1', logLevel: 'LOUD' } });
    expect(runner.validationErrors()).toEqual([
      'property "logLevel": "LOUD" is not one of the allowed values: TRACE, DEBUG, INFO, WARN, ERROR',
      'property "maxPayloadBytes": -1 is below the minimum of 0',
    ]);
  });
});
