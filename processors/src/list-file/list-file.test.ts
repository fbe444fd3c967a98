import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { TestRunner } from '@sluice/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListFile } from './index.ts';

describe('ListFile', () => {
  let runner: TestRunner | undefined;
  let root: string;
  let input: string;
  let elsewhere: string;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-listfile-')));
    input = join(root, 'in');
    mkdirSync(input);
    elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-listfile-outside-')));
  });

  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  const create = async (properties: Record<string, string> = {}): Promise<TestRunner> => {
    runner = await TestRunner.create(ListFile, { fileRoots: [root], properties: { inputDirectory: input, ...properties } });
    return runner;
  };

  /** A time safely in the past (files modified in the last 100 ms wait for the next listing). */
  const past = (secondsAgo: number): Date => new Date(Math.floor(Date.now() / 1000 - secondsAgo) * 1000);

  const put = (relativePath: string, content: string, mtime: Date = past(60)): string => {
    const path = join(input, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    utimesSync(path, mtime, mtime);
    return path;
  };

  /** Names listed so far, in listing order. */
  const listed = (r: TestRunner): string[] =>
    r.transferred('success').map((f) => `${f.attribute('path')}${f.attribute('filename')}`);

  it('creates a FlowFile without content per file, with its details as attributes', async () => {
    const modified = new Date('2024-05-06T07:08:09.000Z');
    put('report.txt', 'hello file', modified);
    const r = await create();
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(out?.size).toBe(0);
    expect(out?.attribute('filename')).toBe('report.txt');
    expect(out?.attribute('path')).toBe('./');
    expect(out?.attribute('absolute.path')).toBe(`${input}${sep}`);
    expect(out?.attribute('file.size')).toBe('10');
    expect(out?.attribute('file.lastModifiedTime')).toBe('2024-05-06T07:08:09.000Z');
    expect(out?.attribute('file.permissions')).toMatch(/^[rwx-]{9}$/);
    expect(out?.attribute('file.owner')).toBe(String(process.getuid?.()));
    expect((await r.provenanceEvents()).map((e) => e.eventType)).toEqual(['CREATE']);
  });

  it('lists each file once: later listings only list new and changed files, oldest first', async () => {
    put('a.txt', 'a', past(300));
    put('b.txt', 'b', past(200));
    const r = await create();
    await r.run();
    expect(listed(r)).toEqual(['./a.txt', './b.txt']);
    await r.run();
    expect(listed(r)).toHaveLength(2);

    put('c.txt', 'c', past(100));
    // Rewritten: a newer modification time makes it a changed file.
    put('a.txt', 'a again', past(50));
    await r.run();
    expect(listed(r)).toEqual(['./a.txt', './b.txt', './c.txt', './a.txt']);
  });

  it('does not miss a file written later with the same modification time as the last one listed', async () => {
    const second = past(30);
    put('one.txt', '1', second);
    put('two.txt', '2', second);
    const r = await create();
    await r.run();
    expect(listed(r)).toEqual(['./one.txt', './two.txt']);
    // A coarse file-system clock: the next file shares the second of the latest listed ones.
    put('three.txt', '3', second);
    await r.run();
    expect(listed(r)).toEqual(['./one.txt', './two.txt', './three.txt']);
    await r.run();
    expect(listed(r)).toHaveLength(3);
  });

  it('keeps its listing state in the component state, committed with the FlowFiles', async () => {
    const second = past(30);
    put('x.txt', 'x', second);
    put('y.txt', 'y', second);
    const r = await create();
    await r.run();
    const state = r.engine.component('under-test')?.context.state;
    expect(state?.get('listing.directory')).toBe(input);
    expect(state?.get('listing.timestamp')).toBe(String(BigInt(second.getTime()) * 1_000_000n));
    expect(state?.scan({ prefix: 'listing.id.' }).map(([k]) => k)).toEqual(['listing.id.x.txt', 'listing.id.y.txt']);
  });

  it('lists a directory of more files than one commit holds, in steps, each file once', { timeout: 60_000 }, async () => {
    const second = past(30);
    mkdirSync(join(input, 'many'));
    for (let i = 0; i < 10_010; i++) writeFileSync(join(input, 'many', `f${String(i).padStart(5, '0')}`), '');
    for (let i = 0; i < 10_010; i++) {
      const path = join(input, 'many', `f${String(i).padStart(5, '0')}`);
      utimesSync(path, second, second);
    }
    const r = await create();
    await r.run();
    const names = listed(r);
    expect(names).toHaveLength(10_010);
    expect(new Set(names).size).toBe(10_010);
    await r.run();
    expect(listed(r)).toHaveLength(10_010);
    put('many/late', '', second);
    await r.run();
    expect(listed(r).slice(10_010)).toEqual(['many/late']);
  });

  it('lists every file every time with No Tracking', async () => {
    put('a.txt', 'a');
    const r = await create({ listingStrategy: 'none' });
    await r.run();
    await r.run();
    expect(listed(r)).toEqual(['./a.txt', './a.txt']);
  });

  it('starts afresh when the input directory changes', async () => {
    put('a.txt', 'a');
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'b.txt'), 'b');
    utimesSync(join(other, 'b.txt'), past(3600), past(3600));
    const r = await create();
    await r.run();
    await r.setProperty('inputDirectory', other);
    await r.run();
    await r.setProperty('inputDirectory', input);
    await r.run();
    expect(r.transferred('success').map((f) => f.attribute('filename'))).toEqual(['a.txt', 'b.txt', 'a.txt']);
  });

  describe('recursion and filters', () => {
    beforeEach(() => {
      put('top.txt', 't');
      put('sub/one.txt', '1');
      put('sub/deeper/two.txt', '2');
      put('.hidden/secret.txt', 's');
      put('.dotfile', 'd');
      put('skip.tmp', 'x');
    });

    it('searches subdirectories by default, skipping hidden ones, with path relative to the input directory', async () => {
      const r = await create();
      await r.run();
      expect(listed(r).sort()).toEqual(['./skip.tmp', './top.txt', 'sub/deeper/two.txt', 'sub/one.txt']);
    });

    it('applies recursion, file filter and path filter', async () => {
      let r = await create({ recurse: 'false', fileFilter: '.*\\.txt' });
      await r.run();
      expect(listed(r)).toEqual(['./top.txt']);
      await r.close();
      r = await create({ pathFilter: 'sub/deeper' });
      await r.run();
      expect(listed(r).sort()).toEqual(['./skip.tmp', './top.txt', 'sub/deeper/two.txt']);
    });

    it('lists hidden files when told to', async () => {
      const r = await create({ ignoreHiddenFiles: 'false', fileFilter: '.*' });
      await r.run();
      expect(listed(r).sort()).toEqual([
        './.dotfile',
        './skip.tmp',
        './top.txt',
        '.hidden/secret.txt',
        'sub/deeper/two.txt',
        'sub/one.txt',
      ]);
    });
  });

  it('skips files outside the age and size bounds', async () => {
    put('fresh.txt', 'f', new Date(Date.now() - 1000));
    put('settled.txt', 'x'.repeat(2048), past(7200));
    put('ancient.txt', 'x'.repeat(2048), past(48 * 3600));
    put('tiny.txt', 'x', past(7200));
    const r = await create({
      minimumFileAge: '1 hour',
      maximumFileAge: '1 day',
      minimumFileSize: '1 KB',
      maximumFileSize: '4 KB',
    });
    await r.run();
    expect(listed(r)).toEqual(['./settled.txt']);
  });

  it('holds back a file stamped in the future until its time has come', async () => {
    const future = put('future.txt', 'f', new Date(Date.now() + 3_600_000));
    put('now.txt', 'n', past(10));
    const r = await create();
    await r.run();
    expect(listed(r)).toEqual(['./now.txt']);
    // Once its time is not in the future any more, it is listed.
    utimesSync(future, past(5), past(5));
    await r.run();
    expect(listed(r)).toEqual(['./now.txt', './future.txt']);
  });

  it('does not list a symlink leading outside the allowed roots, and says so once', async () => {
    writeFileSync(join(elsewhere, 'secret.txt'), 'secret');
    symlinkSync(join(elsewhere, 'secret.txt'), join(input, 'innocent.txt'));
    const target = join(root, 'shared.txt');
    writeFileSync(target, 'shared');
    utimesSync(target, past(10), past(10));
    symlinkSync(target, join(input, 'link.txt'));
    const r = await create();
    await r.run(2);
    expect(listed(r)).toEqual(['./link.txt']);
    const warnings = r.logsAt('WARN').filter((l) => l.message.includes('innocent.txt'));
    expect(warnings).toHaveLength(1);
  });

  it('refuses an input directory outside the allowed roots', async () => {
    const r = await create({ inputDirectory: elsewhere });
    await expect(r.run()).rejects.toThrow(/outside the directories file processors may use/);
  });

  it('yields with a warning while the input directory does not exist', async () => {
    rmSync(input, { recursive: true });
    const r = await create();
    await r.run();
    expect(r.transferred('success')).toEqual([]);
    expect(r.logsAt('WARN').map((l) => l.message)).toEqual([expect.stringMatching(/^cannot list .*in; will try again$/)]);
    mkdirSync(input);
    put('late.txt', 'l');
    await r.run();
    expect(listed(r)).toEqual(['./late.txt']);
  });

  it('is invalid without an input directory or with a broken filter', async () => {
    runner = await TestRunner.create(ListFile, { fileRoots: [root], properties: { fileFilter: '[' } });
    expect(runner.validationErrors()).toEqual([
      'property "inputDirectory": is required',
      expect.stringMatching(/^property "fileFilter": not a valid regular expression/),
    ]);
  });
});
