import { z } from 'zod';
import { roleSchema } from './common.ts';
import { componentEntitySchema, componentKindSchema } from './components.ts';
import { bulletinSchema, statusDeltaSchema, statusSnapshotSchema } from './runtime.ts';
import { type SnippetsChanged, snippetsChangedSchema } from './snippets.ts';

// socket.io events. The socket connects to the server's origin at path /socket.io with the session
// cookie; the server checks the cookie and the Origin header on the handshake.

export const helloSchema = z.object({
  username: z.string(),
  role: roleSchema,
  /** The flow version at connection time (compare with `flow:changed` versions). */
  flowVersion: z.number(),
  statusIntervalMs: z.number(),
  serverTime: z.number(),
});

export const flowChangeSchema = z.object({
  action: z.enum(['created', 'updated', 'deleted']),
  kind: componentKindSchema,
  id: z.string(),
  /** The entity after the change (absent for deletions). */
  entity: componentEntitySchema.optional(),
});
export type FlowChange = z.infer<typeof flowChangeSchema>;

export const flowChangedSchema = z.object({
  /** The flow version after the change. */
  version: z.number(),
  /** Who changed it. */
  by: z.string(),
  /** The X-Sluice-Client header of the request that changed it, so a tab can skip its own echoes. */
  clientId: z.string().nullable(),
  summary: z.string(),
  changes: z.array(flowChangeSchema),
  /** True when the whole flow was replaced (import, restore): reload it rather than patch. */
  reload: z.boolean(),
});
export type FlowChanged = z.infer<typeof flowChangedSchema>;

/** Messages a client may send; anything else (or malformed) is answered with an `error` event. */
export const resyncRequestSchema = z.object({ what: z.enum(['status', 'bulletins']).default('status') }).strict();

export const socketErrorSchema = z.object({ event: z.string(), error: z.string() });

/** What the server emits (names and payloads). */
export interface ServerToClientEvents {
  hello: (payload: z.infer<typeof helloSchema>) => void;
  /** The whole status, on connect and on `resync`. */
  'status:full': (payload: z.infer<typeof statusSnapshotSchema>) => void;
  /** About once a second: only what changed. */
  'status:delta': (payload: z.infer<typeof statusDeltaSchema>) => void;
  /** New bulletins, as they happen (batched per push). */
  bulletins: (payload: { bulletins: z.infer<typeof bulletinSchema>[] }) => void;
  /** A change to the flow, by anyone (with revisions). */
  'flow:changed': (payload: FlowChanged) => void;
  /** A snippet was saved, replaced or deleted, by anyone: list them again. */
  'snippets:changed': (payload: SnippetsChanged) => void;
  /** The session ended (logout, expiry, user removed); the socket is closed next. */
  'session:ended': (payload: { reason: string }) => void;
  error: (payload: z.infer<typeof socketErrorSchema>) => void;
}

/** What a client may emit. */
export interface ClientToServerEvents {
  resync: (payload: z.input<typeof resyncRequestSchema>) => void;
  ping: (payload: unknown, ack: (reply: { serverTime: number }) => void) => void;
}

export const LIVE_EVENTS = {
  hello: helloSchema,
  'status:full': statusSnapshotSchema,
  'status:delta': statusDeltaSchema,
  bulletins: z.object({ bulletins: z.array(bulletinSchema) }),
  'flow:changed': flowChangedSchema,
  'snippets:changed': snippetsChangedSchema,
  'session:ended': z.object({ reason: z.string() }),
  error: socketErrorSchema,
} as const;
