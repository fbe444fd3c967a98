import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TestRunner, type TestRunnerOptions } from '@sluice/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetFile } from './index.ts';

describe('GetFile', () => {
  let runner: TestRunner | undefined;
  /** The allowed root of each test; the input directory lives inside it. */
  let root: string;
  let input: string;
  let elsewhere: string;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-getfile-')));
    input = join(root, 'in');
    mkdirSync(input);
    elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-getfile-outside-')));
  });

  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  const create = async (properties: Record<string, string> = {}, options: TestRunnerOptions = {}): Promise<TestRunner> => {
    runner = await TestRunner.create(GetFile, {
      fileRoots: [root],
      ...options,
      properties: { inputDirectory: input, ...properties },
    });
    return runner;
  };

  /** Writes a file (creating parents), optionally with a modification time. */
  const put = (relative: string, content: string | Buffer, mtime?: Date): string => {
    const path = join(input, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (mtime !== undefined) utimesSync(path, mtime, mtime);
    return path;
  };

  const names = (r: TestRunner): string[] =>
    r
      .transferred('success')
      .map((f) => `${f.attribute('path')}${f.attribute('filename')}`)
      .sort();

  it('picks up a file with its content, attributes and a RECEIVE event, then deletes it', async () => {
    const modified = new Date('2024-05-06T07:08:09.000Z');
    const path = put('report.txt', 'hello file', modified);
    await create();
    await runner?.run();
    const r = runner as TestRunner;
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(out?.text()).toBe('hello file');
    expect(out?.attribute('filename')).toBe('report.txt');
    expect(out?.attribute('path')).toBe('./');
    expect(out?.attribute('absolute.path')).toBe(`${input}${sep}`);
    expect(out?.attribute('file.size')).toBe('10');
    expect(out?.attribute('file.lastModifiedTime')).toBe('2024-05-06T07:08:09.000Z');
    expect(existsSync(path)).toBe(false);
    const events = await r.provenanceEvents();
    expect(events.map((e) => e.eventType)).toEqual(['RECEIVE']);
    expect(events[0]?.flowFileUuid).toBe(out?.uuid);
    expect(events[0]?.transitUri).toBe(pathToFileURL(path).href);
    expect(events[0]?.fileSize).toBe(10);
  });

  it('writes a proper file:// URI for names that need escaping', async () => {
    const path = put('a b#c%.txt', 'x');
    await create();
    await runner?.run();
    const [event] = (await runner?.provenanceEvents('RECEIVE')) ?? [];
    expect(event?.transitUri).toBe(pathToFileURL(path).href);
    expect(event?.transitUri).toContain('a%20b%23c%25.txt');
  });

  it('keeps the source file when asked (and so picks it up again)', async () => {
    const path = put('keep.txt', 'k');
    await create({ keepSourceFile: 'true' });
    await runner?.run();
    expect(existsSync(path)).toBe(true);
    await runner?.run();
    expect(runner?.transferred('success').map((f) => f.text())).toEqual(['k', 'k']);
  });

  it.each([false, true])('picks up empty files and large files (streamed) intact (durable repositories: %s)', async (durable) => {
    const large = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < large.length; i++) large[i] = (i * 31) % 251;
    put('empty.bin', '', new Date(Date.now() - 2000));
    put('large.bin', large);
    await create({}, { durable });
    await runner?.run();
    const [empty, big] = runner?.transferred('success') ?? [];
    expect(empty?.size).toBe(0);
    expect(empty?.attribute('file.size')).toBe('0');
    expect(big?.size).toBe(large.length);
    expect(big?.attribute('file.size')).toBe(String(large.length));
    expect(big?.content().equals(large)).toBe(true);
  });

  describe('recursion and filters', () => {
    beforeEach(() => {
      put('top.txt', 't');
      put('sub/one.txt', '1');
      put('sub/deeper/two.txt', '2');
      put('other/three.txt', '3');
    });

    it('searches subdirectories by default, with path relative to the input directory', async () => {
      await create();
      await runner?.run();
      const r = runner as TestRunner;
      expect(names(r)).toEqual(['./top.txt', 'other/three.txt', 'sub/deeper/two.txt', 'sub/one.txt']);
      const two = r.transferred('success').find((f) => f.attribute('filename') === 'two.txt');
      expect(two?.attribute('absolute.path')).toBe(`${join(input, 'sub', 'deeper')}${sep}`);
    });

    it('stays in the input directory without recursion', async () => {
      await create({ recurse: 'false' });
      await runner?.run();
      expect(names(runner as TestRunner)).toEqual(['./top.txt']);
      expect(existsSync(join(input, 'sub', 'one.txt'))).toBe(true);
    });

    it('applies the path filter to the whole relative directory of each file', async () => {
      await create({ pathFilter: 'sub/deeper' });
      await runner?.run();
      // NiFi semantics: "sub" itself does not match, but is searched; files in the input directory always pass.
      expect(names(runner as TestRunner)).toEqual(['./top.txt', 'sub/deeper/two.txt']);
    });

    it('matches the path filter as a whole, not as a substring', async () => {
      await create({ pathFilter: 'sub' });
      await runner?.run();
      expect(names(runner as TestRunner)).toEqual(['./top.txt', 'sub/one.txt']);
    });
  });

  it('picks up only files whose whole name matches the file filter', async () => {
    put('a.csv', '1');
    put('a.csv.bak', '2');
    put('b.txt', '3');
    put('xa.csv', '4');
    await create({ fileFilter: 'a\\.csv|b.*' });
    await runner?.run();
    expect(names(runner as TestRunner)).toEqual(['./a.csv', './b.txt']);
    expect(existsSync(join(input, 'a.csv.bak'))).toBe(true);
  });

  it('ignores hidden files and directories unless told otherwise', async () => {
    put('.hidden', 'h');
    put('.cache/inside.txt', 'c');
    put('visible.txt', 'v');
    await create();
    await runner?.run();
    expect(names(runner as TestRunner)).toEqual(['./visible.txt']);
    await runner?.close();

    // The default file filter also skips dot files, so both must be relaxed.
    await create({ ignoreHiddenFiles: 'false', fileFilter: '.*' });
    await runner?.run();
    expect(names(runner as TestRunner)).toEqual(['./.hidden', '.cache/inside.txt']);
  });

  it('skips files younger than the minimum age or older than the maximum age', async () => {
    const hour = 3_600_000;
    put('fresh.txt', 'f');
    put('settled.txt', 's', new Date(Date.now() - 2 * hour));
    put('ancient.txt', 'a', new Date(Date.now() - 48 * hour));
    await create({ minimumFileAge: '1 hour', maximumFileAge: '1 day' });
    await runner?.run();
    expect(names(runner as TestRunner)).toEqual(['./settled.txt']);
    expect(existsSync(join(input, 'fresh.txt'))).toBe(true);
    expect(existsSync(join(input, 'ancient.txt'))).toBe(true);
  });

  it('picks up a file stamped slightly in the future when there is no minimum age', async () => {
    // File times have sub-millisecond precision (and clocks skew): "just written" may be a little ahead of Date.now().
    put('future.txt', 'f', new Date(Date.now() + 5000));
    await create();
    await runner?.run();
    expect(names(runner as TestRunner)).toEqual(['./future.txt']);
  });

  it('skips files smaller than the minimum or larger than the maximum size', async () => {
    put('tiny.txt', 'x');
    put('right.txt', 'x'.repeat(2048));
    put('huge.txt', 'x'.repeat(10_000));
    await create({ minimumFileSize: '1 KB', maximumFileSize: '4 KB' });
    await runner?.run();
    expect(names(runner as TestRunner)).toEqual(['./right.txt']);
  });

  it('picks up at most Batch Size files per run, oldest first', async () => {
    const now = Date.now();
    for (let i = 0; i < 5; i++) put(`f${i}.txt`, String(i), new Date(now - (10 - i) * 1000));
    await create({ batchSize: '2' });
    const r = runner as TestRunner;
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['0', '1']);
    expect(readdirSync(input).sort()).toEqual(['f2.txt', 'f3.txt', 'f4.txt']);
    await r.run();
    await r.run();
    expect(r.transferred('success').map((f) => f.text())).toEqual(['0', '1', '2', '3', '4']);
    expect(readdirSync(input)).toEqual([]);
    await r.run();
    expect(r.transferred('success')).toHaveLength(5);
  });

  it('works through one listing in batches when run repeatedly', async () => {
    for (let i = 0; i < 7; i++) put(`f${i}.txt`, String(i));
    await create({ batchSize: '3' });
    await runner?.run(3);
    expect(runner?.transferred('success')).toHaveLength(7);
    expect(new Set(runner?.transferred('success').map((f) => f.attribute('filename'))).size).toBe(7);
  });

  it('refuses an input directory outside the allowed roots when it starts', async () => {
    put('x.txt', 'x');
    writeFileSync(join(elsewhere, 'secret.txt'), 'secret');
    await create({ inputDirectory: elsewhere });
    await expect(runner?.run()).rejects.toThrow(/outside the directories file processors may use/);
    await expect(runner?.run()).rejects.toThrow(root);
    expect(runner?.transferred('success')).toEqual([]);
    expect(existsSync(join(elsewhere, 'secret.txt'))).toBe(true);
  });

  it('refuses a relative escape from the allowed root', async () => {
    await create({ inputDirectory: join(input, '..', '..') });
    await expect(runner?.run()).rejects.toThrow(/outside the directories file processors may use/);
  });

  it('does not read a symlink leading outside the allowed roots, and says so once', async () => {
    const secret = join(elsewhere, 'secret.txt');
    writeFileSync(secret, 'top secret');
    symlinkSync(secret, join(input, 'innocent.txt'));
    put('normal.txt', 'n');
    await create();
    await runner?.run(3);
    const r = runner as TestRunner;
    expect(names(r)).toEqual(['./normal.txt']);
    expect(r.transferred('success').some((f) => f.text().includes('secret'))).toBe(false);
    expect(existsSync(secret)).toBe(true);
    expect(existsSync(join(input, 'innocent.txt'))).toBe(true);
    const warnings = r.logsAt('WARN').filter((l) => l.message.includes('innocent.txt'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/outside the allowed directories/);
  });

  it('follows a symlink to a file inside the allowed roots, deleting the link but not the target', async () => {
    const target = join(root, 'shared', 'data.txt');
    mkdirSync(dirname(target));
    writeFileSync(target, 'shared data');
    symlinkSync(target, join(input, 'link.txt'));
    await create();
    await runner?.run();
    const out = runner?.transferred('success') ?? [];
    expect(out.map((f) => [f.attribute('filename'), f.text()])).toEqual([['link.txt', 'shared data']]);
    expect(existsSync(join(input, 'link.txt'))).toBe(false);
    expect(existsSync(target)).toBe(true);
  });

  it('yields with a warning when the input directory does not exist, and picks up once it does', async () => {
    rmSync(input, { recursive: true });
    await create();
    const r = runner as TestRunner;
    await r.run();
    expect(r.transferred('success')).toEqual([]);
    expect(r.logsAt('WARN').map((l) => l.message)).toEqual([expect.stringMatching(/^cannot list .*in; will try again$/)]);
    expect(r.engine.component('under-test')?.yieldUntil ?? 0).toBeGreaterThan(Date.now());
    put('late.txt', 'l');
    await r.run();
    expect(names(r)).toEqual(['./late.txt']);
  });

  it('waits for the polling interval between listings', async () => {
    await create({ pollingInterval: '1 hour' });
    const r = runner as TestRunner;
    put('first.txt', '1');
    await r.run(2);
    put('second.txt', '2');
    // Same scheduled run: the second listing is an hour away.
    expect(names(r)).toEqual(['./first.txt']);
    await r.run(1);
    expect(names(r)).toEqual(['./first.txt', './second.txt']);
  });

  it('is invalid with a batch size of 0 or a broken filter, naming the properties', async () => {
    await create({ batchSize: '0', fileFilter: '[' });
    expect(runner?.validationErrors()).toEqual([
      expect.stringMatching(/^property "fileFilter": not a valid regular expression/),
      'property "batchSize": 0 is below the minimum of 1',
    ]);
    await expect(runner?.run()).rejects.toThrow(/batchSize/);
  });

  it('is invalid without an input directory', async () => {
    runner = await TestRunner.create(GetFile, { fileRoots: [root] });
    expect(runner.validationErrors()).toEqual(['property "inputDirectory": is required']);
  });
});
