import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { GenerateFlowFile } from './index.ts';

describe('GenerateFlowFile', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  it('creates a batch of FlowFiles of the configured size with CREATE events', async () => {
    runner = await TestRunner.create(GenerateFlowFile, { properties: { fileSize: '1 KB', batchSize: '5' } });
    await runner.run(2);
    const out = runner.transferred('success');
    expect(out).toHaveLength(10);
    for (const f of out) {
      expect(f.size).toBe(1024);
      expect(f.content()).toHaveLength(1024);
      expect(f.attribute('uuid')).toBe(f.uuid);
      expect(f.attribute('filename')).toBe(f.uuid);
    }
    expect(new Set(out.map((f) => f.uuid)).size).toBe(10);
    const events = await runner.provenanceEvents('CREATE');
    expect(events.map((e) => e.flowFileUuid).sort()).toEqual(out.map((f) => f.uuid).sort());
  });

  it('evaluates custom text and dynamic attributes per FlowFile', async () => {
    runner = await TestRunner.create(GenerateFlowFile, {
      properties: { customText: 'id=${uuid}', batchSize: '3', source: '${literal("gen"):toUpper()}', mimeType: 'text/plain' },
    });
    await runner.run();
    const out = runner.transferred('success');
    expect(out).toHaveLength(3);
    for (const f of out) {
      expect(f.text()).toBe(`id=${f.uuid}`);
      expect(f.attribute('source')).toBe('GEN');
      expect(f.attribute('mime.type')).toBe('text/plain');
    }
  });

  it('refuses an invalid batch size, naming the property', async () => {
    runner = await TestRunner.create(GenerateFlowFile, { properties: { batchSize: 'lots' } });
    expect(runner.validationErrors()).toEqual(['property "batchSize": "lots" is not a whole number']);
    await expect(runner.run()).rejects.toThrow(/batchSize.*not a whole number/);
  });
});
