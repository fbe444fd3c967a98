import { z } from 'zod';
import { idSchema } from './common.ts';
import { flowDocumentSchema, positionSchema } from './flow.ts';
import { named } from './registry.ts';

export const exportQuerySchema = z
  .object({
    /** Export only this process group (and the parameter contexts it uses); default the whole flow. */
    groupId: idSchema.optional(),
  })
  .strict();

export const importRequestSchema = named(
  'ImportRequest',
  z
    .object({
      /** A flow document (as exported); checked here, not trusted. */
      document: z.unknown(),
      /**
       * `replace`: the document becomes the whole flow (ids kept; connections holding data must stay).
       * `group`: its root group is added as a new process group inside `groupId`, with new ids.
       */
      mode: z.enum(['replace', 'group']),
      groupId: idSchema.optional(),
      position: positionSchema.optional(),
      /** Keep the run states the document names (default: everything imported stopped / disabled). */
      keepRunStates: z.boolean().default(false),
    })
    .strict()
    .refine((r) => r.mode === 'replace' || r.groupId !== undefined, {
      message: 'mode "group" needs groupId',
      path: ['groupId'],
    }),
);
export type ImportRequest = z.infer<typeof importRequestSchema>;

export const importIssueSchema = named(
  'ImportIssue',
  z.object({
    /** Where in the imported document. */
    path: z.string(),
    componentId: z.string().optional(),
    componentName: z.string().optional(),
    /** What was left out or changed, and why. */
    message: z.string(),
    action: z.enum(['skipped', 'changed', 'mapped']),
  }),
);
export type ImportIssue = z.infer<typeof importIssueSchema>;

export const importResultSchema = named(
  'ImportResult',
  z.object({
    version: z.number().int(),
    /** The process group created (mode `group`) or the root group (mode `replace`). */
    groupId: idSchema,
    imported: z.object({
      processors: z.number(),
      connections: z.number(),
      ports: z.number(),
      funnels: z.number(),
      labels: z.number(),
      controllerServices: z.number(),
      processGroups: z.number(),
      parameterContexts: z.number(),
    }),
    /** Everything that could not be mapped as it was (unknown types, properties, relationships, ...). */
    issues: z.array(importIssueSchema),
  }),
  'What was imported, and a report of what could not be mapped.',
);
export type ImportResult = z.infer<typeof importResultSchema>;

export const flowVersionSchema = named(
  'FlowVersion',
  z.object({ version: z.number().int(), savedAt: z.number(), savedBy: z.string(), summary: z.string() }),
);
export const flowVersionListSchema = named(
  'FlowVersionList',
  z.object({ current: z.number().int(), versions: z.array(flowVersionSchema) }),
  'The last 20 stored versions of the flow, newest first.',
);
export const flowVersionDetailSchema = named(
  'FlowVersionDetail',
  z.object({
    version: z.number().int(),
    savedAt: z.number(),
    savedBy: z.string(),
    summary: z.string(),
    flow: flowDocumentSchema,
  }),
);
export const restoreResultSchema = named(
  'RestoreResult',
  z.object({ version: z.number().int(), restoredFrom: z.number().int() }),
);
