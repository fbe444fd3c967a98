import { constants, type Dirent } from 'node:fs';
import { type FileHandle, open, readdir, stat, unlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { boolean, dataSize, defineProcessor, integer, regex, string, timePeriod } from '@sluice/api';

interface Listed {
  readonly path: string;
  readonly directory: string;
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
}

interface GetFileState {
  readonly root: string;
  readonly queue: Listed[];
  readonly inProgress: Set<string>;
  /** Paths already reported as leading outside the allowed roots (reported once, not every poll). */
  readonly refused: Set<string>;
  lastListing: number;
}

/** Picks up files from a directory as FlowFiles, deleting them once the FlowFiles are safely committed (NiFi's GetFile). */
export const GetFile = defineProcessor({
  type: 'GetFile',
  description:
    'Creates a FlowFile from each file in a directory (and its subdirectories). The source file is deleted only after the FlowFile is durably committed, so a crash never loses a file.',
  tags: ['local', 'files', 'filesystem', 'ingest', 'get', 'source'],
  input: 'forbidden',
  restricted: 'reads and deletes files on the Sluice host',
  properties: {
    inputDirectory: string({
      displayName: 'Input Directory',
      description: 'Directory to pick files from (must be under an allowed root).',
      required: true,
      expression: 'environment',
    }),
    fileFilter: regex({
      displayName: 'File Filter',
      description: 'Only files whose whole name matches this regular expression are picked up.',
      default: '[^.].*',
      required: true,
    }),
    pathFilter: regex({
      displayName: 'Path Filter',
      description:
        'With recursion, only files in subdirectories whose path relative to the input directory (like "a/b") matches this regular expression as a whole are picked up; files directly in the input directory always are.',
    }),
    batchSize: integer({
      displayName: 'Batch Size',
      description: 'Files picked up per trigger.',
      default: '10',
      min: 1,
      max: 10_000,
      required: true,
    }),
    keepSourceFile: boolean({
      displayName: 'Keep Source File',
      description: 'Leave the file in place (it will be picked up again on the next listing).',
      default: 'false',
    }),
    recurse: boolean({
      displayName: 'Recurse Subdirectories',
      description: 'Also pick up files in subdirectories.',
      default: 'true',
    }),
    minimumFileAge: timePeriod({
      displayName: 'Minimum File Age',
      description: 'Skip files modified more recently than this (still being written).',
      default: '0 sec',
    }),
    maximumFileAge: timePeriod({ displayName: 'Maximum File Age', description: 'Skip files older than this.' }),
    minimumFileSize: dataSize({ displayName: 'Minimum File Size', description: 'Skip smaller files.', default: '0 B' }),
    maximumFileSize: dataSize({ displayName: 'Maximum File Size', description: 'Skip larger files.' }),
    ignoreHiddenFiles: boolean({
      displayName: 'Ignore Hidden Files',
      description: 'Skip names starting with a dot.',
      default: 'true',
    }),
    pollingInterval: timePeriod({
      displayName: 'Polling Interval',
      description: 'Wait at least this long between directory listings.',
      default: '0 sec',
    }),
  },
  relationships: { success: 'A FlowFile per file picked up' },
  writesAttributes: {
    filename: 'The file name',
    path: 'The directory of the file relative to the input directory ("./" for the input directory itself)',
    'absolute.path': 'The absolute directory of the file',
    'file.lastModifiedTime': 'Last modification time, ISO 8601',
    'file.size': 'Size in bytes',
  },
  defaultSchedule: { period: '0 sec' },
  triggerSerially: true,
  onScheduled(context): GetFileState {
    const directory = context.getProperty('inputDirectory').asString() ?? '';
    return { root: context.resolvePath(directory), queue: [], inProgress: new Set(), refused: new Set(), lastListing: 0 };
  },
  async onTrigger(session, context, state) {
    const now = Date.now();
    if (state.queue.length === 0) {
      const interval = context.getProperty('pollingInterval').asTimePeriod() ?? 0;
      if (now - state.lastListing < interval) return;
      state.lastListing = now;
      try {
        state.queue.push(...(await listFiles(state.root, context, now)).filter((f) => !state.inProgress.has(f.path)));
      } catch (e) {
        context.logger.warn(`cannot list ${state.root}; will try again`, e);
        context.yield();
        return;
      }
      if (state.queue.length === 0) return;
    }
    const batch = state.queue.splice(0, context.getProperty('batchSize').asInteger() ?? 10);
    const taken: Listed[] = [];
    for (const file of batch) {
      const handle = await openListed(file, context, state);
      if (handle === undefined) continue;
      // Created only once the file is open: a file that cannot be read leaves nothing behind in the
      // session (an unaccounted FlowFile would roll back the whole batch, every time).
      let flowFile = session.create();
      try {
        flowFile = await session.writeStream(flowFile, handle.createReadStream({ autoClose: false }));
      } catch (e) {
        session.remove(flowFile);
        context.logger.warn(`could not read ${file.path}; it stays in place`, e);
        continue;
      } finally {
        await handle.close();
      }
      const directory = relative(state.root, file.directory);
      flowFile = session.putAllAttributes(flowFile, {
        filename: file.name,
        path: directory === '' ? './' : `${directory.split(sep).join('/')}/`,
        'absolute.path': `${file.directory}${file.directory.endsWith(sep) ? '' : sep}`,
        'file.lastModifiedTime': new Date(file.mtimeMs).toISOString(),
        'file.size': String(flowFile.size),
      });
      session.provenance.receive(flowFile, pathToFileURL(file.path).href);
      session.transfer(flowFile, 'success');
      taken.push(file);
      state.inProgress.add(file.path);
    }
    if (taken.length === 0) return;
    try {
      // Delete only once the FlowFiles are durable: a crash before this leaves the files in place.
      await session.commit();
      if (context.getProperty('keepSourceFile').asBoolean() !== true) {
        await Promise.all(
          taken.map((f) =>
            unlink(f.path).catch((e: unknown) => context.logger.warn(`picked up ${f.path} but could not delete it`, e)),
          ),
        );
      }
    } finally {
      for (const f of taken) state.inProgress.delete(f.path);
    }
  },
});

/**
 * Opens a listed file for reading, or explains (once per path) why not. The path is checked against
 * the allowed roots after following symlinks, and the checked real path is opened with O_NOFOLLOW so
 * a file swapped for a symlink after the check is refused rather than followed.
 */
async function openListed(
  file: Listed,
  context: Parameters<typeof GetFile.onTrigger>[1],
  state: GetFileState,
): Promise<FileHandle | undefined> {
  let real: string;
  try {
    real = context.resolvePath(file.path);
  } catch (e) {
    if (!state.refused.has(file.path)) {
      state.refused.add(file.path);
      context.logger.warn(`skipped ${file.path}: it leads outside the allowed directories`, e);
    }
    return undefined;
  }
  try {
    return await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') context.logger.debug(`${file.path} disappeared before it was picked up`);
    else context.logger.warn(`could not open ${file.path}; it stays in place`, e);
    return undefined;
  }
}

async function listFiles(root: string, context: Parameters<typeof GetFile.onTrigger>[1], now: number): Promise<Listed[]> {
  const filter = wholeName(context.getProperty('fileFilter').asRegExp());
  const pathFilter = wholeName(context.getProperty('pathFilter').asRegExp());
  const recurse = context.getProperty('recurse').asBoolean() !== false;
  const ignoreHidden = context.getProperty('ignoreHiddenFiles').asBoolean() !== false;
  const minAge = context.getProperty('minimumFileAge').asTimePeriod() ?? 0;
  const maxAge = context.getProperty('maximumFileAge').asTimePeriod();
  const minSize = context.getProperty('minimumFileSize').asDataSize() ?? 0;
  const maxSize = context.getProperty('maximumFileSize').asDataSize();
  const out: Listed[] = [];
  const visit = async (directory: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (e) {
      if (directory === root) throw e;
      context.logger.warn(`cannot list ${directory}`, e);
      return;
    }
    // NiFi applies the path filter to the directory of each file (relative to the input directory;
    // files directly in it always pass), so every subdirectory is searched.
    const relativeDirectory = relative(root, directory).split(sep).join('/');
    const pathAllowed = relativeDirectory === '' || pathFilter === undefined || pathFilter.test(relativeDirectory);
    for (const entry of entries) {
      if (ignoreHidden && entry.name.startsWith('.')) continue;
      const path = join(directory, entry.name);
      if (entry.isDirectory()) {
        if (recurse) await visit(path);
        continue;
      }
      if (!pathAllowed) continue;
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      if (filter !== undefined && !filter.test(entry.name)) continue;
      let info: { size: number; mtimeMs: number; isFile(): boolean };
      try {
        info = await stat(path);
      } catch {
        continue; // removed meanwhile, or a dangling symlink
      }
      if (!info.isFile()) continue;
      const age = now - info.mtimeMs;
      // mtime has sub-millisecond precision and can be a fraction ahead of Date.now(): with no minimum
      // age a just-written file would otherwise look "younger than 0" and be skipped.
      if ((minAge > 0 && age < minAge) || (maxAge !== undefined && age > maxAge)) continue;
      if (info.size < minSize || (maxSize !== undefined && info.size > maxSize)) continue;
      out.push({ path, directory, name: entry.name, size: info.size, mtimeMs: info.mtimeMs });
    }
  };
  await visit(root);
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs);
}

/** NiFi filters match the whole name (Java's Matcher.matches); an empty pattern filters nothing. */
function wholeName(pattern: RegExp | undefined): RegExp | undefined {
  if (pattern === undefined || pattern.source === '(?:)') return undefined;
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace('g', ''));
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}
