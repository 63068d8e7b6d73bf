import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../logger.js';
import type { LoginPage } from '../shared/ports.js';
import { ALL_METHODS, methodNotAllowed } from '../shared/replies.js';
import { formFields, isHttps } from '../shared/request-info.js';
import { SESSION_COOKIES, sessionCookieValues, type AuthAccessControl } from './access-control.js';
import type { LoginLimiter } from './login-limiter.js';
import type { SessionStore } from './session-store.js';

export interface AuthRoutesOptions {
  access: AuthAccessControl;
  sessions: SessionStore;
  limiter: LoginLimiter;
  log: Logger;
  baseUrl: string;
  loginTtlMs: number;
  /** concurrent `POST /login` at most (bcrypt is CPU-bound) */
  loginConcurrency: number;
  /** answer with the login form (the web UI draws it), with the last attempt's error and user name */
  loginPage: LoginPage;
}


function cookie(name: string, value: string, path: string, maxAge: number, secure: boolean): string {
  return `${name}=${value}; Path=${path}; Max-Age=${maxAge}; HttpOnly${secure ? '; Secure' : ''}; SameSite=Strict`;
}

/**
 * `GET /login`, `POST /login`, `POST /logout` (compat 6.7), as a plugin for createApp. Paths are
 * registered without the base URL (the app strips it); redirects and cookies carry it.
 */
export function createAuthRoutes(options: AuthRoutesOptions): (app: FastifyInstance) => void {
  const { access, sessions, limiter, log, baseUrl } = options;
  const maxLogins = Math.max(1, options.loginConcurrency);
  const maxAge = Math.floor(options.loginTtlMs / 1000);
  const cookiePath = `${baseUrl}/`;
  let activeLogins = 0;


  const login = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const ip = req.clientIp;
    const wait = limiter.retryAfterMs(ip);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return options.loginPage(req, reply, 429, 'Too many failed login attempts, try again later');
    }
    if (activeLogins >= maxLogins) return reply.code(503).send('');
    activeLogins++;
    try {
      const form = formFields(req.body);
      const username = form.get('username') ?? '';
      const password = form.get('password') ?? '';
      if (username === '' || password === '') return options.loginPage(req, reply, 401, 'Username and password are required');
      const config = access.config;
      const user = config.users.get(username);
      // unknown users cost one bcrypt as well, so timing does not reveal which names exist
      const matched = await bcrypt.compare(password, user?.passwordHash ?? config.dummyHash);
      if (!matched || !user) {
        limiter.fail(ip);
        // an unknown name may be a password typed into the wrong field: never log it
        log.warn(`failed login ${user ? `for user ${user.name}` : 'for an unknown user'} from ${ip}`, req.id);
        return options.loginPage(req, reply, 401, 'Invalid username or password', username);
      }
      limiter.succeed(ip);
      const token = randomUUID();
      await sessions.create({ token, username: user.name, expiresAt: new Date(Date.now() + maxAge * 1000) });
      const https = isHttps(req);
      const name = https && baseUrl === '' ? SESSION_COOKIES[0] : SESSION_COOKIES[1];
      log.info(`user ${user.name} logged in from ${ip}`, req.id);
      return reply
        .code(303)
        .header('set-cookie', cookie(name, token, cookiePath, maxAge, https))
        .header('location', `${baseUrl}/`)
        .send('');
    } finally {
      activeLogins--;
    }
  };

  const logout = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    for (const token of sessionCookieValues(req.headers.cookie)) {
      access.revoke(token);
      await sessions.delete(token);
    }
    const https = isHttps(req);
    return reply
      .code(303)
      .header('set-cookie', [
        // browsers only accept a __Host- cookie with Secure and Path=/
        cookie(SESSION_COOKIES[0], '', '/', 0, true),
        cookie(SESSION_COOKIES[1], '', cookiePath, 0, https),
      ])
      .header('hx-refresh', 'true')
      .header('location', `${baseUrl}/login`)
      .send('');
  };

  return (app) => {
    app.route({
      method: ALL_METHODS,
      url: '/login',
      handler: (req, reply) => {
        if (req.method === 'GET' || req.method === 'HEAD') return options.loginPage(req, reply, 200);
        if (req.method === 'POST') return login(req, reply);
        return methodNotAllowed(reply, 'GET, HEAD, POST');
      },
    });
    app.route({
      method: ALL_METHODS,
      url: '/logout',
      handler: (req, reply) => (req.method === 'POST' ? logout(req, reply) : methodNotAllowed(reply, 'POST')),
    });
  };
}
