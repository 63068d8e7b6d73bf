import { parseStoredTime } from '../storage/time-format.js';
import type { ActorType, AuditAction, AuditEntry, AuditResult } from './audit-store.js';

/** One `audit_log` row as both engines return it (PostgreSQL may hand numbers as strings). */
export interface AuditRow {
  id: number;
  timestamp: string;
  action: string;
  key: string;
  actor: string;
  actor_type: string;
  result: string;
  ip: string | null;
  user_agent: string | null;
  value_size: number | null;
  request_id: string | null;
}

/** A row as the domain's entry: both adapters read through this. */
export function toAuditEntry(row: AuditRow | Record<string, unknown>): AuditEntry {
  const r = row as AuditRow;
  return {
    id: Number(r.id),
    timestamp: parseStoredTime(r.timestamp),
    action: r.action as AuditAction,
    key: r.key,
    actor: r.actor,
    actorType: r.actor_type as ActorType,
    result: r.result as AuditResult,
    ip: r.ip ?? '',
    userAgent: r.user_agent ?? '',
    requestId: r.request_id ?? '',
    valueSize: r.value_size === null || r.value_size === undefined ? null : Number(r.value_size),
  };
}
