import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoreAttributes,
  choice,
  dataSize,
  defineProcessor,
  FLOWFILE_V3_MIME_TYPE,
  type FlowFile,
  formatDataSize,
  integer,
  type ProcessContext,
  type ProcessSession,
  string,
  timePeriod,
} from '@sluice/api';
import { type Bin, type FailedGroup, type Plan, planBinPacking, planDefragment, type ReadyBin } from './bins.ts';
import { flowFileStreamV3, zipArchive, zipEntryNames } from './formats.ts';

/** At most this many waiting FlowFiles are looked at per trigger (bins larger than the queue cannot form anyway). */
const MAX_SCAN = 100_000;
/** Work per trigger: bins merged stop being added past this many FlowFiles (the first bin is always taken)... */
const MAX_ENTRIES_PER_TRIGGER = 20_000;
/** ...or this many bins. */
const MAX_BINS_PER_TRIGGER = 100;
/** With nothing to merge, a trigger waits this long for new input (or a bin's deadline) before returning. */
const IDLE_WAIT_MS = 100;
/** How often the waiting FlowFiles are looked at again even when the queue seems unchanged. */
const RESCAN_MS = 1000;
/** A header, footer or demarcator file larger than this is refused. */
const MAX_DELIMITER_FILE = 10 * 1024 * 1024;

const BINARY = 'Binary Concatenation';
const FLOWFILE_V3 = 'FlowFile Stream, v3';
const ZIP = 'ZIP';

/** What a running MergeContent remembers between triggers (nothing that a restart could lose). */
interface MergeState {
  /** When each waiting FlowFile was first seen (bin ages count from here). */
  seen: Map<string, number>;
  /** The input queue's count and bytes at the last look, to skip looking again when nothing changed. */
  signature: string;
  scannedAt: number;
  nextDeadline: number | undefined;
}

/** Merges groups of FlowFiles into one (NiFi's MergeContent): bin packing or defragmenting, in three formats. */
export const MergeContent = defineProcessor({
  type: 'MergeContent',
  description:
    "Merges FlowFiles into bundles. Bin-Packing groups FlowFiles (by a correlation attribute, if set) into bins, merged when full (Maximum Number of Entries or Maximum Group Size), when they meet both minimums and no more input is waiting, when older than Max Bin Age, or (the oldest) when Maximum number of Bins is reached. Defragment rebuilds what a split made, by fragment.identifier, fragment.index and fragment.count; a bundle incomplete after Max Bin Age goes to failure. Formats: binary concatenation (optional header, footer and demarcator, as text or from files), FlowFile Stream v3 (attributes kept, NiFi-compatible) and ZIP (entries named by filename). Waiting FlowFiles stay in the input queue until their bin is merged, in the same transaction as the merged FlowFile: stopping, restarting or a crash never loses or duplicates one (bin ages start again after a restart). So a bin can only be as large as the incoming connection's back-pressure threshold lets the queue grow: set the threshold above Minimum Number of Entries / Minimum Group Size.",
  tags: ['merge', 'bin', 'bundle', 'defragment', 'zip', 'flowfile-stream', 'concatenation', 'archive'],
  input: 'required',
  properties: {
    mergeStrategy: choice(
      [
        { value: 'Bin-Packing Algorithm', displayName: 'Bin-Packing Algorithm', description: 'Bundle by count, size and age.' },
        {
          value: 'Defragment',
          displayName: 'Defragment',
          description: 'Rebuild split content from the fragment.identifier, fragment.index and fragment.count attributes.',
        },
      ],
      {
        displayName: 'Merge Strategy',
        description: 'How FlowFiles are grouped.',
        default: 'Bin-Packing Algorithm',
        required: true,
      },
    ),
    mergeFormat: choice(
      [
        { value: BINARY, displayName: BINARY, description: 'Contents one after another (with optional delimiters).' },
        { value: FLOWFILE_V3, displayName: FLOWFILE_V3, description: 'NiFi FlowFile packaging v3: attributes and content.' },
        { value: ZIP, displayName: ZIP, description: 'A ZIP archive, one entry per FlowFile, named by its filename.' },
      ],
      { displayName: 'Merge Format', description: 'The format of the merged content.', default: BINARY, required: true },
    ),
    attributeStrategy: choice(
      [
        {
          value: 'Keep Only Common Attributes',
          displayName: 'Keep Only Common Attributes',
          description: 'Attributes present with the same value on every merged FlowFile.',
        },
        {
          value: 'Keep All Unique Attributes',
          displayName: 'Keep All Unique Attributes',
          description: 'Every attribute of any merged FlowFile, except those whose values conflict.',
        },
      ],
      {
        displayName: 'Attribute Strategy',
        description: 'Which attributes the merged FlowFile gets.',
        default: 'Keep Only Common Attributes',
        required: true,
      },
    ),
    correlationAttribute: string({
      displayName: 'Correlation Attribute Name',
      description: 'FlowFiles with the same value of this attribute are merged together (those without it, together).',
      dependsOn: { property: 'mergeStrategy', values: ['Bin-Packing Algorithm'] },
    }),
    minEntries: integer({
      displayName: 'Minimum Number of Entries',
      description: 'A bin is merged without being full only once it has this many FlowFiles (or after Max Bin Age).',
      default: '1',
      min: 1,
      required: true,
      dependsOn: { property: 'mergeStrategy', values: ['Bin-Packing Algorithm'] },
    }),
    maxEntries: integer({
      displayName: 'Maximum Number of Entries',
      description:
        'A bin with this many FlowFiles is full. Bins are formed from the FlowFiles waiting in the incoming queue, so a bin larger than what the queue can hold (its back-pressure threshold, 10,000 by default) only merges by age.',
      default: '1000',
      min: 1,
      required: true,
      dependsOn: { property: 'mergeStrategy', values: ['Bin-Packing Algorithm'] },
    }),
    minSize: dataSize({
      displayName: 'Minimum Group Size',
      description: 'A bin is merged without being full only once its contents total this much (or after Max Bin Age).',
      default: '0 B',
      min: 0,
      required: true,
      dependsOn: { property: 'mergeStrategy', values: ['Bin-Packing Algorithm'] },
    }),
    maxSize: dataSize({
      displayName: 'Maximum Group Size',
      description: 'A bin whose contents total this much is full; a FlowFile that would take it past this starts another.',
      min: 1,
      dependsOn: { property: 'mergeStrategy', values: ['Bin-Packing Algorithm'] },
    }),
    maxBinAge: timePeriod({
      displayName: 'Max Bin Age',
      description:
        'A bin this old is merged even if below the minimums; in Defragment, an incomplete bundle this old goes to failure. Empty: bins wait indefinitely.',
      min: 1,
    }),
    maxBins: integer({
      displayName: 'Maximum number of Bins',
      description:
        'Bins open at once; when another is needed, the oldest is merged as it is (in Defragment, it goes to failure).',
      default: '5',
      min: 1,
      max: 100_000,
      required: true,
    }),
    delimiterStrategy: choice(
      [
        { value: 'Do Not Use Delimiters', displayName: 'Do Not Use Delimiters' },
        { value: 'Text', displayName: 'Text', description: 'Header, Footer and Demarcator are the text itself.' },
        {
          value: 'Filename',
          displayName: 'Filename',
          description: 'Header, Footer and Demarcator are paths of files to insert.',
        },
      ],
      {
        displayName: 'Delimiter Strategy',
        description: 'Whether and how Header, Footer and Demarcator are given (Binary Concatenation only).',
        default: 'Do Not Use Delimiters',
        required: true,
        dependsOn: { property: 'mergeFormat', values: [BINARY] },
      },
    ),
    header: string({
      displayName: 'Header',
      description: 'Inserted before the merged contents (Expression Language against the first FlowFile of the bin).',
      expression: 'flowfile',
      dependsOn: { property: 'delimiterStrategy', values: ['Text', 'Filename'] },
    }),
    footer: string({
      displayName: 'Footer',
      description: 'Added after the merged contents (Expression Language against the first FlowFile of the bin).',
      expression: 'flowfile',
      dependsOn: { property: 'delimiterStrategy', values: ['Text', 'Filename'] },
    }),
    demarcator: string({
      displayName: 'Demarcator',
      description: 'Inserted between contents (Expression Language against the first FlowFile of the bin).',
      expression: 'flowfile',
      dependsOn: { property: 'delimiterStrategy', values: ['Text', 'Filename'] },
    }),
    compressionLevel: integer({
      displayName: 'Compression Level',
      description: 'ZIP: 0 stores entries uncompressed, 1 (fastest) to 9 (smallest) deflates them.',
      default: '1',
      min: 0,
      max: 9,
      required: true,
      dependsOn: { property: 'mergeFormat', values: [ZIP] },
    }),
  },
  relationships: {
    merged: 'The merged FlowFiles',
    original: 'The FlowFiles that were merged',
    failure:
      'FlowFiles that could not be merged (a Defragment bundle incomplete or inconsistent, unreadable content, a delimiter file missing); merge.failure.reason says why',
  },
  readsAttributes: {
    'fragment.identifier': 'Defragment: which bundle a FlowFile belongs to',
    'fragment.index': 'Defragment: its position in the bundle',
    'fragment.count': 'Defragment: how many FlowFiles the bundle has',
    'segment.original.filename': 'Defragment: the filename of the merged FlowFile',
  },
  writesAttributes: {
    'merge.count': 'Merged: how many FlowFiles it holds',
    'merge.bin.age': 'Merged: how long its bin waited, in ms',
    'merge.reason': 'Merged: why the bin was merged (MAX_ENTRIES_THRESHOLD_REACHED, MIN_THRESHOLDS_REACHED, TIMEOUT...)',
    'merge.uuid': 'Originals: the uuid of the FlowFile they were merged into',
    filename: "Merged: segment.original.filename (Defragment), else the single entry's name or the new uuid; .zip / .pkg added",
    'mime.type': 'Merged: application/zip or application/flowfile-v3 (binary keeps a common mime.type)',
    'merge.failure.reason': 'Failure: why',
  },
  triggerSerially: true,
  validate(context) {
    const problems: string[] = [];
    const num = (name: 'minEntries' | 'maxEntries'): number => Number(context.getProperty(name).raw ?? Number.NaN);
    if (context.getProperty('mergeStrategy').raw !== 'Defragment') {
      if (num('minEntries') > num('maxEntries')) {
        problems.push(
          `Minimum Number of Entries (${num('minEntries')}) is above Maximum Number of Entries (${num('maxEntries')})`,
        );
      }
      const min = context.getProperty('minSize').asDataSize() ?? 0;
      const max = context.getProperty('maxSize').asDataSize();
      if (max !== undefined && min > max) {
        problems.push(`Minimum Group Size (${formatDataSize(min)}) is above Maximum Group Size (${formatDataSize(max)})`);
      }
    }
    return problems;
  },
  onScheduled(): MergeState {
    return { seen: new Map(), signature: '', scannedAt: 0, nextDeadline: undefined };
  },
  async onTrigger(session, context, state) {
    const now = Date.now();
    const signature = queueSignature(session);
    const due = state.nextDeadline !== undefined && now >= state.nextDeadline;
    if (signature === state.signature && !due && now - state.scannedAt < RESCAN_MS) {
      await idle(session, context, state, signature);
      return;
    }
    const plan = look(session, context, state, now);
    state.signature = signature;
    const { ready, failed } = choose(plan);
    if (ready.length === 0 && failed.length === 0) {
      await idle(session, context, state, signature);
      return;
    }
    // Take exactly the FlowFiles of the chosen bins; everything else stays queued (and accounted for).
    const wanted = new Set<string>();
    for (const r of ready) for (const f of r.bin.entries) wanted.add(f.uuid);
    for (const g of failed) for (const f of g.entries) wanted.add(f.uuid);
    const taken = new Map<string, FlowFile>();
    for (const f of session.getBatch(wanted.size, (candidate) => ({ accept: wanted.has(candidate.uuid), continue: true }))) {
      taken.set(f.uuid, f);
      state.seen.delete(f.uuid);
    }
    // The queue changed under us (our own take): look again on the next trigger.
    state.signature = '';
    const present = (entries: readonly FlowFile[]): FlowFile[] =>
      entries.flatMap((f) => {
        const t = taken.get(f.uuid);
        return t === undefined ? [] : [t];
      });
    let failures = 0;
    for (const group of failed) {
      for (const f of present(group.entries)) {
        session.transfer(session.penalize(session.putAttribute(f, 'merge.failure.reason', group.reason)), 'failure');
        failures++;
      }
    }
    // One bulletin per trigger, not one per FlowFile: a stream of unfragmented input would flood them.
    if (failures > 0) context.logger.warn(`${failures} FlowFile(s) sent to failure; the first: ${failed[0]?.reason ?? ''}`);
    const settings = readSettings(context);
    for (const r of ready) {
      const entries = present(r.bin.entries);
      if (entries.length === 0) continue;
      if (entries.length < r.bin.entries.length && settings.defragment) {
        // A fragment vanished from the queue (expired, emptied) between looking and taking: wait for
        // the bundle's deadline instead of merging an incomplete bundle.
        session.transfer(entries);
        continue;
      }
      await mergeBin(session, context, settings, { ...r.bin, entries }, r.reason, now);
    }
  },
});

interface Settings {
  readonly defragment: boolean;
  readonly format: string;
  readonly keepAllUnique: boolean;
  readonly delimiters: string;
  readonly level: number;
}

function readSettings(context: ProcessContext): Settings {
  return {
    defragment: context.getProperty('mergeStrategy').asString() === 'Defragment',
    format: context.getProperty('mergeFormat').asString() ?? BINARY,
    keepAllUnique: context.getProperty('attributeStrategy').asString() === 'Keep All Unique Attributes',
    delimiters: context.getProperty('delimiterStrategy').asString() ?? 'Do Not Use Delimiters',
    level: context.getProperty('compressionLevel').asInteger() ?? 1,
  };
}

function queueSignature(session: ProcessSession): string {
  const size = session.queueSize();
  return `${size.count}:${size.bytes}`;
}

/**
 * Waits (without holding anything) until the input queue changes, the next bin deadline passes, the
 * processor is stopped, or a short while: the FlowFiles waiting in the queue keep the processor
 * triggered, and this keeps that from spinning.
 */
async function idle(session: ProcessSession, context: ProcessContext, state: MergeState, signature: string): Promise<void> {
  const until = Math.min(Date.now() + IDLE_WAIT_MS, state.nextDeadline ?? Number.POSITIVE_INFINITY);
  while (Date.now() < until && context.isScheduled()) {
    await sleep(Math.max(1, Math.min(10, until - Date.now())));
    if (queueSignature(session) !== signature) return;
  }
}

/** Looks at every FlowFile waiting (taking none) and plans the bins. */
function look(session: ProcessSession, context: ProcessContext, state: MergeState, now: number): Plan {
  const waiting: FlowFile[] = [];
  session.getBatch(MAX_SCAN, (f) => {
    waiting.push(f);
    return { accept: false, continue: waiting.length < MAX_SCAN };
  });
  const seen = new Map<string, number>();
  for (const f of waiting) seen.set(f.uuid, state.seen.get(f.uuid) ?? now);
  state.seen = seen;
  state.scannedAt = now;
  const seenAt = (f: FlowFile): number => seen.get(f.uuid) ?? now;
  const maxBinAgeMs = context.getProperty('maxBinAge').asTimePeriod();
  const maxBins = context.getProperty('maxBins').asInteger() ?? 5;
  let plan: Plan;
  if (context.getProperty('mergeStrategy').asString() === 'Defragment') {
    plan = planDefragment(waiting, { maxBinAgeMs, maxBins }, seenAt, now);
  } else {
    const correlation = context.getProperty('correlationAttribute').asString() ?? '';
    plan = planBinPacking(
      waiting,
      {
        minEntries: context.getProperty('minEntries').asInteger() ?? 1,
        maxEntries: context.getProperty('maxEntries').asInteger() ?? 1000,
        minBytes: context.getProperty('minSize').asDataSize() ?? 0,
        maxBytes: context.getProperty('maxSize').asDataSize(),
        maxBinAgeMs,
        maxBins,
      },
      // A missing attribute is its own group (the key cannot collide with a value: values have no prefix).
      correlation === ''
        ? () => ''
        : (f) => {
            const value = f.getAttribute(correlation);
            return value === undefined ? '\u0000none' : `=${value}`;
          },
      seenAt,
      now,
    );
  }
  state.nextDeadline = plan.nextDeadline;
  return plan;
}

/** The work of one trigger: bounded, but always at least one bin or failed group. */
function choose(plan: Plan): { ready: ReadyBin[]; failed: FailedGroup[] } {
  const ready: ReadyBin[] = [];
  const failed: FailedGroup[] = [];
  let entries = 0;
  const room = (n: number, count: number): boolean =>
    count === 0 || (entries + n <= MAX_ENTRIES_PER_TRIGGER && count < MAX_BINS_PER_TRIGGER);
  for (const group of plan.failed) {
    if (!room(group.entries.length, failed.length)) break;
    failed.push(group);
    entries += group.entries.length;
  }
  for (const r of plan.ready) {
    if (!room(r.bin.entries.length, ready.length + failed.length)) break;
    ready.push(r);
    entries += r.bin.entries.length;
  }
  return { ready, failed };
}

/** Merges one bin: the merged FlowFile (JOIN) to merged, the entries to original; or all to failure. */
async function mergeBin(
  session: ProcessSession,
  context: ProcessContext,
  settings: Settings,
  bin: Bin,
  reason: string,
  now: number,
): Promise<void> {
  const entries = bin.entries;
  const first = entries[0];
  if (first === undefined) return;
  // create(parents) keeps the attributes common to all (Keep Only Common Attributes) and records JOIN.
  let merged = session.create(entries);
  try {
    merged = await writeContent(session, context, settings, entries, merged);
  } catch (e) {
    session.remove(merged);
    const problem = `could not merge ${entries.length} FlowFile(s): ${e instanceof Error ? e.message : String(e)}`;
    context.logger.warn(problem);
    for (const f of entries)
      session.transfer(session.penalize(session.putAttribute(f, 'merge.failure.reason', problem)), 'failure');
    return;
  }
  const attributes = settings.keepAllUnique ? uniqueAttributes(entries) : new Map<string, string>();
  attributes.set('merge.count', String(entries.length));
  attributes.set('merge.bin.age', String(Math.max(0, now - bin.created)));
  attributes.set('merge.reason', reason);
  const extension = settings.format === ZIP ? '.zip' : settings.format === FLOWFILE_V3 ? '.pkg' : '';
  const original = settings.defragment ? first.getAttribute('segment.original.filename') : undefined;
  const single = entries.length === 1 ? first.getAttribute(CoreAttributes.FILENAME) : undefined;
  attributes.set(CoreAttributes.FILENAME, `${original ?? single ?? merged.uuid}${extension}`);
  if (settings.format === ZIP) attributes.set(CoreAttributes.MIME_TYPE, 'application/zip');
  if (settings.format === FLOWFILE_V3) attributes.set(CoreAttributes.MIME_TYPE, FLOWFILE_V3_MIME_TYPE);
  merged = session.putAllAttributes(merged, attributes);
  session.transfer(merged, 'merged');
  for (const f of entries) session.transfer(session.putAttribute(f, 'merge.uuid', merged.uuid), 'original');
}

async function writeContent(
  session: ProcessSession,
  context: ProcessContext,
  settings: Settings,
  entries: readonly FlowFile[],
  merged: FlowFile,
): Promise<FlowFile> {
  if (settings.format === FLOWFILE_V3) return session.writeStream(merged, flowFileStreamV3(session, entries));
  if (settings.format === ZIP) {
    return session.writeStream(merged, zipArchive(session, entries, zipEntryNames(entries), settings.level));
  }
  if (settings.delimiters === 'Do Not Use Delimiters') return session.merge(entries, merged);
  const first = entries[0];
  const delimiter = async (name: 'header' | 'footer' | 'demarcator'): Promise<Uint8Array | undefined> => {
    const value = context.getProperty(name).evaluate(first);
    if (value === undefined || value === '') return undefined;
    if (settings.delimiters === 'Text') return Buffer.from(value, 'utf8');
    const path = context.resolvePath(value);
    const info = await stat(path);
    if (info.size > MAX_DELIMITER_FILE) {
      throw new Error(
        `the ${name} file ${path} is ${formatDataSize(info.size)}, more than ${formatDataSize(MAX_DELIMITER_FILE)}`,
      );
    }
    return readFile(path);
  };
  const [header, footer, demarcator] = await Promise.all([delimiter('header'), delimiter('footer'), delimiter('demarcator')]);
  return session.merge(entries, merged, {
    ...(header === undefined ? {} : { header }),
    ...(footer === undefined ? {} : { footer }),
    ...(demarcator === undefined ? {} : { demarcator }),
  });
}

/** Every attribute of any entry whose value no other entry contradicts (uuid aside). */
function uniqueAttributes(entries: readonly FlowFile[]): Map<string, string> {
  const out = new Map<string, string>();
  const conflicting = new Set<string>();
  for (const f of entries) {
    for (const [key, value] of f.attributes) {
      if (key === CoreAttributes.UUID || conflicting.has(key)) continue;
      const existing = out.get(key);
      if (existing === undefined) out.set(key, value);
      else if (existing !== value) {
        out.delete(key);
        conflicting.add(key);
      }
    }
  }
  return out;
}
