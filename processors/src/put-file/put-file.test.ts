import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TestRunner } from '@sluice/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PutFile } from './index.ts';

describe('PutFile', () => {
  let runner: TestRunner | undefined;
  /** The allowed root of each test; `out` (inside it) does not exist until PutFile creates it. */
  let root: string;
  let out: string;
  let elsewhere: string;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-putfile-')));
    out = join(root, 'out');
    elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-putfile-outside-')));
  });

  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  const create = async (properties: Record<string, string> = {}): Promise<TestRunner> => {
    runner = await TestRunner.create(PutFile, { fileRoots: [root], properties: { directory: out, ...properties } });
    return runner;
  };

  /** Every entry of a directory tree (dot files included), relative to it. */
  const tree = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort() : []);

  it('writes the content to a file named by the filename attribute, with a SEND event', async () => {
    const r = await create();
    const input = await r.enqueue('hello file', { filename: 'a.txt' });
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(r.transferred('success')[0]?.uuid).toBe(input.uuid);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('hello file');
    // Written under a temporary name and renamed: nothing else is left in the directory.
    expect(tree(out)).toEqual(['a.txt']);
    const events = await r.provenanceEvents();
    expect(events.map((e) => e.eventType)).toEqual(['SEND']);
    expect(events[0]?.flowFileUuid).toBe(input.uuid);
    expect(events[0]?.transitUri).toBe(pathToFileURL(join(out, 'a.txt')).href);
    expect(events[0]?.transitUri?.startsWith('file:///')).toBe(true);
  });

  it('writes empty content as an empty file', async () => {
    const r = await create();
    await r.enqueue('', { filename: 'empty.txt' });
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(readFileSync(join(out, 'empty.txt'))).toHaveLength(0);
  });

  it.each([false, true])('streams large content to disk intact (durable repositories: %s)', async (durable) => {
    const large = Buffer.alloc(3 * 1024 * 1024 + 5);
    for (let i = 0; i < large.length; i++) large[i] = (i * 7) % 256;
    runner = await TestRunner.create(PutFile, { fileRoots: [root], durable, properties: { directory: out } });
    const r = runner;
    await r.enqueue(large, { filename: 'big.bin' });
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(readFileSync(join(out, 'big.bin')).equals(large)).toBe(true);
    expect(tree(out)).toEqual(['big.bin']);
  });

  describe('conflict resolution', () => {
    beforeEach(() => {
      mkdirSync(out);
      writeFileSync(join(out, 'a.txt'), 'old');
    });

    it('fail (default): routes to failure with the reason, penalized, leaving the file alone', async () => {
      const r = await create();
      const input = await r.enqueue('new', { filename: 'a.txt' });
      await r.run();
      r.assertAllTransferred('failure', 1);
      const failed = r.transferred('failure')[0];
      expect(failed?.uuid).toBe(input.uuid);
      expect(failed?.penalized).toBe(true);
      expect(failed?.attribute('putfile.failure.reason')).toBe(
        `${join(out, 'a.txt')} already exists (conflict resolution is "fail")`,
      );
      expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('old');
      expect(tree(out)).toEqual(['a.txt']);
      expect(await r.provenanceEvents('SEND')).toEqual([]);
      expect(r.engine.bulletins.list({ componentId: 'under-test' })).toEqual([
        expect.objectContaining({ level: 'WARN', message: expect.stringContaining('already exists') }),
      ]);
    });

    it('replace: replaces the file', async () => {
      const r = await create({ conflictResolution: 'replace' });
      await r.enqueue('new', { filename: 'a.txt' });
      await r.run();
      r.assertAllTransferred('success', 1);
      expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('new');
      expect(tree(out)).toEqual(['a.txt']);
      expect((await r.provenanceEvents('SEND')).map((e) => e.transitUri)).toEqual([pathToFileURL(join(out, 'a.txt')).href]);
    });

    it('ignore: leaves the file and routes to success without a SEND event', async () => {
      const r = await create({ conflictResolution: 'ignore' });
      await r.enqueue('new', { filename: 'a.txt' });
      await r.run();
      r.assertAllTransferred('success', 1);
      expect(r.transferred('success')[0]?.attribute('putfile.failure.reason')).toBeUndefined();
      expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('old');
      expect(tree(out)).toEqual(['a.txt']);
      expect(await r.provenanceEvents('SEND')).toEqual([]);
    });
  });

  it('replaces a temporary file left behind by an attempt cut short by a crash', async () => {
    const r = await create();
    const input = await r.enqueue('complete', { filename: 'a.txt' });
    mkdirSync(out);
    writeFileSync(join(out, `.${input.uuid}.partial`), 'half writ');
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('complete');
    expect(tree(out)).toEqual(['a.txt']);
  });

  it('writes one of two FlowFiles with the same name in one batch and fails the other', async () => {
    const r = await create();
    await r.enqueue('first', { filename: 'same.txt' });
    await r.enqueue('second', { filename: 'same.txt' });
    await r.run();
    expect(r.transferred('success')).toHaveLength(1);
    expect(r.transferred('failure')).toHaveLength(1);
    expect(readFileSync(join(out, 'same.txt'), 'utf8')).toBe(r.transferred('success')[0]?.text());
    expect(tree(out)).toEqual(['same.txt']);
  });

  it('creates missing directories (and parents)', async () => {
    const deep = join(out, 'x', 'y', 'z');
    const r = await create({ directory: deep });
    await r.enqueue('deep', { filename: 'd.txt' });
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(readFileSync(join(deep, 'd.txt'), 'utf8')).toBe('deep');
  });

  it('fails when the directory is missing and may not be created', async () => {
    const r = await create({ createMissingDirectories: 'false' });
    await r.enqueue('x', { filename: 'a.txt' });
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putfile.failure.reason')).toBe(
      `directory ${out} does not exist (Create Missing Directories is false)`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('fails when the directory is a file', async () => {
    writeFileSync(out, 'not a directory');
    const r = await create();
    await r.enqueue('x', { filename: 'a.txt' });
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putfile.failure.reason')).toMatch(/ENOTDIR|EEXIST/);
    expect(readFileSync(out, 'utf8')).toBe('not a directory');
  });

  it('evaluates the directory per FlowFile', async () => {
    const r = await create({ directory: `${root}/customers/\${customer}/\${now():format('yyyy')}` });
    await r.enqueue('a', { filename: 'order.json', customer: 'acme' });
    await r.enqueue('b', { filename: 'order.json', customer: 'globex' });
    await r.run();
    r.assertAllTransferred('success', 2);
    const year = String(new Date().getFullYear());
    expect(readFileSync(join(root, 'customers', 'acme', year, 'order.json'), 'utf8')).toBe('a');
    expect(readFileSync(join(root, 'customers', 'globex', year, 'order.json'), 'utf8')).toBe('b');
  });

  it('fails a FlowFile whose directory evaluates to nothing instead of writing to the working directory', async () => {
    const r = await create({ directory: '${target}' });
    await r.enqueue('x', { filename: 'a.txt' });
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putfile.failure.reason')).toBe('Directory evaluated to an empty path');
  });

  it('routes a FlowFile whose directory expression fails to failure with the reason', async () => {
    const r = await create({ directory: `${root}/\${n:toNumber()}` });
    await r.enqueue('x', { filename: 'a.txt', n: 'abc' });
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('putfile.failure.reason')).toMatch(/^property "directory": .*abc/);
  });

  it.each([
    ['../escape.txt', 'contains a path separator'],
    ['a/b', 'contains a path separator'],
    ['..\\escape.txt', 'contains a path separator'],
    ['', 'is not a file name'],
    ['.', 'is not a file name'],
    ['..', 'is not a file name'],
    ['nul\0byte', 'contains a NUL byte'],
  ])('refuses the hostile filename %j and writes nothing', async (filename, reason) => {
    const r = await create();
    const input = await r.enqueue('evil', { filename });
    expect(input.attribute('filename')).toBe(filename);
    await r.run();
    r.assertAllTransferred('failure', 1);
    const failed = r.transferred('failure')[0];
    expect(failed?.attribute('putfile.failure.reason')).toBe(`filename ${JSON.stringify(filename)} ${reason}`);
    expect(failed?.attribute('putfile.failure.reason')).not.toContain('\0');
    expect(tree(root)).toEqual([]);
    expect(await r.provenanceEvents('SEND')).toEqual([]);
  });

  it('refuses a directory outside the allowed roots', async () => {
    const r = await create({ directory: elsewhere });
    await r.enqueue('x', { filename: 'a.txt' });
    await r.run();
    r.assertAllTransferred('failure', 1);
    const reason = r.transferred('failure')[0]?.attribute('putfile.failure.reason');
    expect(reason).toMatch(/outside the directories file processors may use/);
    expect(reason).toContain(root);
    expect(tree(elsewhere)).toEqual([]);
  });

  it('refuses a directory that escapes the root through ".." or a symlink', async () => {
    symlinkSync(elsewhere, join(root, 'link'));
    const r = await create({ directory: '${dir}' });
    await r.enqueue('x', { filename: 'a.txt', dir: join(root, '..', 'sibling') });
    await r.enqueue('y', { filename: 'b.txt', dir: join(root, 'link') });
    await r.enqueue('z', { filename: 'c.txt', dir: join(root, 'link', 'below') });
    await r.run();
    r.assertAllTransferred('failure', 3);
    for (const f of r.transferred('failure')) {
      expect(f.attribute('putfile.failure.reason')).toMatch(/outside the directories file processors may use/);
    }
    expect(tree(elsewhere)).toEqual([]);
  });

  it('replaces a symlink at the target name instead of writing through it', async () => {
    mkdirSync(out);
    const victim = join(elsewhere, 'victim.txt');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(out, 'a.txt'));
    const r = await create({ conflictResolution: 'replace' });
    await r.enqueue('overwritten?', { filename: 'a.txt' });
    await r.run();
    r.assertAllTransferred('success', 1);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('overwritten?');
  });

  it('writes at most Batch Size FlowFiles per run', async () => {
    const r = await create({ batchSize: '3' });
    for (let i = 0; i < 5; i++) await r.enqueue(String(i), { filename: `f${i}.txt` });
    await r.run();
    expect(r.transferred('success')).toHaveLength(3);
    expect(r.queued()).toBe(2);
    expect(tree(out)).toEqual(['f0.txt', 'f1.txt', 'f2.txt']);
    await r.run();
    expect(r.transferred('success')).toHaveLength(5);
    expect(tree(out)).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt']);
  });

  it('is invalid without a directory or with an unknown conflict strategy', async () => {
    runner = await TestRunner.create(PutFile, { fileRoots: [root], properties: { conflictResolution: 'merge' } });
    expect(runner.validationErrors()).toEqual([
      'property "directory": is required',
      'property "conflictResolution": "merge" is not one of the allowed values: fail, replace, ignore',
    ]);
    await expect(runner.run()).rejects.toThrow(/directory/);
  });
});
