import { isSecretKey } from '@stash/client/core';
import type { AccessValue } from './auth-schema.js';

/** One permission line of the auth file, parsed. `w` implies read (compat 6.3). */
export interface Grant {
  readonly prefix: string;
  readonly read: boolean;
  readonly write: boolean;
}

/** Map the auth file's access words to a grant; every accepted level includes read. */
export function parseAccess(access: AccessValue): { read: boolean; write: boolean } {
  switch (access) {
    case 'r':
    case 'read':
      return { read: true, write: false };
    default:
      return { read: true, write: true };
  }
}

function matches(pattern: string, key: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return key.startsWith(pattern.slice(0, -1));
  return key === pattern;
}

/** A grant covers a secret key only when its prefix (minus the trailing `*`) is itself a secret path. */
function coversSecrets(pattern: string): boolean {
  return isSecretKey(pattern.endsWith('*') ? pattern.slice(0, -1) : pattern);
}

/**
 * A principal's permissions: longest prefix wins, first match decides (compat 6.2); for secret
 * keys only explicit secret grants count and broader ones are skipped (compat 6.4).
 */
export class Acl {
  private readonly grants: readonly Grant[];

  constructor(grants: readonly Grant[]) {
    // stable sort: equal lengths keep file order
    this.grants = [...grants].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The grant that decides for `key`, or undefined when nothing matches. */
  grantFor(key: string): Grant | undefined {
    const secret = isSecretKey(key);
    for (const grant of this.grants) {
      if (!matches(grant.prefix, key)) continue;
      if (secret && !coversSecrets(grant.prefix)) continue;
      return grant;
    }
    return undefined;
  }

  canRead(key: string): boolean {
    return this.grantFor(key)?.read === true;
  }

  canWrite(key: string): boolean {
    return this.grantFor(key)?.write === true;
  }

  /** true when any grant allows writing */
  writesSomewhere(): boolean {
    return this.grants.some((g) => g.write);
  }

  /** read or write, as a route needs it */
  allows(need: 'read' | 'write', key: string): boolean {
    return need === 'read' ? this.canRead(key) : this.canWrite(key);
  }
}
