import { routes, SESSION_COOKIE, type SessionDto } from '@sluice/protocol';
import { ApiError } from '../http/errors.ts';
import { bind, bindPublic } from '../http/router.ts';
import type { Session } from '../security/sessions.ts';
import type { ServerContext } from '../server-context.ts';

/** The Set-Cookie value for a session (or for clearing it, with `maxAgeSeconds` 0). */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(id)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

function sessionDto(context: ServerContext, session: Session): SessionDto {
  return {
    username: session.username,
    role: session.role,
    csrfToken: session.csrfToken,
    expiresAt: context.sessions.expiresAt(session),
  };
}

/** Login, logout, the session, passwords and users. */
export function authRoutes(context: ServerContext) {
  return {
    login: bindPublic(routes.login, async ({ body, req, res }) => {
      const address = req.socket.remoteAddress ?? 'unknown';
      const wait = context.loginLimiter.attempt(address, body.username);
      if (wait !== undefined) {
        throw new ApiError(429, `too many login attempts; try again in ${wait} seconds`, [], { 'Retry-After': String(wait) });
      }
      const user = await context.users.authenticate(body.username, body.password);
      context.loginLimiter.result(body.username, user !== undefined);
      if (user === undefined) {
        context.log({ level: 'WARN', message: `failed login for "${body.username.slice(0, 64)}" from ${address}` });
        throw new ApiError(401, 'wrong username or password');
      }
      const session = context.sessions.create(user.username, user.role);
      const dto = sessionDto(context, session);
      res.setHeader('Set-Cookie', sessionCookie(session.id, Math.floor((dto.expiresAt - Date.now()) / 1000), context.secure));
      context.log({ level: 'INFO', message: `${user.username} (${user.role}) logged in from ${address}` });
      return dto;
    }),
    logout: bind(routes.logout, ({ session, res }) => {
      context.sessions.end(session.id, 'logged out');
      res.setHeader('Set-Cookie', sessionCookie('', 0, context.secure));
      return undefined;
    }),
    session: bind(routes.session, ({ session }) => sessionDto(context, session)),
    changePassword: bind(routes.changePassword, async ({ session, body }) => {
      const user = await context.users.authenticate(session.username, body.currentPassword);
      if (user === undefined) {
        throw new ApiError(400, 'the current password is wrong', [{ path: 'body.currentPassword', message: 'wrong password' }]);
      }
      await context.users.set(session.username, { password: body.newPassword }, 'update');
      context.sessions.endUser(session.username, 'password changed', session.id);
      return undefined;
    }),
    listUsers: bind(routes.listUsers, async () => {
      await context.users.refresh();
      return { users: context.users.list() };
    }),
    createUser: bind(routes.createUser, ({ body }) =>
      context.users.set(body.username, { password: body.password, role: body.role }, 'create'),
    ),
    updateUser: bind(routes.updateUser, async ({ params, body }) => {
      const user = await context.users.set(
        params.username,
        {
          ...(body.password === undefined ? {} : { password: body.password }),
          ...(body.role === undefined ? {} : { role: body.role }),
        },
        'update',
      );
      context.sessions.endUser(params.username, 'account changed');
      return user;
    }),
    deleteUser: bind(routes.deleteUser, async ({ params }) => {
      if (!(await context.users.delete(params.username))) throw new ApiError(404, `there is no user "${params.username}"`);
      context.sessions.endUser(params.username, 'user deleted');
      return undefined;
    }),
  };
}
