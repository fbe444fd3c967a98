import { z } from 'zod';
import { named } from './registry.ts';

/** The API's version prefix: every REST route lives under it. */
export const API_PREFIX = '/api/v1';

/** Roles, weakest first: a role may do everything the roles before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = named(
  'Role',
  z.enum(ROLES),
  'viewer: read; operator: also start/stop, empty queues, replay, view content; admin: also edit the flow and manage users.',
);

/** Whether a user with `role` may call something that requires `required`. */
export function roleAllows(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/**
 * What the server sends instead of a sensitive value that is set (sensitive values never leave the
 * server). Sending it back in an update keeps the stored value; `null` clears it.
 */
export const SENSITIVE_VALUE_SET = '{sensitive value set}';

/** The header that carries the CSRF token on every state-changing request. */
export const CSRF_HEADER = 'x-csrf-token';

/** An optional header naming the editor tab that made a change, echoed in `flow:changed` events. */
export const CLIENT_ID_HEADER = 'x-sluice-client';

/** The session cookie's name. */
export const SESSION_COOKIE = 'sluice_session';

/** Keys that must never become object keys (prototype pollution). */
export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** Component ids: the flow format's rule. */
export const idSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'may only contain letters, digits and . _ : -');

/** A component's revision: bumped on every change; an update naming an older one is refused (409). */
export const revisionSchema = named(
  'Revision',
  z.number().int().min(0),
  'The revision the client last saw; a change based on an older revision is refused with 409.',
);

export const errorDetailSchema = named(
  'ErrorDetail',
  z.object({
    /** Where the problem is: a body field (`component.properties.Regex`) or a flow path. */
    path: z.string().optional(),
    message: z.string(),
    componentId: z.string().optional(),
    componentName: z.string().optional(),
    property: z.string().optional(),
  }),
);
export type ErrorDetail = z.infer<typeof errorDetailSchema>;

export const errorBodySchema = named(
  'Error',
  z.object({ error: z.string(), details: z.array(errorDetailSchema) }),
  'Every error response: a sentence saying what is wrong, and details naming the offending fields or components.',
);
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** A record of strings that refuses prototype-polluting keys. */
export function safeRecord<V extends z.ZodType>(value: V) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      if (FORBIDDEN_KEYS.includes(key))
        ctx.addIssue({ code: 'custom', message: `"${key}" is not allowed as a name`, path: [key] });
    }
  });
}

/** `{ id, revision }` of a component in a selection. */
export const revisionedIdSchema = named('RevisionedId', z.object({ id: idSchema, revision: revisionSchema }).strict());
