import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, type FileHandle, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  choice,
  defineProcessor,
  type FlowFile,
  type LogLevel,
  type ProcessContext,
  type ProcessSession,
  PropertyValueError,
  string,
} from '@sluice/api';

const BATCH = 50;
const FAILURE_ATTRIBUTE = 'fetchfile.failure.reason';
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** Where a FlowFile goes when its file cannot be fetched, and why. */
class FetchProblem extends Error {
  constructor(
    readonly relationship: 'not.found' | 'permission.denied' | 'failure',
    message: string,
  ) {
    super(message);
  }
}

/** What to do with a fetched file once its FlowFile is committed. */
interface Completion {
  readonly source: string;
  readonly strategy: 'none' | 'move' | 'delete';
  /** For move: the resolved destination directory. */
  readonly destination?: string;
}

/** Reads the content of a file named by attributes into a FlowFile (NiFi's FetchFile). */
export const FetchFile = defineProcessor({
  type: 'FetchFile',
  description:
    'Replaces the content of each FlowFile with the bytes of the file its attributes name (by default ${absolute.path}/${filename}, as ListFile writes them), streamed, and records a FETCH event. Afterwards the file can be left, moved to a directory or deleted; that happens only once the FlowFile is durably committed, so a crash never loses a file. A missing file goes to not.found, one that may not be read (by the operating system, or because it is outside the directories file processors may use) to permission.denied, anything else (a directory, a failed read, a move that would conflict) to failure; fetchfile.failure.reason says why.',
  tags: ['local', 'files', 'filesystem', 'ingest', 'ingress', 'get', 'source', 'input', 'fetch'],
  input: 'required',
  restricted: 'reads, moves and deletes files on the Sluice host',
  seeAlso: ['ListFile', 'GetFile', 'PutFile'],
  properties: {
    fileToFetch: string({
      displayName: 'File to Fetch',
      description: 'The file to read (Expression Language per FlowFile; must be under an allowed root).',
      default: '${absolute.path}/${filename}',
      required: true,
      expression: 'flowfile',
    }),
    completionStrategy: choice(
      [
        { value: 'none', displayName: 'None', description: 'Leave the file where it is.' },
        { value: 'move', displayName: 'Move File', description: 'Move the file to Move Destination Directory.' },
        { value: 'delete', displayName: 'Delete File', description: 'Delete the file.' },
      ],
      {
        displayName: 'Completion Strategy',
        description: 'What happens to the file once its content is safely in the FlowFile.',
        default: 'none',
        required: true,
      },
    ),
    moveDestinationDirectory: string({
      displayName: 'Move Destination Directory',
      description:
        'Where files are moved (Expression Language per FlowFile; created when missing; must be under an allowed root).',
      expression: 'flowfile',
      dependsOn: { property: 'completionStrategy', values: ['move'] },
    }),
    moveConflictStrategy: choice(
      [
        {
          value: 'rename',
          displayName: 'Rename',
          description: 'Move it under a new name: a random UUID, a dash, then its name.',
        },
        { value: 'replace', displayName: 'Replace File', description: 'Replace the file already there.' },
        { value: 'keep', displayName: 'Keep Existing', description: 'Keep the file already there and delete the fetched one.' },
        { value: 'fail', displayName: 'Fail', description: 'Route to failure before fetching, and leave the file in place.' },
      ],
      {
        displayName: 'Move Conflict Strategy',
        description: 'What to do when a file of the same name is already in the move destination.',
        default: 'rename',
        required: true,
        dependsOn: { property: 'completionStrategy', values: ['move'] },
      },
    ),
    logLevelNotFound: choice([...LEVELS], {
      displayName: 'Log level when file not found',
      description: 'Level of the log line for a missing file (WARN and ERROR also show as bulletins).',
      default: 'ERROR',
      required: true,
    }),
    logLevelPermissionDenied: choice([...LEVELS], {
      displayName: 'Log level when permission denied',
      description: 'Level of the log line for a file that may not be read.',
      default: 'ERROR',
      required: true,
    }),
  },
  relationships: {
    success: "FlowFiles whose content is now the file's bytes",
    'not.found': 'FlowFiles whose file does not exist',
    'permission.denied':
      'FlowFiles whose file may not be read (operating system permissions, or outside the allowed directories)',
    failure: 'FlowFiles whose file could not be fetched for another reason; fetchfile.failure.reason says why',
  },
  writesAttributes: { [FAILURE_ATTRIBUTE]: 'Why the FlowFile was not fetched' },
  validate(context) {
    if (
      context.getProperty('completionStrategy').asString() === 'move' &&
      (context.getProperty('moveDestinationDirectory').raw ?? '') === ''
    ) {
      return ['property "moveDestinationDirectory": is required with the Move File completion strategy'];
    }
    return [];
  },
  async onTrigger(session, context) {
    const strategy = context.getProperty('completionStrategy').asString();
    const completions: Completion[] = [];
    for (const flowFile of session.getBatch(BATCH)) {
      try {
        const completion = await fetchOne(
          session,
          context,
          flowFile,
          strategy === 'move' ? 'move' : strategy === 'delete' ? 'delete' : 'none',
        );
        if (completion.strategy !== 'none') completions.push(completion);
      } catch (e) {
        if (!(e instanceof FetchProblem)) throw e;
        report(context, e, flowFile);
        session.transfer(session.penalize(session.putAttribute(flowFile, FAILURE_ATTRIBUTE, e.message)), e.relationship);
      }
    }
    if (completions.length === 0) return;
    // Only once the content is durable may the source go: a crash before this leaves the file in place.
    await session.commit();
    for (const completion of completions) await complete(context, completion);
  },
});

/** Streams one file into its FlowFile. @throws {FetchProblem} saying where the FlowFile goes. */
async function fetchOne(
  session: ProcessSession,
  context: ProcessContext,
  flowFile: FlowFile,
  strategy: Completion['strategy'],
): Promise<Completion> {
  let configured: string;
  let destinationConfigured: string | undefined;
  try {
    configured = context.getProperty('fileToFetch').evaluate(flowFile) ?? '';
    destinationConfigured = strategy === 'move' ? context.getProperty('moveDestinationDirectory').evaluate(flowFile) : undefined;
  } catch (e) {
    if (!(e instanceof PropertyValueError)) throw e;
    throw new FetchProblem('failure', e.message);
  }
  if (configured.trim() === '') throw new FetchProblem('failure', 'File to Fetch evaluated to an empty path');
  const source = guarded(context, configured);
  let destination: string | undefined;
  if (strategy === 'move') {
    if ((destinationConfigured ?? '').trim() === '')
      throw new FetchProblem('failure', 'Move Destination Directory evaluated to an empty path');
    destination = guarded(context, destinationConfigured ?? '');
    if (
      context.getProperty('moveConflictStrategy').asString() === 'fail' &&
      (await exists(join(destination, basename(source))))
    ) {
      throw new FetchProblem(
        'failure',
        `${join(destination, basename(source))} already exists (move conflict strategy is "fail"); the file was left in place`,
      );
    }
  }
  let handle: FileHandle;
  try {
    // The checked real path, never a symlink swapped in after the check; O_NONBLOCK keeps a FIFO
    // from blocking the open (it is then refused as not a regular file).
    handle = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw classify(e, source);
  }
  let fetched: FlowFile;
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new FetchProblem('failure', `${source} is not a regular file`);
    const started = Date.now();
    fetched = await session.writeStream(flowFile, handle.createReadStream({ autoClose: false }));
    session.provenance.fetch(fetched, pathToFileURL(source).href, { durationMs: Date.now() - started });
  } catch (e) {
    if (e instanceof FetchProblem) throw e;
    throw new FetchProblem('failure', `could not read ${source}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await handle.close();
  }
  session.transfer(fetched, 'success');
  return destination === undefined ? { source, strategy } : { source, strategy, destination };
}

/** Resolves a path through the allowed roots. @throws {FetchProblem} permission.denied outside them. */
function guarded(context: ProcessContext, path: string): string {
  try {
    return context.resolvePath(path);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new FetchProblem(/outside the directories/.test(message) ? 'permission.denied' : 'failure', message);
  }
}

function classify(e: unknown, path: string): FetchProblem {
  const code = errorCode(e);
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FetchProblem('not.found', `${path} does not exist`);
  if (code === 'EACCES' || code === 'EPERM') return new FetchProblem('permission.denied', `${path} may not be read (${code})`);
  if (code === 'ELOOP') return new FetchProblem('failure', `${path} was replaced by a symbolic link while being fetched`);
  return new FetchProblem('failure', `could not open ${path}: ${e instanceof Error ? e.message : String(e)}`);
}

function report(context: ProcessContext, problem: FetchProblem, flowFile: FlowFile): void {
  const property =
    problem.relationship === 'not.found'
      ? 'logLevelNotFound'
      : problem.relationship === 'permission.denied'
        ? 'logLevelPermissionDenied'
        : undefined;
  const configured = property === undefined ? 'WARN' : context.getProperty(property).asString();
  const level: LogLevel = LEVELS.find((l) => l === configured) ?? 'ERROR';
  const message = `FlowFile ${flowFile.uuid} went to ${problem.relationship}: ${problem.message}`;
  if (level === 'TRACE') context.logger.trace(message);
  else if (level === 'DEBUG') context.logger.debug(message);
  else if (level === 'INFO') context.logger.info(message);
  else if (level === 'WARN') context.logger.warn(message);
  else context.logger.error(message);
}

/** Moves or deletes a fetched file; a failure is only reported, since the FlowFile is already committed. */
async function complete(context: ProcessContext, completion: Completion): Promise<void> {
  const { source } = completion;
  try {
    if (completion.strategy === 'delete') {
      await unlink(source);
      return;
    }
    const directory = completion.destination;
    if (directory === undefined) return;
    await mkdir(directory, { recursive: true });
    const name = basename(source);
    const conflict = context.getProperty('moveConflictStrategy').asString() ?? 'rename';
    if (conflict === 'replace') {
      await moveReplacing(source, join(directory, name));
      return;
    }
    if (await moveIfAbsent(source, join(directory, name))) return;
    if (conflict === 'keep') await unlink(source);
    else if (conflict === 'rename') await moveIfAbsent(source, join(directory, `${randomUUID()}-${name}`));
    else context.logger.warn(`fetched ${source} but ${join(directory, name)} appeared meanwhile; the file was left in place`);
  } catch (e) {
    context.logger.warn(`fetched ${source} but could not ${completion.strategy} it`, e);
  }
}

/** Moves without ever replacing a file (link, then unlink); false when the target exists. */
async function moveIfAbsent(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
  } catch (e) {
    if (errorCode(e) === 'EEXIST') return false;
    if (errorCode(e) !== 'EXDEV') throw e;
    // Another file system: copy (refusing to replace), then remove the source.
    try {
      await copyFile(source, target, constants.COPYFILE_EXCL);
    } catch (copyError) {
      if (errorCode(copyError) === 'EEXIST') return false;
      throw copyError;
    }
  }
  await unlink(source);
  return true;
}

async function moveReplacing(source: string, target: string): Promise<void> {
  try {
    await rename(source, target);
  } catch (e) {
    if (errorCode(e) !== 'EXDEV') throw e;
    await copyFile(source, target);
    await unlink(source);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}
