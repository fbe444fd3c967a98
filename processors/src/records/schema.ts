import type { RecordField, RecordFieldType, RecordObject, RecordSchema, RecordValue } from './types.ts';

interface MutableField {
  readonly name: string;
  type: RecordFieldType;
  nullable: boolean;
}

/**
 * A schema learned from records: every field seen, in first-seen order, with the widest type of
 * its values. Readers feed it every record they yield, so it is complete once reading ends.
 */
export class SchemaInference implements RecordSchema {
  readonly #fields: MutableField[] = [];
  readonly #byName = new Map<string, MutableField>();

  constructor(names: readonly string[] = []) {
    for (const name of names) this.#add(name, 'null', false);
  }

  get fields(): readonly RecordField[] {
    return this.#fields;
  }

  /** Widens the schema with one record's fields. */
  observe(record: RecordObject): void {
    for (const name of Object.keys(record)) {
      const value = record[name] ?? null;
      const type = typeOf(value);
      const field = this.#byName.get(name);
      if (field === undefined) this.#add(name, type, type === 'null');
      else {
        field.type = widen(field.type, type);
        if (type === 'null') field.nullable = true;
      }
    }
  }

  /** Adds fields known without a value yet (a CSV header), in order, unless already present. */
  declare(names: readonly string[]): void {
    for (const name of names) if (!this.#byName.has(name)) this.#add(name, 'null', false);
  }

  #add(name: string, type: RecordFieldType, nullable: boolean): void {
    const field: MutableField = { name, type, nullable };
    this.#fields.push(field);
    this.#byName.set(name, field);
  }
}

/** The schema type of one value. */
export function typeOf(value: RecordValue): RecordFieldType {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'string':
      return 'string';
    default:
      return Array.isArray(value) ? 'array' : 'object';
  }
}

/** The narrowest type holding values of both types. */
export function widen(a: RecordFieldType, b: RecordFieldType): RecordFieldType {
  if (a === b || b === 'null') return a;
  if (a === 'null') return b;
  if ((a === 'integer' && b === 'number') || (a === 'number' && b === 'integer')) return 'number';
  return 'mixed';
}
