import type { BigIntStats, Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  boolean,
  choice,
  dataSize,
  defineProcessor,
  type ProcessContext,
  type ProcessSession,
  regex,
  string,
  timePeriod,
} from '@sluice/api';

/** FlowFiles per commit: a huge directory is listed in bounded steps, each one durable with its state. */
const COMMIT_EVERY = 10_000;
/** Files stat'ed at once. */
const STAT_CONCURRENCY = 64;
/**
 * Files modified this recently (before the listing started) wait for the next listing: a file
 * created while a directory is being read is not in that listing, and must not end up older than
 * the timestamp the listing records (NiFi's listing lag).
 */
const LISTING_LAG_MS = 100n;

const KEY_DIRECTORY = 'listing.directory';
const KEY_TIMESTAMP = 'listing.timestamp';
const KEY_ID_PREFIX = 'listing.id.';

/** A file found by a listing. */
interface Entry {
  /** Path relative to the input directory, with "/" separators: the identity of the file. */
  readonly id: string;
  readonly path: string;
  readonly directory: string;
  readonly name: string;
  readonly stats: BigIntStats;
}

interface ListFileState {
  readonly root: string;
  /** Paths already reported as leading outside the allowed roots (reported once, not every listing). */
  readonly refused: Set<string>;
}

/** Lists the files of a directory as FlowFiles without content, remembering what it listed (NiFi's ListFile). */
export const ListFile = defineProcessor({
  type: 'ListFile',
  description:
    "Lists the files of a directory (and its subdirectories) and creates one FlowFile without content per new or changed file, with its name, path, size and times as attributes, for FetchFile to read. What was listed is kept in the processor's state, committed together with the FlowFiles: the latest modification time listed and the files listed at that time, so a restart neither lists a file again nor misses one, even files that share a modification time (coarse file-system clocks). A file whose modification time is older than the latest one listed (e.g. moved in with its old time kept) is not listed. Files modified within the last 100 ms, or stamped in the future, wait for a later listing. Symbolic links to files inside the allowed directories are listed; links to directories are not followed.",
  tags: ['file', 'get', 'list', 'ingest', 'source', 'filesystem', 'state'],
  input: 'forbidden',
  restricted: 'reads the names and details of files on the Sluice host',
  seeAlso: ['FetchFile', 'GetFile'],
  properties: {
    inputDirectory: string({
      displayName: 'Input Directory',
      description: 'Directory to list (must be under an allowed root). Changing it starts the listing afresh.',
      required: true,
      expression: 'environment',
    }),
    recurse: boolean({
      displayName: 'Recurse Subdirectories',
      description: 'Also list files in subdirectories.',
      default: 'true',
    }),
    fileFilter: regex({
      displayName: 'File Filter',
      description: 'Only files whose whole name matches this regular expression are listed.',
      default: '[^.].*',
      required: true,
    }),
    pathFilter: regex({
      displayName: 'Path Filter',
      description:
        'With recursion, only files in subdirectories whose path relative to the input directory (like "a/b") matches this regular expression as a whole are listed; files directly in the input directory always are.',
    }),
    minimumFileAge: timePeriod({
      displayName: 'Minimum File Age',
      description: 'Skip files modified more recently than this (still being written); they are listed once old enough.',
      default: '0 sec',
      required: true,
    }),
    maximumFileAge: timePeriod({ displayName: 'Maximum File Age', description: 'Skip files older than this.' }),
    minimumFileSize: dataSize({
      displayName: 'Minimum File Size',
      description: 'Skip smaller files.',
      default: '0 B',
      required: true,
    }),
    maximumFileSize: dataSize({ displayName: 'Maximum File Size', description: 'Skip larger files.' }),
    ignoreHiddenFiles: boolean({
      displayName: 'Ignore Hidden Files',
      description: 'Skip files and directories whose names start with a dot.',
      default: 'true',
    }),
    includeFileAttributes: boolean({
      displayName: 'Include File Attributes',
      description: 'Also write the owner, group and permissions of each file.',
      default: 'true',
    }),
    listingStrategy: choice(
      [
        {
          value: 'timestamps',
          displayName: 'Tracking Timestamps',
          description: 'List only files new or changed since the last listing (state kept).',
        },
        { value: 'none', displayName: 'No Tracking', description: 'List every file, every time (no state).' },
      ],
      {
        displayName: 'Listing Strategy',
        description: 'How files already listed are recognised.',
        default: 'timestamps',
        required: true,
      },
    ),
  },
  relationships: { success: 'A FlowFile (without content) per file listed' },
  writesAttributes: {
    filename: 'The file name',
    path: 'The directory of the file relative to the input directory ("./" for the input directory itself)',
    'absolute.path': 'The absolute directory of the file, ending with a separator',
    'file.size': 'Size in bytes',
    'file.lastModifiedTime': 'Last modification time, ISO 8601',
    'file.lastAccessTime': 'Last access time, ISO 8601',
    'file.creationTime': 'Creation (birth) time, ISO 8601, where the file system records it',
    'file.owner': 'Numeric user id of the owner (Include File Attributes)',
    'file.group': 'Numeric group id (Include File Attributes)',
    'file.permissions': 'Permissions like rw-r--r-- (Include File Attributes)',
  },
  defaultSchedule: { period: '1 min' },
  triggerSerially: true,
  onScheduled(context): ListFileState {
    return { root: context.resolvePath(context.getProperty('inputDirectory').asString() ?? ''), refused: new Set() };
  },
  async onTrigger(session, context, state) {
    const started = BigInt(Date.now()) * 1_000_000n;
    let entries: Entry[];
    try {
      entries = await listFiles(state, context);
    } catch (e) {
      context.logger.warn(`cannot list ${state.root}; will try again`, e);
      context.yield();
      return;
    }
    const tracking = context.getProperty('listingStrategy').asString() !== 'none';
    const cutoff = started - LISTING_LAG_MS * 1_000_000n;
    // Oldest first, then by path: the order the state can advance in, one commit at a time.
    entries.sort((a, b) =>
      a.stats.mtimeNs < b.stats.mtimeNs ? -1 : a.stats.mtimeNs > b.stats.mtimeNs ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
    if (!tracking) {
      for (let i = 0; i < entries.length && context.isScheduled(); i += COMMIT_EVERY) {
        await emit(session, context, state, entries.slice(i, i + COMMIT_EVERY));
      }
      return;
    }
    let { latest, ids } = readState(session, state.root);
    const fresh = entries.filter(
      (e) =>
        e.stats.mtimeNs < cutoff &&
        (latest === undefined || e.stats.mtimeNs > latest || (e.stats.mtimeNs === latest && !ids.has(e.id))),
    );
    if (session.state.get(KEY_DIRECTORY) !== state.root) {
      // Another directory than the state was written for: start afresh.
      session.state.clear();
      session.state.set(KEY_DIRECTORY, state.root);
    }
    for (let i = 0; i < fresh.length && context.isScheduled(); i += COMMIT_EVERY) {
      const chunk = fresh.slice(i, i + COMMIT_EVERY);
      const last = chunk[chunk.length - 1];
      if (last === undefined) break;
      const newest = last.stats.mtimeNs;
      if (newest !== latest) {
        for (const id of ids) session.state.delete(`${KEY_ID_PREFIX}${id}`);
        ids = new Set();
        latest = newest;
        session.state.set(KEY_TIMESTAMP, String(newest));
      }
      for (const e of chunk) {
        if (e.stats.mtimeNs === newest) {
          ids.add(e.id);
          session.state.set(`${KEY_ID_PREFIX}${e.id}`, '');
        }
      }
      // The FlowFiles and the state that says they were listed become durable together.
      await emit(session, context, state, chunk);
    }
  },
});

/** The latest modification time listed (ns) and the files listed at it, from the committed state. */
function readState(session: ProcessSession, root: string): { latest: bigint | undefined; ids: Set<string> } {
  if (session.state.get(KEY_DIRECTORY) !== root) return { latest: undefined, ids: new Set() };
  const text = session.state.get(KEY_TIMESTAMP);
  const latest = text !== undefined && /^\d+$/.test(text) ? BigInt(text) : undefined;
  const ids = new Set(session.state.scan({ prefix: KEY_ID_PREFIX }).map(([key]) => key.slice(KEY_ID_PREFIX.length)));
  return { latest, ids };
}

/** Creates the FlowFiles of a listing step and commits them (with whatever state the session holds). */
async function emit(
  session: ProcessSession,
  context: ProcessContext,
  state: ListFileState,
  entries: readonly Entry[],
): Promise<void> {
  const owner = context.getProperty('includeFileAttributes').asBoolean() !== false;
  for (const e of entries) {
    const directory = relative(state.root, e.directory);
    const attributes: Record<string, string> = {
      filename: e.name,
      path: directory === '' ? './' : `${directory.split(sep).join('/')}/`,
      'absolute.path': `${e.directory}${e.directory.endsWith(sep) ? '' : sep}`,
      'file.size': String(e.stats.size),
      'file.lastModifiedTime': iso(e.stats.mtimeNs),
      'file.lastAccessTime': iso(e.stats.atimeNs),
      'file.creationTime': iso(e.stats.birthtimeNs),
    };
    if (owner) {
      attributes['file.owner'] = String(e.stats.uid);
      attributes['file.group'] = String(e.stats.gid);
      attributes['file.permissions'] = permissions(Number(e.stats.mode));
    }
    session.transfer(session.putAllAttributes(session.create(), attributes), 'success');
  }
  await session.commit();
}

async function listFiles(state: ListFileState, context: ProcessContext): Promise<Entry[]> {
  const root = state.root;
  const filter = wholeName(context.getProperty('fileFilter').asRegExp());
  const pathFilter = wholeName(context.getProperty('pathFilter').asRegExp());
  const recurse = context.getProperty('recurse').asBoolean() !== false;
  const ignoreHidden = context.getProperty('ignoreHiddenFiles').asBoolean() !== false;
  const minAge = BigInt(Math.round(context.getProperty('minimumFileAge').asTimePeriod() ?? 0)) * 1_000_000n;
  const maxAgeMs = context.getProperty('maximumFileAge').asTimePeriod();
  const maxAge = maxAgeMs === undefined ? undefined : BigInt(Math.round(maxAgeMs)) * 1_000_000n;
  const minSize = BigInt(context.getProperty('minimumFileSize').asDataSize() ?? 0);
  const maxSizeBytes = context.getProperty('maximumFileSize').asDataSize();
  const maxSize = maxSizeBytes === undefined ? undefined : BigInt(maxSizeBytes);
  const now = BigInt(Date.now()) * 1_000_000n;
  const out: Entry[] = [];

  const check = async (path: string, directory: string, name: string, symlink: boolean): Promise<void> => {
    if (symlink) {
      try {
        context.resolvePath(path);
      } catch (e) {
        if (!state.refused.has(path)) {
          state.refused.add(path);
          context.logger.warn(`skipped ${path}: it leads outside the allowed directories`, e);
        }
        return;
      }
    }
    let stats: BigIntStats;
    try {
      stats = await stat(path, { bigint: true });
    } catch {
      return; // removed meanwhile, or a dangling symlink
    }
    if (!stats.isFile()) return;
    const age = now - stats.mtimeNs;
    if (age < minAge || (maxAge !== undefined && age > maxAge)) return;
    if (stats.size < minSize || (maxSize !== undefined && stats.size > maxSize)) return;
    out.push({ id: relative(root, path).split(sep).join('/'), path, directory, name, stats });
  };

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
    const files: Dirent[] = [];
    for (const entry of entries) {
      if (ignoreHidden && entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) {
        if (recurse) await visit(join(directory, entry.name));
        continue;
      }
      if (!pathAllowed || (!entry.isFile() && !entry.isSymbolicLink())) continue;
      if (filter !== undefined && !filter.test(entry.name)) continue;
      files.push(entry);
    }
    for (let i = 0; i < files.length; i += STAT_CONCURRENCY) {
      await Promise.all(
        files
          .slice(i, i + STAT_CONCURRENCY)
          .map((entry) => check(join(directory, entry.name), directory, entry.name, entry.isSymbolicLink())),
      );
    }
  };
  await visit(root);
  // A file stamped in the future waits until its time has come: listing it now would move the
  // recorded timestamp ahead of files written meanwhile, which would then never be listed.
  return out.filter((e) => e.stats.mtimeNs <= now);
}

function iso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** `rwxr-x---` from a file mode. */
function permissions(mode: number): string {
  const bits = 'rwxrwxrwx';
  let out = '';
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : '-';
  return out;
}

/** NiFi filters match the whole name (Java's Matcher.matches); an empty pattern filters nothing. */
function wholeName(pattern: RegExp | undefined): RegExp | undefined {
  if (pattern === undefined || pattern.source === '(?:)') return undefined;
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace('g', ''));
}
