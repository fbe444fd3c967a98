import { constants } from 'node:fs';
import { type FileHandle, open, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import {
  choice,
  dataSize,
  defineProcessor,
  formatDataSize,
  type ProcessContext,
  type ProcessSession,
  type SessionState,
  string,
} from '@sluice/api';

/** The first bytes of a file, whose checksum recognises it (after a copy-and-truncate rotation, or an inode reused). */
const FINGERPRINT_BYTES = 64 * 1024;
/** Chunk read backwards when looking for the last line break. */
const SCAN_CHUNK = 64 * 1024;
const NEWLINE = 0x0a;
/** FlowFiles emitted per trigger at most while catching up with a backlog. */
const CHUNKS_PER_TRIGGER = 16;

const KEY_PATH = 'tail.path';
const KEY_POSITION = 'tail.position';
const KEY_IDENTITY = 'tail.identity';
const KEY_FINGERPRINT = 'tail.fingerprint';

/** Where tailing stands, as kept in the component state (committed with the FlowFiles emitted). */
interface Position {
  /** Bytes of the current file already emitted. */
  readonly position: number;
  /** `dev:ino` of the file being tailed; empty while waiting for the file to appear. */
  readonly identity: string;
  /** CRC32 and length of the file's first bytes (up to 64 KiB), or empty. */
  readonly fingerprint: string;
}

interface Opened {
  readonly handle: FileHandle;
  readonly identity: string;
  readonly size: number;
}

interface TailSettings {
  readonly path: string;
  readonly rolled: RegExp | undefined;
  readonly fromStart: boolean;
  readonly lines: boolean;
  readonly maxBytes: number;
}

/** Follows a file as it grows, across restarts and rotations (NiFi's TailFile). */
export const TailFile = defineProcessor({
  type: 'TailFile',
  description:
    "Follows a file as it grows (a log file) and emits what was appended since the last time: complete lines (the default; a last line without its line break waits for it) or all new bytes, at most Maximum Bytes per FlowFile in each FlowFile. Where it stands (position, the file's identity as device and inode, and a checksum of its first 64 KiB) is kept in the processor's state, committed with the FlowFiles, so a restart continues exactly where it stopped. Rotation is detected: a file renamed away and replaced (another inode), truncated (copy and truncate), or rewritten (its first bytes changed). With a Rolling Filename Pattern, the rest of the rotated file (found by inode, or by checksum for copies) is emitted first, so nothing written before the rotation is lost; without one, the new file is read from its start and a warning says that data may have been skipped.",
  tags: ['tail', 'file', 'log', 'text', 'source', 'ingest', 'rotation'],
  input: 'forbidden',
  restricted: 'reads files on the Sluice host',
  properties: {
    fileToTail: string({
      displayName: 'File to Tail',
      description: 'The file to follow (must be under an allowed root). Changing it starts afresh.',
      required: true,
      expression: 'environment',
    }),
    rollingFilenamePattern: string({
      displayName: 'Rolling Filename Pattern',
      description:
        'Names of rotated files in the same directory, with * and ? wildcards (e.g. app.log.* or app-*.log); lets data written just before a rotation still be emitted.',
    }),
    initialStartPosition: choice(
      [
        {
          value: 'beginning-of-file',
          displayName: 'Beginning of File',
          description: 'Emit what the file already holds, then what is appended.',
        },
        { value: 'current-time', displayName: 'Current Time', description: 'Emit only what is appended after the first start.' },
      ],
      {
        displayName: 'Initial Start Position',
        description: 'Where to start the first time (afterwards the state says where).',
        default: 'beginning-of-file',
        required: true,
      },
    ),
    emit: choice(
      [
        { value: 'lines', displayName: 'Complete lines', description: 'Up to the last line break; a partial last line waits.' },
        { value: 'bytes', displayName: 'All new bytes', description: 'Everything appended, even a partial line.' },
      ],
      { displayName: 'Emit', description: 'How much of what was appended is emitted.', default: 'lines', required: true },
    ),
    maxBytesPerFlowFile: dataSize({
      displayName: 'Maximum Bytes per FlowFile',
      description: 'A larger backlog is emitted over several triggers; a single line longer than this is cut (with a warning).',
      default: '10 MB',
      required: true,
      min: 1,
      max: 1024 * 1024 * 1024,
    }),
  },
  relationships: { success: 'FlowFiles of appended data' },
  writesAttributes: {
    filename: '<name>.<start>-<end><extension> of the tailed (or rotated) file',
    'tailfile.original.path': 'The path of the file the data was read from',
    'tailfile.position.start': 'Offset of the first byte in that file',
    'tailfile.position.end': 'Offset after the last byte',
    'mime.type': 'text/plain, when emitting complete lines',
  },
  defaultSchedule: { period: '1 sec' },
  triggerSerially: true,
  onScheduled(context): TailSettings {
    const pattern = context.getProperty('rollingFilenamePattern').asString();
    return {
      path: context.resolvePath(context.getProperty('fileToTail').asString() ?? ''),
      rolled: pattern === undefined || pattern.trim() === '' ? undefined : globToRegExp(pattern.trim()),
      fromStart: context.getProperty('initialStartPosition').asString() !== 'current-time',
      lines: context.getProperty('emit').asString() !== 'bytes',
      maxBytes: context.getProperty('maxBytesPerFlowFile').asDataSize() ?? 10 * 1024 * 1024,
    };
  },
  async onTrigger(session, context, settings) {
    const state = session.state;
    let current = readPosition(state, settings.path);
    const opened = await openFile(settings.path, context);
    try {
      if (current === undefined) {
        // First run for this file: start at its beginning, or at its end; a file that appears later is new data.
        current =
          opened === undefined
            ? { position: 0, identity: '', fingerprint: '' }
            : {
                position: settings.fromStart ? 0 : opened.size,
                identity: opened.identity,
                fingerprint: await fingerprint(opened.handle, settings.fromStart ? 0 : opened.size),
              };
        writePosition(state, settings.path, current);
      }
      if (current.identity !== '' && (opened === undefined || (await rotated(current, opened)))) {
        // The file we were reading moved away (or was truncated): finish it, then start on the new one.
        await finishRotated(session, context, settings, current, opened);
        current = { position: 0, identity: opened?.identity ?? '', fingerprint: '' };
        writePosition(state, settings.path, current);
      }
      if (opened === undefined) return;
      if (current.identity === '') {
        current = { position: 0, identity: opened.identity, fingerprint: '' };
        writePosition(state, settings.path, current);
      }
      // A backlog is caught up with several FlowFiles per trigger (each at most the maximum size).
      let end = current.position;
      for (let i = 0; i < CHUNKS_PER_TRIGGER && end < opened.size; i++) {
        const next = await emitRange(session, context, settings, opened.handle, settings.path, end, opened.size, false);
        if (next === end) break;
        end = next;
      }
      if (end !== current.position) {
        writePosition(state, settings.path, {
          position: end,
          identity: opened.identity,
          fingerprint: await fingerprint(opened.handle, end),
        });
      } else if (current.fingerprint === '' && end > 0) {
        writePosition(state, settings.path, { ...current, fingerprint: await fingerprint(opened.handle, end) });
      }
    } finally {
      await opened?.handle.close();
    }
  },
});

/** The committed position for this path, or undefined when it has none (never tailed, or another file). */
function readPosition(state: SessionState, path: string): Position | undefined {
  if (state.get(KEY_PATH) !== path) return undefined;
  const position = Number(state.get(KEY_POSITION) ?? 'x');
  if (!Number.isSafeInteger(position) || position < 0) return undefined;
  return { position, identity: state.get(KEY_IDENTITY) ?? '', fingerprint: state.get(KEY_FINGERPRINT) ?? '' };
}

function writePosition(state: SessionState, path: string, p: Position): void {
  state.set(KEY_PATH, path);
  state.set(KEY_POSITION, String(p.position));
  state.set(KEY_IDENTITY, p.identity);
  state.set(KEY_FINGERPRINT, p.fingerprint);
}

/** Opens the tailed file, or undefined while it does not exist. */
async function openFile(path: string, context: ProcessContext): Promise<Opened | undefined> {
  try {
    return await openChecked(path);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return undefined;
    context.logger.warn(`cannot open ${path}; will try again`, e);
    context.yield();
    return undefined;
  }
}

/**
 * Opens a checked real path without following a symlink swapped in after the check; O_NONBLOCK
 * keeps a FIFO from blocking. @throws {Error} for anything that is not a regular file.
 */
async function openChecked(path: string): Promise<Opened> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile()) throw new Error(`${path} is not a regular file`);
    return { handle, identity: `${info.dev}:${info.ino}`, size: Number(info.size) };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Whether the open file is no longer the one the position belongs to. */
async function rotated(current: Position, opened: Opened): Promise<boolean> {
  if (current.identity !== opened.identity) return true;
  if (opened.size < current.position) return true; // truncated (copy and truncate)
  // Same inode and long enough: still ours unless its first bytes changed (an inode reused).
  return current.fingerprint !== '' && (await fingerprint(opened.handle, current.position)) !== current.fingerprint;
}

/**
 * Emits the rest of the file that was rotated away, when a Rolling Filename Pattern finds it: by
 * inode (renamed), or by the checksum of its first bytes (a copy). Otherwise warns that data
 * written between the last read and the rotation may be lost.
 */
async function finishRotated(
  session: ProcessSession,
  context: ProcessContext,
  settings: TailSettings,
  current: Position,
  opened: Opened | undefined,
): Promise<void> {
  const found = settings.rolled === undefined ? undefined : await findRotated(settings, current, context);
  if (found === undefined) {
    if (opened !== undefined) {
      context.logger.warn(
        `${settings.path} was rotated (${opened.identity === current.identity ? 'truncated or rewritten' : 'replaced'}); reading the new file from its start${settings.rolled === undefined ? '. Data appended to the old file after the last read may have been missed: set Rolling Filename Pattern to pick it up' : ', but no rotated file matching the pattern holds the old data'}`,
      );
    }
    return;
  }
  try {
    let position = current.position;
    // A rotated file no longer grows: everything left is emitted, the last partial line included.
    while (position < found.opened.size) {
      const end = await emitRange(session, context, settings, found.opened.handle, found.path, position, found.opened.size, true);
      if (end === position) break;
      position = end;
    }
  } finally {
    await found.opened.handle.close();
  }
}

async function findRotated(
  settings: TailSettings,
  current: Position,
  context: ProcessContext,
): Promise<{ path: string; opened: Opened } | undefined> {
  const directory = dirname(settings.path);
  const pattern = settings.rolled;
  if (pattern === undefined) return undefined;
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return undefined;
  }
  const candidates: Array<{ path: string; opened: Opened }> = [];
  for (const name of names) {
    if (!pattern.test(name) || join(directory, name) === settings.path) continue;
    let opened: Opened;
    try {
      opened = await openChecked(context.resolvePath(join(directory, name)));
    } catch {
      continue; // outside the allowed roots, a symlink, gone meanwhile
    }
    if (opened.identity === current.identity && opened.size >= current.position) {
      for (const c of candidates) await c.opened.handle.close();
      return { path: join(directory, name), opened };
    }
    if (
      current.fingerprint !== '' &&
      opened.size >= current.position &&
      (await fingerprint(opened.handle, current.position)) === current.fingerprint
    ) {
      candidates.push({ path: join(directory, name), opened });
    } else {
      await opened.handle.close();
    }
  }
  // Several copies with the same beginning: the longest holds the most of what was written.
  candidates.sort((a, b) => b.opened.size - a.opened.size);
  const [best, ...rest] = candidates;
  for (const c of rest) await c.opened.handle.close();
  return best;
}

/**
 * Emits bytes [from, size) of a file (up to the maximum; with complete lines, up to the last line
 * break unless `everything`) as one FlowFile. Returns the new position (`from` when nothing was emitted).
 */
async function emitRange(
  session: ProcessSession,
  context: ProcessContext,
  settings: TailSettings,
  handle: FileHandle,
  path: string,
  from: number,
  size: number,
  everything: boolean,
): Promise<number> {
  if (size <= from) return from;
  let end = Math.min(size, from + settings.maxBytes);
  if (settings.lines && !(everything && end === size)) {
    const lastBreak = await lastNewline(handle, from, end);
    if (lastBreak >= 0) end = lastBreak + 1;
    else if (end - from < settings.maxBytes)
      return from; // a partial line: wait for its line break
    else context.logger.warn(`${path}: a line longer than ${formatDataSize(settings.maxBytes)} was cut at ${end}`);
  }
  const name = basename(path);
  const extension = extname(name);
  let flowFile = session.create();
  flowFile = await session.writeStream(flowFile, handle.createReadStream({ start: from, end: end - 1, autoClose: false }));
  const read = from + flowFile.size;
  flowFile = session.putAllAttributes(flowFile, {
    filename: `${name.slice(0, name.length - extension.length)}.${from}-${read}${extension}`,
    'tailfile.original.path': path,
    'tailfile.position.start': String(from),
    'tailfile.position.end': String(read),
    ...(settings.lines ? { 'mime.type': 'text/plain' } : {}),
  });
  session.provenance.receive(flowFile, pathToFileURL(path).href);
  session.transfer(flowFile, 'success');
  // Truncated while being read: the position goes no further than what was really read.
  return from + flowFile.size;
}

/** Offset of the last line break in [from, end), or -1. */
async function lastNewline(handle: FileHandle, from: number, end: number): Promise<number> {
  const buffer = Buffer.alloc(Math.min(SCAN_CHUNK, end - from));
  for (let stop = end; stop > from; ) {
    const start = Math.max(from, stop - SCAN_CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, stop - start, start);
    const index = buffer.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (index >= 0) return start + index;
    stop = start;
  }
  return -1;
}

/** `crc:length` of the first min(length, 64 KiB) bytes; empty for an empty prefix. */
async function fingerprint(handle: FileHandle, length: number): Promise<string> {
  const size = Math.min(length, FINGERPRINT_BYTES);
  if (size === 0) return '';
  const buffer = Buffer.alloc(size);
  const { bytesRead } = await handle.read(buffer, 0, size, 0);
  return `${crc32(buffer.subarray(0, bytesRead))}:${bytesRead}`;
}

/** `app.log.*` as a whole-name regular expression (* any run of characters, ? one character). */
function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${escaped}$`);
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}
