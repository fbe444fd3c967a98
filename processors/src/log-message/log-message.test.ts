import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { LogMessage } from './index.ts';

describe('LogMessage', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const processorLogs = (r: TestRunner) => r.logs.filter((l) => l.componentType === 'LogMessage');

  it('logs the prefix and the message evaluated against each FlowFile, and passes it on unchanged', async () => {
    runner = await TestRunner.create(LogMessage, {
      properties: { logPrefix: '[${source}] ', logMessage: 'got ${filename} of ${fileSize} bytes' },
    });
    const a = await runner.enqueue('hello', { filename: 'a.txt', source: 'edge' });
    await runner.enqueue('', { filename: 'b.txt', source: 'core' });
    await runner.run();
    runner.assertAllTransferred('success', 2);
    const out = runner.transferred('success')[0];
    expect(out?.uuid).toBe(a.uuid);
    expect(out?.text()).toBe('hello');
    expect(out?.attributes).toEqual(a.attributes);
    expect(processorLogs(runner).map((l) => [l.level, l.message])).toEqual([
      ['INFO', '[edge] got a.txt of 5 bytes'],
      ['INFO', '[core] got b.txt of 0 bytes'],
    ]);
  });

  it('logs at the chosen level; WARN and above become bulletins', async () => {
    runner = await TestRunner.create(LogMessage, { properties: { logLevel: 'WARN', logMessage: 'careful: ${filename}' } });
    await runner.enqueue('x', { filename: 'f' });
    await runner.run();
    expect(processorLogs(runner).map((l) => l.level)).toEqual(['WARN']);
    expect(runner.engine.bulletins.list({ componentId: 'under-test' }).map((b) => b.message)).toEqual(['careful: f']);
  });

  it('reports a message that cannot be evaluated, naming the FlowFile, and still passes the FlowFile on', async () => {
    runner = await TestRunner.create(LogMessage, { properties: { logMessage: 'n+1 = ${n:toNumber():plus(1)}' } });
    const bad = await runner.enqueue('x', { n: 'abc' });
    await runner.enqueue('y', { n: '41' });
    await runner.run();
    runner.assertAllTransferred('success', 2);
    const lines = processorLogs(runner);
    expect(lines.map((l) => l.level)).toEqual(['ERROR', 'INFO']);
    expect(lines[0]?.message).toContain(bad.uuid);
    expect(lines[0]?.message).toContain('logMessage');
    expect(lines[1]?.message).toBe('n+1 = 42');
  });

  it('is invalid without a message, or with one that does not parse', async () => {
    runner = await TestRunner.create(LogMessage);
    expect(runner.validationErrors()).toEqual(['property "logMessage": is required']);
    await runner.setProperty('logMessage', '${filename:toUpper(}');
    expect(runner.validationErrors()).toEqual([expect.stringMatching(/^property "logMessage": invalid expression/)]);
  });
});
