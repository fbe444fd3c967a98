import type { EvaluationContext } from './context.ts';
import { fail } from './errors.ts';
import { checkRegex, eager } from './fn-text.ts';
import {
  type AggregateSpec,
  type FunctionSpec,
  lookupAttribute,
  type MultiSpec,
  type ParamSpec,
  type StaticArg,
} from './function-types.ts';
import { fullMatch } from './java-regex.ts';
import { asBoolean, asString, type Value } from './values.ts';

function randomUuid(): string {
  const c = globalThis.crypto;
  if (c !== undefined && typeof c.randomUUID === 'function') return c.randomUUID();
  // Insecure contexts in browsers lack randomUUID; build a v4 UUID by hand.
  const bytes = new Uint8Array(16);
  if (c !== undefined && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  let h = '';
  for (const b of bytes) h += (b < 16 ? '0' : '') + b.toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function randomLong(): bigint {
  const c = globalThis.crypto;
  const words = new Uint32Array(2);
  if (c !== undefined && typeof c.getRandomValues === 'function') c.getRandomValues(words);
  else {
    words[0] = Math.floor(Math.random() * 2 ** 32);
    words[1] = Math.floor(Math.random() * 2 ** 32);
  }
  return ((BigInt(words[0] ?? 0) & 0x7fffffffn) << 32n) | BigInt(words[1] ?? 0);
}

let counter = 0n;

function multi(
  name: string,
  mode: 'any' | 'all',
  description: string,
  params: MultiSpec['params'],
  readsAttributes: boolean,
  values: MultiSpec['values'],
  check?: MultiSpec['check'],
): MultiSpec {
  return {
    kind: 'multi',
    name,
    mode,
    group: 'multiple',
    description,
    returns: 'boolean',
    subject: 'none',
    subjectKind: 'any',
    params,
    readsAttributes,
    values,
    ...(check === undefined ? {} : { check }),
  };
}

function attributeValues(ctx: EvaluationContext, args: readonly Value[]): Value[] {
  return args.map((a) => lookupAttribute(ctx, asString(a) ?? ''));
}

function matchingValues(ctx: EvaluationContext, args: readonly Value[]): Value[] {
  const patterns = args.map((a) => asString(a) ?? '');
  const out: Value[] = [];
  const names = ctx.attributeNames?.() ?? [];
  for (const name of names) {
    if (patterns.some((p) => fullMatch(p, name))) out.push(ctx.attribute(name) ?? null);
  }
  return out;
}

function delineatedValues(_ctx: unknown, args: readonly Value[]): Value[] {
  const text = asString(args[0] ?? null);
  const delimiter = asString(args[1] ?? null) ?? '';
  if (delimiter === '') throw fail('needs a delimiter that is not empty');
  if (text === null || text === '') return [];
  const parts = text.split(delimiter);
  // Java's String.split drops trailing empty strings.
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const namesParam: readonly ParamSpec[] = [{ name: 'attributeNames', kind: 'string', rest: true }];
const regexParam: readonly ParamSpec[] = [{ name: 'regexes', kind: 'string', rest: true }];
const delineatedParams: readonly ParamSpec[] = [
  { name: 'delineatedValue', kind: 'string' },
  { name: 'delimiter', kind: 'string' },
];

function checkAllRegexes(args: readonly StaticArg[]): void {
  args.forEach((_arg, i) => {
    checkRegex(i)(args);
  });
}

const join: AggregateSpec = {
  kind: 'aggregate',
  name: 'join',
  group: 'multiple',
  description: 'Joins the values of allAttributes / allMatchingAttributes / allDelineatedValues with a delimiter.',
  returns: 'string',
  subject: 'required',
  subjectKind: 'any',
  params: [{ name: 'delimiter', kind: 'string' }],
  aggregate: (values, args) => {
    const delimiter = asString(args[0] ?? null) ?? '';
    const texts: string[] = [];
    for (const v of values) {
      const t = asString(v);
      if (t !== null) texts.push(t);
    }
    return texts.join(delimiter);
  },
};

const count: AggregateSpec = {
  kind: 'aggregate',
  name: 'count',
  group: 'multiple',
  description: 'Counts the values of a multi-attribute expression that are neither null nor false.',
  returns: 'number',
  subject: 'required',
  subjectKind: 'any',
  params: [],
  aggregate: (values) => {
    let n = 0n;
    for (const v of values) if (v !== null && v !== false) n++;
    return n;
  },
};

/** Subjectless functions and functions over several attributes. */
export const OTHER_FUNCTIONS: readonly FunctionSpec[] = [
  eager({
    name: 'UUID',
    group: 'subjectless',
    description: 'A random (version 4) UUID.',
    returns: 'string',
    subject: 'none',
    eval: () => randomUuid(),
  }),
  eager({
    name: 'hostname',
    group: 'subjectless',
    description: 'The host name; hostname(true) asks for the fully qualified name.',
    returns: 'string',
    subject: 'none',
    params: [{ name: 'fullyQualified', kind: 'boolean', optional: true }],
    eval: (ctx, _s, args) => ctx.hostname?.(args.length > 0 && asBoolean(args[0] ?? null) === true) ?? 'localhost',
  }),
  eager({
    name: 'ip',
    group: 'subjectless',
    description: 'The IP address of the machine.',
    returns: 'string',
    subject: 'none',
    eval: (ctx) => ctx.ip?.() ?? '127.0.0.1',
  }),
  eager({
    name: 'nextInt',
    group: 'subjectless',
    description: 'A counter that starts at 0 and goes up by one on every call, for the life of the process.',
    returns: 'number',
    subject: 'none',
    eval: () => {
      const value = counter;
      counter = BigInt.asIntN(64, counter + 1n);
      return value;
    },
  }),
  eager({
    name: 'random',
    group: 'subjectless',
    description: 'A random whole number from 0 to 2^63-1.',
    returns: 'number',
    subject: 'none',
    eval: () => randomLong(),
  }),
  eager({
    name: 'thread',
    group: 'subjectless',
    description: 'The name of the thread evaluating the expression (always "main" in Sluice).',
    returns: 'string',
    subject: 'none',
    eval: () => 'main',
  }),
  eager({
    name: 'getStateValue',
    group: 'subjectless',
    description: "A value from the processor's state, by key.",
    returns: 'string',
    subject: 'none',
    params: [{ name: 'key', kind: 'string' }],
    eval: (ctx, _s, args) => ctx.state?.(asString(args[0] ?? null) ?? '') ?? null,
  }),
  eager({
    name: 'literal',
    group: 'subjectless',
    description: 'Its argument as text, so functions can be applied to a constant or an embedded expression.',
    returns: 'string',
    subject: 'none',
    subjectKind: 'any',
    params: [{ name: 'value', kind: 'any' }],
    eval: (_ctx, _s, args) => asString(args[0] ?? null),
  }),
  multi(
    'anyAttribute',
    'any',
    'True if the rest of the expression is true for any of the named attributes.',
    namesParam,
    true,
    attributeValues,
  ),
  multi(
    'allAttributes',
    'all',
    'True if the rest of the expression is true for all of the named attributes.',
    namesParam,
    true,
    attributeValues,
  ),
  multi(
    'anyMatchingAttribute',
    'any',
    'True if the rest of the expression is true for any attribute whose name matches one of the regular expressions.',
    regexParam,
    true,
    matchingValues,
    checkAllRegexes,
  ),
  multi(
    'allMatchingAttributes',
    'all',
    'True if the rest of the expression is true for every attribute whose name matches one of the regular expressions.',
    regexParam,
    true,
    matchingValues,
    checkAllRegexes,
  ),
  multi(
    'anyDelineatedValue',
    'any',
    'Splits a value by a delimiter; true if the rest of the expression is true for any part.',
    delineatedParams,
    false,
    delineatedValues,
  ),
  multi(
    'allDelineatedValues',
    'all',
    'Splits a value by a delimiter; true if the rest of the expression is true for every part.',
    delineatedParams,
    false,
    delineatedValues,
  ),
  join,
  count,
];
