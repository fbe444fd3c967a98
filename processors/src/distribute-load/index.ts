import { defineProcessor } from '@sluice/api';

const BATCH = 1000;
const ATTRIBUTE = 'distribute.load.relationship';
/** Relationship names as the engine accepts them: NiFi's `1`..`N`, or words. */
const NAME = /^[a-z0-9][a-z0-9 _.-]*$/;

interface Target {
  readonly relationship: string;
  readonly weight: number;
  /** Smooth weighted round robin (nginx): the running score of this target. */
  current: number;
}

/** Spreads FlowFiles over several relationships, round robin with weights (NiFi's DistributeLoad). */
export const DistributeLoad = defineProcessor({
  type: 'DistributeLoad',
  description:
    "Spreads FlowFiles over its relationships, round robin with weights. Each user-added property is one output relationship of the same name (NiFi names them 1, 2, ... N; words work too), and its value is that relationship's weight: with 1 = 2 and 2 = 1, relationship 1 gets two FlowFiles for every one that 2 gets, interleaved (smooth weighted round robin). The rotation continues across triggers while the processor runs.",
  tags: ['distribute', 'load balance', 'round robin', 'weighted', 'routing'],
  input: 'required',
  properties: {},
  dynamicProperties: {
    description:
      'An output relationship, named like the property (1, 2, ... as in NiFi, or a word); the value is its weight, a whole number from 1 to 1000000.',
    createsRelationship: true,
    validate: (name, value) => {
      if (!NAME.test(name)) {
        return 'a relationship name must start with a lowercase letter or digit and contain only lowercase letters, digits, spaces, "_", "." or "-"';
      }
      if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1 || Number(value) > 1_000_000) {
        return `weight "${value}" must be a whole number from 1 to 1000000`;
      }
      return undefined;
    },
  },
  relationships: {},
  writesAttributes: { [ATTRIBUTE]: 'The relationship the FlowFile was sent to' },
  supportsBatching: true,
  validate(context) {
    return context.dynamicProperties.size === 0
      ? ['add at least one relationship: a property named 1 (then 2, 3, ...) whose value is its weight, e.g. 1']
      : [];
  },
  onScheduled(context): Target[] {
    return [...context.dynamicProperties].map(([relationship, value]) => ({
      relationship,
      weight: value.asInteger() ?? 1,
      current: 0,
    }));
  },
  onTrigger(session, _context, targets) {
    const total = targets.reduce((sum, t) => sum + t.weight, 0);
    for (const flowFile of session.getBatch(BATCH)) {
      const target = next(targets, total);
      if (target === undefined) {
        session.transfer(flowFile);
        continue;
      }
      session.transfer(session.putAttribute(flowFile, ATTRIBUTE, target.relationship), target.relationship);
    }
  },
});

/**
 * Smooth weighted round robin: every target gains its weight, the highest score wins and pays the
 * total. Weights 5,1,1 give a a b a c a a (not a a a a a b c), so no relationship gets a burst.
 */
function next(targets: readonly Target[], total: number): Target | undefined {
  let best: Target | undefined;
  for (const t of targets) {
    t.current += t.weight;
    if (best === undefined || t.current > best.current) best = t;
  }
  if (best !== undefined) best.current -= total;
  return best;
}
