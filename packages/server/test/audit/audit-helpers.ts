import { join } from 'node:path';
import type { AuditEntryResponse } from '../../src/audit/audit-query-route.js';

export const AUDIT_AUTH_FILE = join(import.meta.dirname, '..', 'fixtures', 'audit-auth.yml');
export const ADMIN = { 'x-auth-token': 'audit-admin-token' };
export const WRITER = { 'x-auth-token': 'app-writer-token' };

export type AuditEntryJson = AuditEntryResponse;
export interface AuditAnswer {
  entries: AuditEntryJson[];
  total: number;
  limit: number;
}

/** POST /audit/query with a JSON (or raw string) body. */
export function postQuery(url: string, body: unknown, headers: Record<string, string> = ADMIN): Promise<Response> {
  return fetch(`${url}/audit/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Query as admin and expect 200. */
export async function queryAudit(url: string, body: Record<string, unknown> = {}): Promise<AuditAnswer> {
  const res = await postQuery(url, body);
  if (res.status !== 200) throw new Error(`audit query answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as AuditAnswer;
}

/**
 * Rows are written once a response is over; poll until `count` entries match (the query itself
 * flushes what is pending, so this only waits for the last response's close event).
 */
export async function waitForAudit(url: string, body: Record<string, unknown>, count: number): Promise<AuditAnswer> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const answer = await queryAudit(url, body);
    if (answer.total >= count || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const put = (url: string, key: string, body: string, headers: Record<string, string> = ADMIN): Promise<Response> =>
  fetch(`${url}/kv/${key}`, { method: 'PUT', body, headers });
export const get = (url: string, key: string, headers: Record<string, string> = ADMIN): Promise<Response> =>
  fetch(`${url}/kv/${key}`, { headers });
