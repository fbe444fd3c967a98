import {
  choice,
  defineProcessor,
  type FlowFile,
  type ProcessContext,
  type ProcessSession,
  PropertyValueError,
  service,
  string,
  timePeriod,
} from '@sluice/api';
import { MAP_CACHE_API, type MapCache } from '../distributed-map-cache/index.ts';
import { CONSUMED_COUNTER, countOf, formatSignal, parseSignal, type Signal } from '../notify/signal.ts';

const BATCH = 100;
const START_ATTRIBUTE = 'wait.start.timestamp';
const COUNTER_PREFIX = 'wait.counter.';
const FAILURE_ATTRIBUTE = 'wait.failure.reason';
/** Compare-and-set attempts for one signal per trigger before its FlowFiles simply wait again. */
const MAX_ATTEMPTS = 5;

/** The FlowFiles of one trigger that wait for the same signal under the same terms. */
interface Group {
  readonly id: string;
  readonly counter: string | undefined;
  readonly target: number;
  readonly releasable: number;
  readonly flowFiles: FlowFile[];
}

/** Holds FlowFiles until a release signal reaches a count (NiFi's Wait). */
export const Wait = defineProcessor({
  type: 'Wait',
  description:
    "Holds each FlowFile until the release signal Release Signal Identifier, counted up by Notify in the same map cache, reaches Target Signal Count (on the counter Signal Counter Name, or all counters together when it is empty); then it goes to success with the signal's counters in wait.counter.<name> and its stored attributes. Each time the target is reached, Releasable FlowFile Count FlowFiles may go (0: every FlowFile, as long as the count is reached) and the target is taken off the counter; a signal used up is removed from the cache. A waiting FlowFile goes back to the incoming queue, penalized (set the penalty duration to how often it should look again), with wait.start.timestamp; after Expiration Duration it goes to expired. An identifier that evaluates to nothing, a target that is not a whole number, or a cache entry that is not a signal sends it to failure with the reason in wait.failure.reason.",
  tags: ['map', 'cache', 'wait', 'hold', 'distributed', 'signal', 'release'],
  input: 'required',
  seeAlso: ['Notify', 'DistributedMapCache'],
  properties: {
    releaseSignalIdentifier: string({
      displayName: 'Release Signal Identifier',
      description: 'The signal to wait for (Expression Language per FlowFile), e.g. ${fragment.identifier}.',
      required: true,
      expression: 'flowfile',
    }),
    targetSignalCount: string({
      displayName: 'Target Signal Count',
      description: 'The count the signal must reach, a whole number of 1 or more (Expression Language per FlowFile).',
      default: '1',
      required: true,
      expression: 'flowfile',
      validate: (value) => wholeNumberProblem(value, 1),
    }),
    signalCounterName: string({
      displayName: 'Signal Counter Name',
      description: 'The counter compared with the target; all counters together when empty (Expression Language per FlowFile).',
      expression: 'flowfile',
    }),
    releasableFlowFileCount: string({
      displayName: 'Releasable FlowFile Count',
      description:
        'FlowFiles released each time the target is reached; 0 releases every waiting FlowFile while the count is reached, without using the signal up (Expression Language per FlowFile).',
      default: '1',
      required: true,
      expression: 'flowfile',
      validate: (value) => wholeNumberProblem(value, 0),
    }),
    expirationDuration: timePeriod({
      displayName: 'Expiration Duration',
      description: 'A FlowFile waiting longer than this goes to expired.',
      default: '10 min',
      required: true,
      min: 1,
    }),
    attributeCopyMode: choice(
      [
        {
          value: 'replace',
          displayName: 'Replace if present',
          description: "The signal's attributes overwrite the FlowFile's attributes of the same name.",
        },
        {
          value: 'keeporiginal',
          displayName: 'Keep original',
          description: 'The FlowFile keeps its own value where both have an attribute.',
        },
      ],
      {
        displayName: 'Attribute Copy Mode',
        description: 'How the attributes stored with the signal are copied onto released FlowFiles.',
        default: 'keeporiginal',
        required: true,
      },
    ),
    cacheService: service(MAP_CACHE_API, {
      displayName: 'Distributed Cache Service',
      description: 'The map cache holding signals; the Notify processors must use the same one.',
      required: true,
    }),
  },
  relationships: {
    success: 'FlowFiles released by their signal',
    expired: 'FlowFiles that waited longer than Expiration Duration',
    failure: 'FlowFiles whose signal could not be read; wait.failure.reason says why',
  },
  writesAttributes: {
    [START_ATTRIBUTE]: 'When the FlowFile started waiting (epoch ms); removed on release',
    'wait.counter.<name>': 'On release: each counter of the signal as it was before this release used it, and wait.counter.total',
    [FAILURE_ATTRIBUTE]: 'Why the FlowFile went to failure',
  },
  defaultSchedule: { penaltyDuration: '1 sec' },
  async onScheduled(context) {
    // "as" for a generic service lookup: the engine checked that the service provides map-cache.
    const cache = context.getService<MapCache>('cacheService');
    await cache.open((path) => context.resolvePath(path));
    return { cache };
  },
  async onTrigger(session, context, { cache }) {
    const expiration = context.getProperty('expirationDuration').asTimePeriod() ?? 600_000;
    const now = Date.now();
    const groups = new Map<string, Group>();
    for (const flowFile of session.getBatch(BATCH)) {
      const started = Number(flowFile.getAttribute(START_ATTRIBUTE) ?? now);
      if (Number.isFinite(started) && now - started > expiration) {
        session.transfer(session.removeAttributes(flowFile, [START_ATTRIBUTE]), 'expired');
        continue;
      }
      let terms: Omit<Group, 'flowFiles'>;
      try {
        terms = termsOf(context, flowFile);
      } catch (e) {
        if (!(e instanceof PropertyValueError || e instanceof WaitFailure)) throw e;
        fail(session, context, flowFile, e.message);
        continue;
      }
      const key = JSON.stringify([terms.id, terms.counter, terms.target, terms.releasable]);
      let group = groups.get(key);
      if (group === undefined) {
        group = { ...terms, flowFiles: [] };
        groups.set(key, group);
      }
      group.flowFiles.push(flowFile);
    }
    for (const group of groups.values()) await settle(session, context, cache, group, now);
  },
});

/** Why a FlowFile cannot wait (it goes to failure with this reason). */
class WaitFailure extends Error {}

/** The signal and terms one FlowFile waits for. @throws {WaitFailure | PropertyValueError} */
function termsOf(context: ProcessContext, flowFile: FlowFile): Omit<Group, 'flowFiles'> {
  const id = context.getProperty('releaseSignalIdentifier').evaluate(flowFile) ?? '';
  if (id === '') throw new WaitFailure('Release Signal Identifier evaluated to an empty value');
  const target = wholeNumber('Target Signal Count', context.getProperty('targetSignalCount').evaluate(flowFile), 1);
  const releasable = wholeNumber(
    'Releasable FlowFile Count',
    context.getProperty('releasableFlowFileCount').evaluate(flowFile),
    0,
  );
  const counter = context.getProperty('signalCounterName').evaluate(flowFile);
  return { id, counter: counter === undefined || counter === '' ? undefined : counter, target, releasable };
}

/**
 * Decides one group against its signal: released FlowFiles go to success, the rest wait. The
 * signal's new state is written with compare and set; when another task changed it meanwhile, the
 * decision is made again from the fresh signal.
 */
async function settle(
  session: ProcessSession,
  context: ProcessContext,
  cache: MapCache,
  group: Group,
  now: number,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let entry: Awaited<ReturnType<MapCache['fetch']>>;
    let signal: Signal;
    try {
      entry = await cache.fetch(group.id);
      if (entry === undefined) {
        for (const f of group.flowFiles) hold(session, f, now);
        return;
      }
      signal = parseSignal(group.id, entry.value);
    } catch (e) {
      for (const f of group.flowFiles) fail(session, context, f, e instanceof Error ? e.message : String(e));
      return;
    }
    // Released FlowFiles are told the counts as they were before this release used them (NiFi).
    const counts = new Map(signal.counts);
    let released: number;
    let write: 'none' | 'replace' | 'remove' = 'none';
    if (group.releasable === 0) {
      released = countOf(signal, group.counter) >= group.target ? group.flowFiles.length : 0;
    } else {
      const before = formatSignal(signal);
      released = releaseCandidates(signal, group);
      // Only a signal that changed is written; one used up entirely is removed (NiFi's "complete").
      if (formatSignal(signal) !== before) {
        write = countOf(signal, undefined) === 0 && signal.releasableCount === 0 ? 'remove' : 'replace';
      }
    }
    let written = true;
    try {
      if (write === 'replace') written = await cache.replace(group.id, formatSignal(signal), entry.revision);
      else if (write === 'remove') written = await cache.remove(group.id, entry.revision);
    } catch (e) {
      for (const f of group.flowFiles)
        fail(session, context, f, `could not update signal "${group.id}": ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (!written) continue;
    const copyReplaces = context.getProperty('attributeCopyMode').asString() === 'replace';
    group.flowFiles.forEach((flowFile, i) => {
      if (i < released) release(session, flowFile, signal.attributes, counts, copyReplaces);
      else hold(session, flowFile, now);
    });
    return;
  }
  // Contended: look again next time.
  for (const f of group.flowFiles) hold(session, f, now);
}

/**
 * NiFi's releaseCandidates: turns reached targets into releases (taking the target off the
 * counter, or, for the total, recording it in the "consumed" counter), then spends them on the
 * waiting FlowFiles. Changes `signal`; returns how many of the group's FlowFiles go.
 */
function releaseCandidates(signal: Signal, group: Group): number {
  const waiting = group.flowFiles.length;
  if (signal.releasableCount < waiting) {
    const count = countOf(signal, group.counter);
    const passes = Math.floor(count / group.target);
    if (passes > 0) {
      signal.releasableCount += passes * group.releasable;
      const used = passes * group.target;
      if (group.counter !== undefined) signal.counts.set(group.counter, count - used);
      else signal.counts.set(CONSUMED_COUNTER, (signal.counts.get(CONSUMED_COUNTER) ?? 0) - used);
    }
  }
  const released = Math.min(signal.releasableCount, waiting);
  signal.releasableCount -= released;
  return released;
}

function release(
  session: ProcessSession,
  flowFile: FlowFile,
  signalAttributes: ReadonlyMap<string, string>,
  counts: ReadonlyMap<string, number>,
  copyReplaces: boolean,
): void {
  const attributes = new Map<string, string>();
  for (const [k, v] of signalAttributes) if (k !== 'uuid' && (copyReplaces || !flowFile.attributes.has(k))) attributes.set(k, v);
  let total = 0;
  for (const [name, n] of counts) {
    attributes.set(`${COUNTER_PREFIX}${name}`, String(n));
    total += n;
  }
  attributes.set(`${COUNTER_PREFIX}total`, String(total));
  const released = session.removeAttributes(session.putAllAttributes(flowFile, attributes), [START_ATTRIBUTE]);
  session.transfer(released, 'success');
}

/** Back to the incoming queue, penalized, remembering when it started waiting. */
function hold(session: ProcessSession, flowFile: FlowFile, now: number): void {
  const waiting = flowFile.attributes.has(START_ATTRIBUTE)
    ? flowFile
    : session.putAttribute(flowFile, START_ATTRIBUTE, String(now));
  session.transfer(session.penalize(waiting));
}

function fail(session: ProcessSession, context: ProcessContext, flowFile: FlowFile, reason: string): void {
  context.logger.warn(`FlowFile ${flowFile.uuid} went to failure: ${reason}`);
  session.transfer(session.penalize(session.putAttribute(flowFile, FAILURE_ATTRIBUTE, reason)), 'failure');
}

/** A whole number of at least `min`. @throws {WaitFailure} naming the property. */
function wholeNumber(property: string, value: string | undefined, min: number): number {
  const text = (value ?? '').trim();
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new WaitFailure(`${property} "${text}" is not a whole number of ${min} or more`);
  }
  return Number(text);
}

/** Literal check of a whole-number property (values with Expression Language are checked per FlowFile). */
function wholeNumberProblem(value: string, min: number): string | undefined {
  return /^\s*\d+\s*$/.test(value) && Number(value) >= min ? undefined : `"${value}" is not a whole number of ${min} or more`;
}
