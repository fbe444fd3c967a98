import { execFileSync } from 'node:child_process';
import {
  chmodSync,
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
import { join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TestRunner } from '@sluice/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FetchFile } from './index.ts';

describe('FetchFile', () => {
  let runner: TestRunner | undefined;
  let root: string;
  let input: string;
  let elsewhere: string;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-fetchfile-')));
    input = join(root, 'in');
    mkdirSync(input);
    elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-fetchfile-outside-')));
  });

  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  const create = async (properties: Record<string, string> = {}, durable = false): Promise<TestRunner> => {
    runner = await TestRunner.create(FetchFile, { fileRoots: [root], properties, durable });
    return runner;
  };

  /** What ListFile writes for a file of the input directory. */
  const listed = (name: string) => ({ filename: name, 'absolute.path': `${input}${sep}`, path: './' });

  it('reads the file named by absolute.path and filename into the content, with a FETCH event', async () => {
    const path = join(input, 'report.txt');
    writeFileSync(path, 'hello file');
    const r = await create();
    const flowFile = await r.enqueue('', listed('report.txt'));
    await r.run();
    r.assertAllTransferred('success', 1);
    const out = r.transferred('success')[0];
    expect(out?.uuid).toBe(flowFile.uuid);
    expect(out?.text()).toBe('hello file');
    const events = await r.provenanceEvents('FETCH');
    expect(events.map((e) => [e.flowFileUuid, e.transitUri, e.fileSize])).toEqual([
      [flowFile.uuid, pathToFileURL(path).href, 10],
    ]);
    // Completion strategy none: the file stays.
    expect(existsSync(path)).toBe(true);
  });

  it.each([false, true])('streams a large file intact (durable repositories: %s)', async (durable) => {
    const large = Buffer.alloc(5 * 1024 * 1024 + 3);
    for (let i = 0; i < large.length; i++) large[i] = (i * 7) % 256;
    writeFileSync(join(input, 'big.bin'), large);
    const r = await create({}, durable);
    await r.enqueue('', listed('big.bin'));
    await r.run();
    expect(r.transferred('success')[0]?.content().equals(large)).toBe(true);
  });

  it('takes the path from any expression, and follows a symlink inside the allowed roots', async () => {
    writeFileSync(join(root, 'target.txt'), 'through the link');
    symlinkSync(join(root, 'target.txt'), join(input, 'link.txt'));
    const r = await create({ fileToFetch: `${input}/\${name}` });
    await r.enqueue('', { name: 'link.txt' });
    await r.run();
    expect(r.transferred('success')[0]?.text()).toBe('through the link');
  });

  it('sends a missing file to not.found, penalized, logged at the configured level', async () => {
    const r = await create({ logLevelNotFound: 'WARN' });
    const flowFile = await r.enqueue('old content', listed('missing.txt'));
    await r.run();
    r.assertAllTransferred('not.found', 1);
    const out = r.transferred('not.found')[0];
    expect(out?.uuid).toBe(flowFile.uuid);
    expect(out?.text()).toBe('old content');
    expect(out?.penalized).toBe(true);
    expect(out?.attribute('fetchfile.failure.reason')).toBe(`${join(input, 'missing.txt')} does not exist`);
    expect(r.logsAt('WARN').map((l) => l.level)).toEqual(['WARN']);
  });

  it('sends a file outside the allowed directories to permission.denied without reading it', async () => {
    writeFileSync(join(elsewhere, 'secret.txt'), 'secret');
    symlinkSync(join(elsewhere, 'secret.txt'), join(input, 'innocent.txt'));
    const r = await create({ fileToFetch: '${file}' });
    await r.enqueue('', { file: join(elsewhere, 'secret.txt') });
    await r.enqueue('', { file: join(input, '..', '..', elsewhere.split(sep).pop() ?? '', 'secret.txt') });
    await r.enqueue('', { file: join(input, 'innocent.txt') });
    await r.run();
    const denied = r.transferred('permission.denied');
    expect(denied).toHaveLength(3);
    expect(denied.every((f) => f.size === 0)).toBe(true);
    expect(denied[0]?.attribute('fetchfile.failure.reason')).toMatch(/outside the directories file processors may use/);
  });

  it.skipIf(process.getuid?.() === 0)('sends a file the operating system refuses to permission.denied', async () => {
    const path = join(input, 'locked.txt');
    writeFileSync(path, 'x');
    chmodSync(path, 0o000);
    const r = await create();
    await r.enqueue('', listed('locked.txt'));
    await r.run();
    expect(r.transferred('permission.denied')[0]?.attribute('fetchfile.failure.reason')).toMatch(/may not be read \(EACCES\)/);
  });

  it('sends a directory, a FIFO and an empty path to failure, saying why, without hanging', async () => {
    mkdirSync(join(input, 'adir'));
    execFileSync('mkfifo', [join(input, 'pipe')]);
    const r = await create({ fileToFetch: '${file}' });
    await r.enqueue('', { file: join(input, 'adir') });
    await r.enqueue('', { file: join(input, 'pipe') });
    await r.enqueue('', {});
    await r.run();
    expect(r.transferred('failure').map((f) => f.attribute('fetchfile.failure.reason'))).toEqual([
      `${join(input, 'adir')} is not a regular file`,
      `${join(input, 'pipe')} is not a regular file`,
      'File to Fetch evaluated to an empty path',
    ]);
  });

  it('deletes the file once the FlowFile is committed, with the delete strategy', async () => {
    writeFileSync(join(input, 'a.txt'), 'a');
    const r = await create({ completionStrategy: 'delete' });
    await r.enqueue('', listed('a.txt'));
    await r.run();
    expect(r.transferred('success')[0]?.text()).toBe('a');
    expect(existsSync(join(input, 'a.txt'))).toBe(false);
  });

  describe('move', () => {
    let done: string;
    beforeEach(() => {
      done = join(root, 'done');
      writeFileSync(join(input, 'a.txt'), 'new');
    });

    const move = (conflict: string) =>
      create({ completionStrategy: 'move', moveDestinationDirectory: done, moveConflictStrategy: conflict });

    it('moves the file into the destination, creating it', async () => {
      const r = await move('rename');
      await r.enqueue('', listed('a.txt'));
      await r.run();
      expect(r.transferred('success')[0]?.text()).toBe('new');
      expect(existsSync(join(input, 'a.txt'))).toBe(false);
      expect(readFileSync(join(done, 'a.txt'), 'utf8')).toBe('new');
    });

    it.each([
      [
        'rename',
        (names: string[]) => {
          expect(names).toHaveLength(2);
          expect(names).toEqual(expect.arrayContaining(['a.txt', expect.stringMatching(/^[0-9a-f-]{36}-a\.txt$/)]));
        },
      ],
      ['replace', (names: string[]) => expect(names).toEqual(['a.txt'])],
      ['keep', (names: string[]) => expect(names).toEqual(['a.txt'])],
    ] as const)('resolves a name conflict with %s', async (conflict, check) => {
      mkdirSync(done);
      writeFileSync(join(done, 'a.txt'), 'old');
      const r = await move(conflict);
      await r.enqueue('', listed('a.txt'));
      await r.run();
      expect(r.transferred('success')[0]?.text()).toBe('new');
      expect(existsSync(join(input, 'a.txt'))).toBe(false);
      check(readdirSync(done));
      expect(readFileSync(join(done, 'a.txt'), 'utf8')).toBe(conflict === 'replace' ? 'new' : 'old');
    });

    it('with the fail strategy routes to failure before fetching and leaves the file', async () => {
      mkdirSync(done);
      writeFileSync(join(done, 'a.txt'), 'old');
      const r = await move('fail');
      await r.enqueue('', listed('a.txt'));
      await r.run();
      const out = r.transferred('failure')[0];
      expect(out?.size).toBe(0);
      expect(out?.attribute('fetchfile.failure.reason')).toMatch(/already exists \(move conflict strategy is "fail"\)/);
      expect(existsSync(join(input, 'a.txt'))).toBe(true);
    });

    it('refuses a move destination outside the allowed roots before fetching', async () => {
      const r = await create({ completionStrategy: 'move', moveDestinationDirectory: elsewhere });
      await r.enqueue('', listed('a.txt'));
      await r.run();
      expect(r.transferred('permission.denied')).toHaveLength(1);
      expect(existsSync(join(input, 'a.txt'))).toBe(true);
    });
  });

  it('is invalid with the move strategy but no destination', async () => {
    const r = await create({ completionStrategy: 'move' });
    expect(r.validationErrors()).toEqual([
      'property "moveDestinationDirectory": is required with the Move File completion strategy',
    ]);
  });
});
