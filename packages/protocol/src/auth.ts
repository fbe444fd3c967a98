import { z } from 'zod';
import { roleSchema } from './common.ts';
import { named } from './registry.ts';

const username = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._@-]+$/, 'may only contain letters, digits and . _ @ -');

/** Passwords: at least 12 characters, as NiFi requires for its single user. */
export const passwordSchema = z.string().min(12, 'must be at least 12 characters').max(1024);

export const loginRequestSchema = named(
  'LoginRequest',
  z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict(),
);

export const sessionSchema = named(
  'Session',
  z.object({
    username: z.string(),
    role: roleSchema,
    /** Send it in the X-CSRF-Token header of every POST, PUT, PATCH and DELETE. */
    csrfToken: z.string(),
    expiresAt: z.number(),
  }),
  'The logged-in user. The session itself is an httpOnly SameSite=Strict cookie.',
);
export type SessionDto = z.infer<typeof sessionSchema>;

export const changePasswordRequestSchema = named(
  'ChangePasswordRequest',
  z.object({ currentPassword: z.string().min(1).max(1024), newPassword: passwordSchema }).strict(),
);

export const userSchema = named('User', z.object({ username, role: roleSchema }));
export const userListSchema = named('UserList', z.object({ users: z.array(userSchema) }));

export const userCreateSchema = named('UserCreate', z.object({ username, password: passwordSchema, role: roleSchema }).strict());
export const userUpdateSchema = named(
  'UserUpdate',
  z.object({ role: roleSchema.optional(), password: passwordSchema.optional() }).strict(),
);
export { username as usernameSchema };
