import { choice, defineProcessor, type FlowFile, parseDataSize, string, timePeriod } from '@sluice/api';

const BATCH = 1000;
/** FlowFiles looked at per trigger while searching the queue for ones whose group has room. */
const SCAN_LIMIT = 10_000;
const FAILURE_ATTRIBUTE = 'controlrate.failure.reason';
/** Groups whose window ended this long ago are forgotten (memory stays bounded by active groups). */
const IDLE_WINDOWS = 2;

/** The running window of one group. */
interface Window {
  start: number;
  used: number;
}

interface Throttle {
  readonly windows: Map<string, Window>;
  lastSweep: number;
}

/** Throttles the flow of FlowFiles by count, data size or an attribute's value per period (NiFi's ControlRate). */
export const ControlRate = defineProcessor({
  type: 'ControlRate',
  description:
    'Lets at most Maximum Rate through per Time Duration, counted in bytes of content (data rate), in FlowFiles, or as the sum of a numeric attribute; with a Grouping Attribute each value of that attribute has its own allowance. FlowFiles over the rate wait in the incoming queue (the processor yields) and are never dropped. The window restarts each Time Duration (and when the processor is started). A FlowFile larger than the whole allowance passes alone at the start of a window, so it cannot block the queue forever. With the attribute-value criteria, a FlowFile whose attribute is missing or not a non-negative number goes to failure.',
  tags: ['rate control', 'throttle', 'rate', 'throughput'],
  input: 'required',
  properties: {
    rateControlCriteria: choice(
      [
        { value: 'data rate', displayName: 'data rate', description: 'Bytes of content per period.' },
        { value: 'flowfile count', displayName: 'flowfile count', description: 'FlowFiles per period.' },
        {
          value: 'attribute value',
          displayName: 'attribute value',
          description: 'The sum of a numeric attribute (Rate Controlled Attribute) per period.',
        },
      ],
      {
        displayName: 'Rate Control Criteria',
        description: 'What the rate counts.',
        default: 'data rate',
        required: true,
      },
    ),
    maximumRate: string({
      displayName: 'Maximum Rate',
      description:
        'The allowance per Time Duration: a data size for "data rate" (e.g. 1 MB), a whole number for "flowfile count", a number for "attribute value".',
      required: true,
    }),
    rateControlledAttribute: string({
      displayName: 'Rate Controlled Attribute',
      description: 'The numeric attribute summed by "attribute value".',
      dependsOn: { property: 'rateControlCriteria', values: ['attribute value'] },
    }),
    timeDuration: timePeriod({
      displayName: 'Time Duration',
      description: 'The period the allowance is for.',
      default: '1 min',
      required: true,
      min: 1,
    }),
    groupingAttribute: string({
      displayName: 'Grouping Attribute',
      description: 'Give each value of this attribute its own allowance (FlowFiles without it share one).',
    }),
  },
  relationships: {
    success: 'FlowFiles let through',
    failure: 'With "attribute value": FlowFiles whose attribute is missing or not a number; controlrate.failure.reason says why',
  },
  writesAttributes: { [FAILURE_ATTRIBUTE]: 'Why the FlowFile went to failure' },
  triggerSerially: true,
  validate(context) {
    const criteria = context.getProperty('rateControlCriteria').asString();
    const raw = context.getProperty('maximumRate').asString() ?? '';
    const problems: string[] = [];
    if (limitOf(criteria ?? '', raw) === undefined) {
      problems.push(
        criteria === 'data rate'
          ? `property "maximumRate": "${raw}" is not a data size above 0; write e.g. "1 MB" for data rate`
          : criteria === 'flowfile count'
            ? `property "maximumRate": "${raw}" is not a whole number above 0; write e.g. "100" for flowfile count`
            : `property "maximumRate": "${raw}" is not a number above 0; write e.g. "5000" for attribute value`,
      );
    }
    if (criteria === 'attribute value' && (context.getProperty('rateControlledAttribute').asString() ?? '') === '') {
      problems.push(
        'property "rateControlledAttribute": is required with the attribute value criteria; name the numeric attribute',
      );
    }
    return problems;
  },
  onScheduled(): Throttle {
    return { windows: new Map(), lastSweep: Date.now() };
  },
  onTrigger(session, context, throttle) {
    const criteria = context.getProperty('rateControlCriteria').asString() ?? 'data rate';
    const limit = limitOf(criteria, context.getProperty('maximumRate').asString() ?? '') ?? 0;
    const period = context.getProperty('timeDuration').asTimePeriod() ?? 60_000;
    const attribute = context.getProperty('rateControlledAttribute').asString() ?? '';
    const grouping = context.getProperty('groupingAttribute').asString();
    const now = Date.now();
    sweep(throttle, now, period);

    const windowOf = (flowFile: FlowFile): Window => {
      const group = grouping === undefined || grouping === '' ? '' : (flowFile.getAttribute(grouping) ?? '');
      let window = throttle.windows.get(group);
      if (window === undefined) {
        window = { start: now, used: 0 };
        throttle.windows.set(group, window);
      } else if (now - window.start >= period) {
        window.start = now;
        window.used = 0;
      }
      return window;
    };

    let scanned = 0;
    const failed: Array<[FlowFile, string]> = [];
    let held = false;
    const taken = session.getBatch(BATCH, (flowFile) => {
      scanned++;
      const more = scanned < SCAN_LIMIT;
      let cost: number;
      if (criteria === 'data rate') cost = flowFile.size;
      else if (criteria === 'flowfile count') cost = 1;
      else {
        const value = flowFile.getAttribute(attribute);
        cost = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
        if (!Number.isFinite(cost) || cost < 0) {
          // Taken, to go to failure: it can never be counted.
          failed.push([
            flowFile,
            value === undefined
              ? `attribute "${attribute}" is missing`
              : `attribute "${attribute}" is "${value}", not a number of 0 or more`,
          ]);
          return { accept: true, continue: more };
        }
      }
      const window = windowOf(flowFile);
      // An oversize FlowFile passes alone in an empty window: otherwise it would wait forever.
      if (window.used + cost <= limit || window.used === 0) {
        window.used += cost;
        return { accept: true, continue: more };
      }
      held = true;
      return { accept: false, continue: more };
    });
    const failures = new Map(failed.map(([f, reason]) => [f.uuid, reason]));
    for (const flowFile of taken) {
      const reason = failures.get(flowFile.uuid);
      if (reason === undefined) session.transfer(flowFile, 'success');
      else session.transfer(session.putAttribute(flowFile, FAILURE_ATTRIBUTE, reason), 'failure');
    }
    // Over the rate: the rest waits in the queue, and the processor rests a yield period.
    if (held || (taken.length === 0 && session.queueSize().count > 0)) context.yield();
  },
});

/** The allowance for a criteria, or undefined when the configured rate does not fit it. */
function limitOf(criteria: string, raw: string): number | undefined {
  const text = raw.trim();
  if (criteria === 'data rate') {
    try {
      const bytes = parseDataSize(text);
      return bytes > 0 ? bytes : undefined;
    } catch {
      return undefined;
    }
  }
  if (criteria === 'flowfile count') return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
  const n = Number(text);
  return text !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Forgets groups that have been idle for a while, so a high-cardinality grouping does not grow memory. */
function sweep(throttle: Throttle, now: number, period: number): void {
  if (now - throttle.lastSweep < period) return;
  throttle.lastSweep = now;
  for (const [group, window] of throttle.windows) {
    if (now - window.start >= IDLE_WINDOWS * period) throttle.windows.delete(group);
  }
}
