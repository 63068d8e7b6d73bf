import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../logger.js';
import type { AuthAccessControl } from './access-control.js';
import { loadAuthFile, type AuthConfig } from './auth-file.js';
import type { SessionStore } from './session-store.js';

const DEBOUNCE_MS = 100;

/** Users whose sessions must end: gone from the new config, or with another password hash. */
export function usersToLogOut(previous: AuthConfig, next: AuthConfig): string[] {
  const out: string[] = [];
  for (const user of previous.users.values()) {
    if (next.users.get(user.name)?.passwordHash !== user.passwordHash) out.push(user.name);
  }
  return out;
}

/**
 * Reloads the auth file (compat 6.8): validate first and keep the old config on error, swap
 * atomically, then delete only the sessions of removed users or changed passwords.
 * Reloads never overlap; a request during one runs once more after it.
 */
export class AuthReloader {
  private running: Promise<boolean> | undefined;
  private again = false;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly access: AuthAccessControl,
    private readonly sessions: SessionStore,
    private readonly log: Logger,
  ) {}

  /** Reload now; resolves true when the new config is in force. */
  reload(): Promise<boolean> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.reloadOnce().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        void this.reload();
      }
    });
    return this.running;
  }

  private async reloadOnce(): Promise<boolean> {
    let next: AuthConfig;
    try {
      next = await loadAuthFile(this.file);
    } catch (error) {
      this.log.warn(`auth reload rejected, keeping the current config: ${(error as Error).message}`);
      return false;
    }
    const previous = this.access.config;
    const loggedOut = usersToLogOut(previous, next);
    this.access.swap(next);
    const publicNote = next.publicAcl ? ', public access on' : '';
    this.log.info(`auth config reloaded: ${next.users.size} users, ${next.tokens.length} tokens${publicNote}`);
    if (loggedOut.length > 0) {
      try {
        const n = await this.sessions.deleteForUsers(loggedOut);
        this.log.info(`ended ${n} sessions of removed or changed users: ${loggedOut.join(', ')}`);
      } catch (error) {
        this.log.warn(`failed to delete sessions after auth reload: ${(error as Error).message}`);
      }
    }
    return true;
  }

  /**
   * Watch the file's directory (editors replace files by rename, which a file watch would miss)
   * and reload on events for its name, debounced.
   */
  watch(): void {
    const path = resolve(this.file);
    const name = basename(path);
    this.watcher = watch(dirname(path), (_event, filename) => {
      if (filename !== null && filename !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    });
    this.watcher.on('error', (error) => this.log.warn(`auth file watcher failed: ${error.message}`));
    this.log.info(`watching ${path} for auth changes`);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
