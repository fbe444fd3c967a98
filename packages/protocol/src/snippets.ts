import { z } from 'zod';
import { type FlowFragment, flowFragmentSchema } from './components.ts';
import { named } from './registry.ts';

/** Longest snippet name (after trimming). */
export const SNIPPET_NAME_MAX = 200;
/** How many snippets a server keeps at most. */
export const SNIPPET_COUNT_MAX = 1000;
/** Largest snippet fragment, as stored JSON (bytes). */
export const SNIPPET_BYTES_MAX = 5 * 1024 * 1024;

/** Snippet ids: server-generated UUIDs. */
export const snippetIdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a snippet id (a UUID)');

const snippetName = z
  .string('must be a string')
  .trim()
  .min(1, 'must not be empty')
  .max(SNIPPET_NAME_MAX, `must be at most ${SNIPPET_NAME_MAX} characters`);

/**
 * How many components a fragment holds at its top level (connections and controller services are
 * not counted): what a snippet's summary shows.
 */
export function fragmentSize(fragment: FlowFragment): number {
  return (
    fragment.processors.length +
    fragment.inputPorts.length +
    fragment.outputPorts.length +
    fragment.funnels.length +
    fragment.labels.length +
    fragment.processGroups.length +
    fragment.remoteProcessGroups.length
  );
}

export const snippetSummarySchema = named(
  'SnippetSummary',
  z.object({
    /** Server-generated (a UUID). */
    id: z.string(),
    name: z.string(),
    /** When it was saved (ms since the epoch). */
    savedAt: z.number(),
    /** Who saved it. */
    savedBy: z.string(),
    /** Components at the top level of its fragment (see `fragmentSize`). */
    componentCount: z.number().int().min(0),
  }),
);
export type SnippetSummary = z.infer<typeof snippetSummarySchema>;

export const snippetListSchema = named(
  'SnippetList',
  z.object({ snippets: z.array(snippetSummarySchema) }),
  'Every snippet of this server, sorted by name.',
);
export type SnippetList = z.infer<typeof snippetListSchema>;

export const snippetSchema = named(
  'Snippet',
  snippetSummarySchema.extend({ fragment: flowFragmentSchema }),
  'A snippet with its fragment (sensitive values are never kept in a snippet: they are null).',
);
export type SnippetDto = z.infer<typeof snippetSchema>;

export const snippetCreateSchema = named(
  'SnippetCreate',
  z
    .object({
      /** Trimmed; unique on this server. */
      name: snippetName,
      /** As `POST /flow/copy` returns it; sensitive values in it are not kept. */
      fragment: flowFragmentSchema,
      /** Replace the snippet of the same name (otherwise a duplicate name is refused with 409). */
      replace: z.boolean().default(false),
    })
    .strict()
    .refine((s) => fragmentSize(s.fragment) > 0, {
      message: 'the fragment holds no components (connections and controller services alone cannot be pasted)',
      path: ['fragment'],
    }),
  'A selection to keep under a name for every user of this server (at most 5 MiB of fragment, 1,000 snippets).',
);
export type SnippetCreate = z.input<typeof snippetCreateSchema>;

/** Sent over socket.io when a snippet is saved, replaced or deleted: palettes list them again. */
export const snippetsChangedSchema = z.object({
  action: z.enum(['created', 'replaced', 'deleted']),
  id: z.string(),
  name: z.string(),
  by: z.string(),
  /** The X-Sluice-Client header of the request that changed it. */
  clientId: z.string().nullable(),
});
export type SnippetsChanged = z.infer<typeof snippetsChangedSchema>;
