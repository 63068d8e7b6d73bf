import type { FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import type { Store } from '../storage/store.js';
import { AuthAccessControl } from './access-control.js';
import type { AuthConfig } from './auth-file.js';
import { AuthReloader } from './auth-reloader.js';
import { LoginLimiter } from './login-limiter.js';
import { createAuthRoutes } from './login-routes.js';
import type { LoginPage } from '../shared/ports.js';
import { openSessionStore, type SessionStore } from './session-store.js';

const CLEANUP_INTERVAL_MS = 60 * 60_000;
/** How soon a logout on another server sharing the database reaches this server's open streams. */
export const SESSION_RECHECK_MS = 5_000;

export interface AuthRuntimeOptions {
  file: string;
  hotReload: boolean;
  loginTtlMs: number;
  loginConcurrency: number;
  baseUrl: string;
  loginPage: LoginPage;
}

/** Everything auth adds to a server; built by the composition root when `--auth.file` is set. */
export interface AuthRuntime {
  access: AuthAccessControl;
  sessions: SessionStore;
  /** the `/login` and `/logout` routes, for createApp's plugins */
  routes: (app: FastifyInstance) => void;
  /** stop watcher, SIGHUP handler and cleanup timer; call before closing the store */
  stop(): void;
}

/**
 * Wire auth for a loaded config: sessions on the raw store, access control, login routes,
 * expired-session cleanup (now and hourly), a recheck of admitted sessions every few seconds (a
 * logout on another server), SIGHUP reload, and the file watcher with `hotReload`.
 */
export async function startAuth(config: AuthConfig, store: Store, log: Logger, options: AuthRuntimeOptions): Promise<AuthRuntime> {
  const sessions = await openSessionStore(store);
  const access = new AuthAccessControl(config, sessions);
  const reloader = new AuthReloader(options.file, access, sessions, log);

  const cleanup = (): void => {
    access.pruneRevoked(options.loginTtlMs);
    sessions.deleteExpired().then(
      (n) => {
        if (n > 0) log.info(`deleted ${n} expired sessions`);
      },
      (error: unknown) => log.warn(`expired session cleanup failed: ${(error as Error).message}`),
    );
  };
  cleanup();
  const timer = setInterval(cleanup, CLEANUP_INTERVAL_MS);
  timer.unref();
  const recheck = setInterval(() => {
    access.recheckSessions().catch((error: unknown) => log.warn(`session recheck failed: ${(error as Error).message}`));
  }, SESSION_RECHECK_MS);
  recheck.unref();

  const onHangup = (): void => {
    log.info('SIGHUP received, reloading auth config');
    void reloader.reload();
  };
  process.on('SIGHUP', onHangup);
  if (options.hotReload) reloader.watch();

  log.info(
    `auth enabled: ${config.users.size} users, ${config.tokens.length} tokens${config.publicAcl ? ', public access on' : ''}`,
  );
  return {
    access,
    sessions,
    routes: createAuthRoutes({
      access,
      sessions,
      limiter: new LoginLimiter(),
      log,
      baseUrl: options.baseUrl,
      loginTtlMs: options.loginTtlMs,
      loginConcurrency: options.loginConcurrency,
      loginPage: options.loginPage,
    }),
    stop: () => {
      clearInterval(timer);
      clearInterval(recheck);
      process.off('SIGHUP', onHangup);
      reloader.stop();
    },
  };
}
