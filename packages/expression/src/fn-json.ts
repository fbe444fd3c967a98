import { ElFailure, ExpressionError, fail, quote } from './errors.ts';
import { eager, javaTrim } from './fn-text.ts';
import { ArgFailure, type EagerSpec, type FunctionSpec, type StaticArg } from './function-types.ts';
import { type CompiledJsonPath, compileJsonPath, type JsonLocation } from './json-path.ts';
import { asString, type Value } from './values.ts';

function pathOf(value: Value | undefined): CompiledJsonPath {
  const path = asString(value ?? null) ?? '';
  try {
    return compileJsonPath(path);
  } catch (e) {
    if (e instanceof ExpressionError) throw fail(`cannot use the JSON path: ${e.message}`);
    throw e;
  }
}

function checkPath(args: readonly StaticArg[]): void {
  const path = args[0]?.literal;
  if (typeof path !== 'string') return;
  try {
    compileJsonPath(path);
  } catch (e) {
    throw new ArgFailure(0, e instanceof Error ? `cannot use the JSON path: ${e.message}` : String(e));
  }
}

function parseDocument(subject: Value): unknown {
  const text = asString(subject);
  if (text === null || text === '') throw fail('needs a JSON document as its subject, but the subject is empty');
  try {
    return JSON.parse(text);
  } catch {
    throw fail(`needs a JSON document as its subject, but got ${quote(text)}`);
  }
}

/** NiFi's text form of a jsonPath result: scalars as text, objects and arrays as JSON, null as empty. */
export function jsonResultText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** An Expression Language value as a JSON value for the update functions. */
function toJsonValue(value: Value): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'object' && value !== null) return value.ms;
  return value;
}

function defineKey(target: object, key: string, value: unknown): void {
  // defineProperty, not assignment: a key named "__proto__" must become data, never a prototype.
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function update(
  name: string,
  description: string,
  params: EagerSpec['params'],
  apply: (locations: JsonLocation[], args: readonly Value[]) => void,
): EagerSpec {
  return eager({
    name,
    group: 'json',
    description,
    returns: 'string',
    params,
    check: checkPath,
    eval: (_ctx, s, args) => {
      const document = parseDocument(s);
      const locations = pathOf(args[0]).locate(document);
      try {
        apply(locations, args);
      } catch (e) {
        if (e instanceof ElFailure) throw e;
        throw fail(`could not update the document: ${e instanceof Error ? e.message : String(e)}`);
      }
      return JSON.stringify(document);
    },
  });
}

/** JSON functions: jsonPath and its update variants, isJson. */
export const JSON_FUNCTIONS: readonly FunctionSpec[] = [
  eager({
    name: 'jsonPath',
    group: 'json',
    description:
      'Evaluates a JSONPath against the subject (JSON text): a scalar as text, objects and arrays as JSON, empty when nothing matches.',
    returns: 'string',
    params: [{ name: 'path', kind: 'string' }],
    check: checkPath,
    eval: (_ctx, s, args) => {
      const document = parseDocument(s);
      const results = pathOf(args[0]).evaluate(document);
      if (results.length === 0) return '';
      if (results.length === 1) return jsonResultText(results[0]);
      return JSON.stringify(results);
    },
  }),
  update(
    'jsonPathDelete',
    'Removes what the JSONPath selects and returns the updated JSON.',
    [{ name: 'path', kind: 'string' }],
    (locations) => {
      // Remove array elements from the highest index down so earlier removals do not shift later ones.
      const sorted = [...locations].sort(
        (a, b) => (typeof b.key === 'number' ? b.key : 0) - (typeof a.key === 'number' ? a.key : 0),
      );
      for (const loc of sorted) {
        if (Array.isArray(loc.parent) && typeof loc.key === 'number') loc.parent.splice(loc.key, 1);
        else if (loc.parent !== undefined && typeof loc.key === 'string') Reflect.deleteProperty(loc.parent, loc.key);
      }
    },
  ),
  update(
    'jsonPathSet',
    'Sets what the JSONPath selects to a value and returns the updated JSON.',
    [
      { name: 'path', kind: 'string' },
      { name: 'value', kind: 'any' },
    ],
    (locations, args) => {
      const value = toJsonValue(args[1] ?? null);
      for (const loc of locations) {
        if (Array.isArray(loc.parent) && typeof loc.key === 'number') loc.parent[loc.key] = value;
        else if (loc.parent !== undefined && typeof loc.key === 'string') defineKey(loc.parent, loc.key, value);
      }
    },
  ),
  update(
    'jsonPathAdd',
    'Appends a value to the arrays the JSONPath selects and returns the updated JSON.',
    [
      { name: 'path', kind: 'string' },
      { name: 'value', kind: 'any' },
    ],
    (locations, args) => {
      const value = toJsonValue(args[1] ?? null);
      for (const loc of locations) {
        if (!Array.isArray(loc.value)) throw fail('can only add to an array, but the path selects something else');
        loc.value.push(value);
      }
    },
  ),
  update(
    'jsonPathPut',
    'Puts a key and value into the objects the JSONPath selects and returns the updated JSON.',
    [
      { name: 'path', kind: 'string' },
      { name: 'key', kind: 'string' },
      { name: 'value', kind: 'any' },
    ],
    (locations, args) => {
      const key = asString(args[1] ?? null) ?? '';
      const value = toJsonValue(args[2] ?? null);
      for (const loc of locations) {
        const target = loc.value;
        if (typeof target !== 'object' || target === null || Array.isArray(target)) {
          throw fail('can only put into an object, but the path selects something else');
        }
        defineKey(target, key, value);
      }
    },
  ),
  eager({
    name: 'isJson',
    group: 'boolean',
    description: 'True if the subject is valid JSON.',
    returns: 'boolean',
    eval: (_ctx, s) => {
      const text = asString(s);
      if (text === null || javaTrim(text) === '') return false;
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    },
  }),
];
