// What the audit log records and how it is queried: written by the audit feature, read by its
// API route and by the web UI's audit view.

/** What a request did: the original's four plus `subscribe` for change streams. */
export const AUDIT_ACTIONS = ['read', 'create', 'update', 'delete', 'subscribe'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * How it ended. The original knew `success`, `denied` and `not_found` and filed every other
 * status under `not_found`; here bad requests, conflicts and server errors have their own.
 */
export const AUDIT_RESULTS = ['success', 'denied', 'not_found', 'invalid', 'conflict', 'error'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export const ACTOR_TYPES = ['user', 'token', 'public'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** One audited request (one row of `audit_log`). */
export interface AuditRecord {
  timestamp: Date;
  action: AuditAction;
  key: string;
  actor: string;
  actorType: ActorType;
  result: AuditResult;
  ip: string;
  userAgent: string;
  requestId: string;
  /** bytes of the value written (PUT) or of the response body (reads); null when none */
  valueSize: number | null;
}

export interface AuditEntry extends AuditRecord {
  id: number;
}

/** Query filters; every one optional. `key` ending in `*` is a prefix, anything else exact. */
export interface AuditFilter {
  key?: string | undefined;
  actor?: string | undefined;
  actorType?: ActorType | undefined;
  action?: AuditAction | undefined;
  result?: AuditResult | undefined;
  /** inclusive bounds */
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface AuditPage {
  /** newest first */
  entries: AuditEntry[];
  /** rows matching the filter before the limit */
  total: number;
}
