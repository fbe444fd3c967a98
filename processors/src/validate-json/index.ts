import { readFile, stat } from 'node:fs/promises';
import {
  ContentTooLargeError,
  choice,
  dataSize,
  defineProcessor,
  type FlowFile,
  formatDataSize,
  type ProcessSession,
  string,
} from '@sluice/api';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';

const BATCH = 50;
/** A schema file larger than this is refused (schemas are small; this is not one). */
const MAX_SCHEMA_BYTES = 16 * 1024 * 1024;
/** At most this many errors are listed in json.validation.errors. */
const MAX_LISTED_ERRORS = 10;

type Draft = 'draft-07' | '2019-09' | '2020-12';

/** Validates JSON content against a JSON Schema (NiFi's ValidateJson), with ajv. */
export const ValidateJson = defineProcessor({
  type: 'ValidateJson',
  description:
    'Validates JSON content against a JSON Schema (drafts 07, 2019-09 and 2020-12, with the standard formats such as date-time, email and uri), given as text or read from a file. Valid documents go to valid, others to invalid with json.validation.errors listing what is wrong; content that is not JSON goes to failure.',
  tags: ['json', 'schema', 'validation', 'ajv'],
  input: 'required',
  properties: {
    schemaText: string({
      displayName: 'JSON Schema',
      description: 'The schema as JSON text. Set this or JSON Schema File, not both.',
      validate: (value) => schemaProblem(value),
    }),
    schemaFile: string({
      displayName: 'JSON Schema File',
      description: 'Path of a file holding the schema (must be under an allowed root). Read when the processor starts.',
      expression: 'environment',
    }),
    schemaVersion: choice(
      [
        {
          value: 'auto',
          displayName: 'from $schema',
          description: "The draft the schema's $schema names; 2020-12 when it names none.",
        },
        { value: 'draft-07', displayName: 'Draft 07', description: 'Also reads draft-06 schemas.' },
        { value: '2019-09', displayName: 'Draft 2019-09' },
        { value: '2020-12', displayName: 'Draft 2020-12' },
      ],
      { displayName: 'Schema Version', description: 'Which JSON Schema draft to apply.', default: 'auto', required: true },
    ),
    maxInputSize: dataSize({
      displayName: 'Maximum Input Size',
      description: 'Larger content goes to failure without being parsed (documents are validated in memory).',
      default: '10 MB',
      min: 1,
      max: 512 * 1024 * 1024,
      required: true,
    }),
  },
  relationships: {
    valid: 'JSON documents that satisfy the schema',
    invalid: 'JSON documents that do not; json.validation.errors says why',
    failure: 'Content that is not JSON (or not UTF-8, or too large); validatejson.failure.reason says why',
  },
  writesAttributes: {
    'json.validation.errors': 'On invalid: the first errors, as "<path>: <message>" separated by "; "',
    'validatejson.failure.reason': 'On failure: why the content could not be validated',
  },
  supportsBatching: true,
  validate(context) {
    const text = context.getProperty('schemaText').raw;
    const file = context.getProperty('schemaFile').raw;
    const hasText = text !== undefined && text.trim() !== '';
    const hasFile = file !== undefined && file.trim() !== '';
    if (hasText === hasFile) return ['set exactly one of JSON Schema (the schema text) or JSON Schema File'];
    if (hasText) {
      const version = context.getProperty('schemaVersion').raw ?? 'auto';
      const problem = schemaProblem(text, version);
      if (problem !== undefined) return [problem];
    }
    return [];
  },
  async onScheduled(context) {
    const version = context.getProperty('schemaVersion').asString() ?? 'auto';
    const file = context.getProperty('schemaFile').asString();
    let text = context.getProperty('schemaText').asString();
    let origin = 'JSON Schema';
    if (file !== undefined && file.trim() !== '') {
      const path = context.resolvePath(file);
      const info = await stat(path);
      if (info.size > MAX_SCHEMA_BYTES) {
        throw new Error(`schema file ${path} is ${formatDataSize(info.size)}, more than ${formatDataSize(MAX_SCHEMA_BYTES)}`);
      }
      text = await readFile(path, 'utf8');
      origin = `schema file ${path}`;
    }
    const compiled = compileSchema(text ?? '', version);
    if ('error' in compiled) throw new Error(`${origin}: ${compiled.error}`);
    return { validate: compiled.validate };
  },
  onTrigger(session, context, scheduled) {
    const maxInput = context.getProperty('maxInputSize').asDataSize() ?? 10 * 1024 * 1024;
    for (const flowFile of session.getBatch(BATCH)) {
      const input = parseContent(session, flowFile, maxInput);
      if ('error' in input) {
        session.transfer(session.putAttribute(flowFile, 'validatejson.failure.reason', input.error), 'failure');
        continue;
      }
      if (scheduled.validate(input.document)) {
        session.transfer(flowFile, 'valid');
        continue;
      }
      const summary = summarize(scheduled.validate.errors ?? []);
      session.transfer(session.putAttribute(flowFile, 'json.validation.errors', summary), 'invalid');
    }
  },
});

/** "path: message" for the first errors, plus how many more there were. */
function summarize(errors: readonly ErrorObject[]): string {
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map((e) => {
    const detail =
      e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string'
        ? ` ("${e.params.additionalProperty}")`
        : e.keyword === 'enum' && Array.isArray(e.params.allowedValues)
          ? ` (${e.params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')})`
          : '';
    return `${e.instancePath === '' ? '(root)' : e.instancePath}: ${e.message ?? e.keyword}${detail}`;
  });
  const more = errors.length - listed.length;
  return more > 0 ? `${listed.join('; ')}; and ${more} more` : listed.join('; ');
}

function schemaProblem(text: string, version = 'auto'): string | undefined {
  const compiled = compileSchema(text, version);
  return 'error' in compiled ? compiled.error : undefined;
}

/** Compiles a schema with the ajv class of its draft, or says what is wrong with it. */
function compileSchema(text: string, version: string): { validate: ValidateFunction } | { error: string } {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (e) {
    return { error: `the schema is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    return { error: 'the schema must be a JSON object (or true / false)' };
  }
  const declared = typeof schema === 'object' && '$schema' in schema ? schema.$schema : undefined;
  const draft = version === 'auto' ? draftOf(declared) : isDraft(version) ? version : undefined;
  if (draft === undefined) {
    return {
      error: `the schema's $schema ${JSON.stringify(declared)} names a draft that is not supported; use draft-06, draft-07, 2019-09 or 2020-12`,
    };
  }
  try {
    const ajv = createAjv(draft);
    // When the schema names another draft than the one chosen, ajv would refuse its $schema: the
    // chosen draft wins, as the property says.
    const body = typeof schema === 'object' && version !== 'auto' ? withoutSchemaKeyword(schema) : schema;
    return { validate: ajv.compile(body) };
  } catch (e) {
    return { error: `the schema is not a valid ${draft} JSON Schema: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function withoutSchemaKeyword(schema: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) if (key !== '$schema') out[key] = value;
  return out;
}

function isDraft(value: string): value is Draft {
  return value === 'draft-07' || value === '2019-09' || value === '2020-12';
}

function draftOf(declared: unknown): Draft | undefined {
  if (declared === undefined) return '2020-12';
  if (typeof declared !== 'string') return undefined;
  if (declared.includes('2020-12')) return '2020-12';
  if (declared.includes('2019-09')) return '2019-09';
  if (declared.includes('draft-07') || declared.includes('draft-06')) return 'draft-07';
  return undefined;
}

function createAjv(draft: Draft): Ajv | Ajv2019 | Ajv2020 {
  // strict: false accepts schemas with unknown keywords (common in the wild) instead of refusing them;
  // logger: false keeps ajv from writing to the console.
  const options: Options = { allErrors: true, strict: false, logger: false };
  const ajv = draft === '2020-12' ? new Ajv2020(options) : draft === '2019-09' ? new Ajv2019(options) : new Ajv(options);
  if (draft === 'draft-07') ajv.addMetaSchema(DRAFT_06_META_SCHEMA_REF);
  addFormats(ajv);
  return ajv;
}

/**
 * ajv-formats is CommonJS: ESM's default import is its `module.exports`, whose `default` property is
 * the plugin (TypeScript's NodeNext types say the same).
 */
function addFormats(ajv: Ajv | Ajv2019 | Ajv2020): void {
  ajvFormats.default(ajv);
}

/** Lets draft-07's ajv read schemas that declare draft-06 (the keywords it uses are a subset). */
const DRAFT_06_META_SCHEMA_REF = {
  $id: 'http://json-schema.org/draft-06/schema#',
  $schema: 'http://json-schema.org/draft-07/schema#',
  $ref: 'http://json-schema.org/draft-07/schema#',
};

function parseContent(session: ProcessSession, flowFile: FlowFile, maxBytes: number): { document: unknown } | { error: string } {
  let bytes: Buffer;
  try {
    bytes = session.read(flowFile, { maxBytes });
  } catch (e) {
    if (e instanceof ContentTooLargeError) {
      return {
        error: `the content (${formatDataSize(e.size)}) is larger than Maximum Input Size (${formatDataSize(maxBytes)})`,
      };
    }
    return { error: `could not read the content: ${e instanceof Error ? e.message : String(e)}` };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { error: 'the content is not valid UTF-8' };
  }
  try {
    return { document: JSON.parse(text) };
  } catch (e) {
    return { error: `the content is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}
