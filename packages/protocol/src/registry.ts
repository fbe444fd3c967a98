import { z } from 'zod';

/**
 * The named schemas of the API. Each schema registered here becomes one entry of the OpenAPI
 * document's `components.schemas` (and of docs/api.md), referenced by `$ref` wherever it is used.
 */
export const apiRegistry = z.registry<{ id: string; description?: string }>();

/** Registers a schema under a name in {@link apiRegistry} and returns it unchanged. */
export function named<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  apiRegistry.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}
