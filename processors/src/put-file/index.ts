import { createWriteStream } from 'node:fs';
import { link, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { boolean, choice, defineProcessor, type FlowFile, integer, type ProcessSession, string } from '@sluice/api';

const IN_MEMORY_LIMIT = 1024 * 1024;

/** Writes FlowFile content to files in a directory (NiFi's PutFile). */
export const PutFile = defineProcessor({
  type: 'PutFile',
  description:
    'Writes each FlowFile\'s content to a file named by its filename attribute in a directory. Files appear atomically: the content is written to .<uuid>.partial in the same directory, then renamed (or linked, so an existing file is never replaced unless the strategy is replace). A filename that is not a plain file name (empty, ".", "..", containing / or \\ or NUL) goes to failure.',
  tags: ['local', 'files', 'filesystem', 'put', 'egress', 'archive'],
  input: 'required',
  restricted: 'writes files on the Sluice host',
  properties: {
    directory: string({
      displayName: 'Directory',
      description: 'Where to write (Expression Language per FlowFile; must be under an allowed root).',
      required: true,
      expression: 'flowfile',
    }),
    conflictResolution: choice(
      [
        { value: 'fail', displayName: 'fail', description: 'Route to failure when a file of that name exists.' },
        { value: 'replace', displayName: 'replace', description: 'Replace the existing file.' },
        { value: 'ignore', displayName: 'ignore', description: 'Leave the existing file and route to success.' },
      ],
      {
        displayName: 'Conflict Resolution Strategy',
        description: 'What to do when the file already exists.',
        default: 'fail',
        required: true,
      },
    ),
    createMissingDirectories: boolean({
      displayName: 'Create Missing Directories',
      description: 'Create the directory (and parents) when missing.',
      default: 'true',
    }),
    batchSize: integer({
      displayName: 'Batch Size',
      description: 'FlowFiles written per trigger (written in parallel).',
      default: '100',
      min: 1,
      max: 10_000,
    }),
  },
  relationships: {
    success: 'FlowFiles whose content was written (or left alone under "ignore")',
    failure: 'FlowFiles that could not be written; the attribute putfile.failure.reason says why',
  },
  writesAttributes: { 'putfile.failure.reason': 'Why the FlowFile went to failure' },
  async onTrigger(session, context) {
    const flowFiles = session.getBatch(context.getProperty('batchSize').asInteger() ?? 100);
    if (flowFiles.length === 0) return;
    const strategy = context.getProperty('conflictResolution').asString() ?? 'fail';
    const createDirectories = context.getProperty('createMissingDirectories').asBoolean() !== false;
    // One path check per directory per batch (a realpath walk), not one per FlowFile.
    const resolved = new Map<string, string>();
    const resolve = (configured: string): string => {
      let directory = resolved.get(configured);
      if (directory === undefined) {
        directory = context.resolvePath(configured);
        resolved.set(configured, directory);
      }
      return directory;
    };
    const outcomes = await Promise.all(
      flowFiles.map(async (flowFile): Promise<Outcome> => {
        try {
          return await put(session, context, flowFile, strategy, createDirectories, resolve);
        } catch (e) {
          return { flowFile, error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
    for (const outcome of outcomes) {
      if (outcome.error !== undefined) {
        context.logger.warn(`could not write FlowFile ${outcome.flowFile.uuid}: ${outcome.error}`);
        const failed = session.penalize(session.putAttribute(outcome.flowFile, 'putfile.failure.reason', outcome.error));
        session.transfer(failed, 'failure');
        continue;
      }
      if (outcome.target !== undefined) session.provenance.send(outcome.flowFile, pathToFileURL(outcome.target).href);
      session.transfer(outcome.flowFile, 'success');
    }
    // Durable before the next batch: a crash re-writes at most this one batch.
    await session.commit();
  },
});

/** What happened to one FlowFile: written to `target`, left alone (ignore), or an error. */
interface Outcome {
  readonly flowFile: FlowFile;
  readonly target?: string;
  readonly error?: string;
}

async function put(
  session: ProcessSession,
  context: Parameters<typeof PutFile.onTrigger>[1],
  flowFile: FlowFile,
  strategy: string,
  createDirectories: boolean,
  resolve: (configured: string) => string,
): Promise<Outcome> {
  const name = flowFile.getAttribute('filename') ?? flowFile.uuid;
  const problem = badFilename(name);
  if (problem !== undefined) return { flowFile, error: problem };
  const configured = context.getProperty('directory').evaluate(flowFile) ?? '';
  // An expression over a missing attribute gives "", which would otherwise mean the working directory.
  if (configured.trim() === '') return { flowFile, error: 'Directory evaluated to an empty path' };
  const directory = resolve(configured);
  const target = join(directory, name);
  // Short and unique (a long filename plus a suffix could exceed NAME_MAX); the leading dot keeps
  // it out of GetFile's default filter while it is written.
  const temporary = join(directory, `.${flowFile.uuid}.partial`);
  let removedLeftover = false;
  let createdDirectory = false;
  for (;;) {
    try {
      await writeTemporary(session, flowFile, temporary);
      break;
    } catch (e) {
      const code = errorCode(e);
      if (code === 'EEXIST' && !removedLeftover) {
        // This FlowFile's own temporary name: an earlier attempt was cut short by a crash.
        removedLeftover = true;
        await unlink(temporary);
        continue;
      }
      if (code === 'ENOENT' && !createdDirectory) {
        if (!createDirectories)
          return { flowFile, error: `directory ${directory} does not exist (Create Missing Directories is false)` };
        createdDirectory = true;
        await mkdir(directory, { recursive: true });
        continue;
      }
      throw e;
    }
  }
  try {
    if (strategy === 'replace') {
      await rename(temporary, target);
      return { flowFile, target };
    }
    // link() refuses to replace an existing file: an atomic "create only if absent".
    try {
      await link(temporary, target);
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw e;
      return strategy === 'ignore'
        ? { flowFile }
        : { flowFile, error: `${target} already exists (conflict resolution is "fail")` };
    }
    return { flowFile, target };
  } finally {
    // After rename() the temporary name is gone already; after link() or a failure it must go.
    await unlink(temporary).catch(() => undefined);
  }
}

/**
 * Writes the content under the temporary name. `wx` refuses an existing file or symlink there
 * instead of following it; a failed write removes what it wrote, so no partial file is left.
 */
async function writeTemporary(session: ProcessSession, flowFile: FlowFile, temporary: string): Promise<void> {
  try {
    if (flowFile.size <= IN_MEMORY_LIMIT) await writeFile(temporary, session.read(flowFile), { flag: 'wx' });
    else await pipeline(session.readStream(flowFile), createWriteStream(temporary, { flags: 'wx' }));
  } catch (e) {
    if (errorCode(e) !== 'EEXIST') await unlink(temporary).catch(() => undefined);
    throw e;
  }
}

/** Why a filename attribute cannot name a file in the directory (it would escape it or is no name at all). */
function badFilename(name: string): string | undefined {
  // JSON quoting shows a NUL or control character as an escape instead of putting it in the reason.
  const shown = JSON.stringify(name);
  if (name === '' || name === '.' || name === '..') return `filename ${shown} is not a file name`;
  if (name.includes('/') || name.includes('\\')) return `filename ${shown} contains a path separator`;
  if (name.includes('\0')) return `filename ${shown} contains a NUL byte`;
  return undefined;
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}
