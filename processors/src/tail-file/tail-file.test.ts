import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TestRunner } from '@sluice/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TailFile } from './index.ts';

describe('TailFile', () => {
  let runner: TestRunner | undefined;
  let root: string;
  let log: string;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-tailfile-')));
    log = join(root, 'app.log');
  });

  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  const create = async (properties: Record<string, string> = {}): Promise<TestRunner> => {
    runner = await TestRunner.create(TailFile, { fileRoots: [root], properties: { fileToTail: log, ...properties } });
    return runner;
  };

  const texts = (r: TestRunner): string[] => r.transferred('success').map((f) => f.text());

  it('emits complete lines as they are appended, holding back a partial last line', async () => {
    writeFileSync(log, 'one\ntwo\n');
    const r = await create();
    await r.run();
    appendFileSync(log, 'three\npart');
    await r.run();
    await r.run();
    appendFileSync(log, 'ial\n');
    await r.run();
    expect(texts(r)).toEqual(['one\ntwo\n', 'three\n', 'partial\n']);
    const second = r.transferred('success')[1];
    expect(second?.attribute('filename')).toBe('app.8-14.log');
    expect(second?.attribute('tailfile.original.path')).toBe(log);
    expect(second?.attribute('tailfile.position.start')).toBe('8');
    expect(second?.attribute('tailfile.position.end')).toBe('14');
    const events = await r.provenanceEvents('RECEIVE');
    expect(events.map((e) => e.transitUri)).toEqual(Array(3).fill(pathToFileURL(log).href));
  });

  it('emits every new byte when asked to', async () => {
    writeFileSync(log, 'abc');
    const r = await create({ emit: 'bytes' });
    await r.run();
    appendFileSync(log, 'de\nf');
    await r.run();
    expect(texts(r)).toEqual(['abc', 'de\nf']);
  });

  it('continues where it stopped after a stop and start, from its committed state', async () => {
    writeFileSync(log, 'a\n');
    const r = await create();
    await r.run();
    appendFileSync(log, 'b\n');
    await r.run();
    const state = r.engine.component('under-test')?.context.state;
    expect(state?.get('tail.position')).toBe('4');
    expect(state?.get('tail.identity')).toMatch(/^\d+:\d+$/);
    appendFileSync(log, 'c\n');
    await r.run();
    expect(texts(r)).toEqual(['a\n', 'b\n', 'c\n']);
  });

  it('starts at the end of the file with Current Time', async () => {
    writeFileSync(log, 'old\n');
    const r = await create({ initialStartPosition: 'current-time' });
    await r.run();
    appendFileSync(log, 'new\n');
    await r.run();
    expect(texts(r)).toEqual(['new\n']);
  });

  it('waits for a file that does not exist yet, then reads it from the start', async () => {
    const r = await create({ initialStartPosition: 'current-time' });
    await r.run();
    writeFileSync(log, 'first\n');
    await r.run();
    expect(texts(r)).toEqual(['first\n']);
  });

  it('finishes a file renamed away by rotation before reading the new one', async () => {
    writeFileSync(log, 'a\n');
    const r = await create({ rollingFilenamePattern: 'app.log.*' });
    await r.run();
    appendFileSync(log, 'b\nlast words');
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'c\n');
    await r.run();
    await r.run();
    // The rotated file will not grow: its last partial line is emitted too.
    expect(texts(r)).toEqual(['a\n', 'b\nlast words', 'c\n']);
    expect(r.transferred('success')[1]?.attribute('tailfile.original.path')).toBe(`${log}.1`);
  });

  it('finishes a file rotated by copy and truncate, found by the checksum of its beginning', async () => {
    writeFileSync(log, 'a\n');
    const r = await create({ rollingFilenamePattern: 'app.log.*' });
    await r.run();
    appendFileSync(log, 'b\n');
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, 'c\n');
    await r.run();
    expect(texts(r)).toEqual(['a\n', 'b\n', 'c\n']);
  });

  it('without a rolling pattern, reads a rotated or truncated file from its start and warns', async () => {
    writeFileSync(log, 'a\n');
    const r = await create();
    await r.run();
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'b\n');
    await r.run();
    truncateSync(log, 0);
    appendFileSync(log, 'c\n');
    await r.run();
    expect(texts(r)).toEqual(['a\n', 'b\n', 'c\n']);
    const warnings = r.logsAt('WARN').map((l) => l.message);
    expect(warnings).toEqual([
      expect.stringMatching(/was rotated \(replaced\).*set Rolling Filename Pattern/),
      expect.stringMatching(/was rotated \(truncated or rewritten\)/),
    ]);
  });

  it('notices a new file that reuses the old inode, by the checksum of its beginning', async () => {
    writeFileSync(log, 'aaaa\n');
    const r = await create();
    await r.run();
    // Same inode, rewritten in place with other content of at least the same length.
    writeFileSync(log, 'bbbbbbbb\n');
    await r.run();
    expect(texts(r)).toEqual(['aaaa\n', 'bbbbbbbb\n']);
  });

  it('emits a backlog as several FlowFiles of at most the maximum size, and cuts an overlong line', async () => {
    writeFileSync(log, `${'x'.repeat(6)}\n${'y'.repeat(6)}\n${'z'.repeat(30)}\n`);
    const r = await create({ maxBytesPerFlowFile: '10 B' });
    await r.run();
    expect(texts(r)).toEqual(['xxxxxx\n', 'yyyyyy\n', 'z'.repeat(10), 'z'.repeat(10), 'z'.repeat(10), '\n']);
    expect(r.logsAt('WARN').filter((l) => /longer than 10 B was cut/.test(l.message))).toHaveLength(3);
  });

  it('refuses a file outside the allowed directories', async () => {
    const outside = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-tailfile-outside-')));
    try {
      const r = await create({ fileToTail: join(outside, 'x.log') });
      await expect(r.run()).rejects.toThrow(/outside the directories file processors may use/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('is invalid without a file to tail', async () => {
    runner = await TestRunner.create(TailFile, { fileRoots: [root] });
    expect(runner.validationErrors()).toEqual(['property "fileToTail": is required']);
  });
});
