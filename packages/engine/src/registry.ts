import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';

/** The processor and controller-service types an engine can instantiate, by type name. */
export class ExtensionRegistry {
  readonly #processors = new Map<string, AnyProcessorDefinition>();
  readonly #services = new Map<string, AnyServiceDefinition>();

  /**
   * Registers processor types.
   * @throws {Error} when a type name is registered twice.
   */
  registerProcessors(definitions: Iterable<AnyProcessorDefinition>): this {
    for (const definition of definitions) {
      if (this.#processors.has(definition.type)) throw new Error(`processor type ${definition.type} is registered twice`);
      this.#processors.set(definition.type, definition);
    }
    return this;
  }

  /**
   * Registers controller service types.
   * @throws {Error} when a type name is registered twice.
   */
  registerServices(definitions: Iterable<AnyServiceDefinition>): this {
    for (const definition of definitions) {
      if (this.#services.has(definition.type)) throw new Error(`service type ${definition.type} is registered twice`);
      this.#services.set(definition.type, definition);
    }
    return this;
  }

  processor(type: string): AnyProcessorDefinition | undefined {
    return this.#processors.get(type);
  }

  service(type: string): AnyServiceDefinition | undefined {
    return this.#services.get(type);
  }

  processorTypes(): AnyProcessorDefinition[] {
    return [...this.#processors.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  serviceTypes(): AnyServiceDefinition[] {
    return [...this.#services.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  /** Closest registered processor type names, for "did you mean" messages. */
  suggestProcessor(type: string): string | undefined {
    const lower = type.toLowerCase();
    return [...this.#processors.keys()].find((t) => t.toLowerCase() === lower || levenshtein(t.toLowerCase(), lower) <= 2);
  }
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}
