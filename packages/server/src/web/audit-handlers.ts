import { ACTOR_TYPES, AUDIT_ACTIONS, AUDIT_RESULTS, type AuditFilter } from '../shared/audit-records.js';
import { plainError } from '../shared/replies.js';
import { sendHtml } from './respond.js';
import { auditPage, type AuditModel } from './templates/audit.js';
import { pageParam, type WebRequest } from './web-context.js';

const FIELDS = ['key', 'actor', 'actor_type', 'action', 'result', 'from', 'to'] as const;

/** Who may see the audit log: admins, or everyone while auth is off (the UI is open then). */
export function mayAudit(w: WebRequest): boolean {
  return !w.deps.access.enabled || w.viewer.principal.admin;
}

const oneOf = <T extends string>(values: readonly T[], raw: string): T | undefined => values.find((v) => v === raw);

/** A `datetime-local` value (minutes, or seconds) read as UTC; undefined when empty; NaN date when bad. */
function utc(raw: string): Date | undefined {
  if (raw === '') return undefined;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(raw) ? new Date(`${raw}Z`) : new Date(Number.NaN);
}

/** `GET /audit`: the filters of the form (the query string), one page of entries. */
export async function auditView(w: WebRequest): Promise<void> {
  const read = w.deps.audit;
  if (!read) return plainError(w.reply, 404, '404 page not found');
  if (!mayAudit(w)) return plainError(w.reply, 403, 'admin access required');
  const form = Object.fromEntries(FIELDS.map((f) => [f, (w.query.get(f) ?? '').trim()])) as AuditModel['form'];
  const filter: AuditFilter = {};
  if (form.key !== '') filter.key = form.key;
  if (form.actor !== '') filter.actor = form.actor;
  filter.actorType = oneOf(ACTOR_TYPES, form.actor_type);
  filter.action = oneOf(AUDIT_ACTIONS, form.action);
  filter.result = oneOf(AUDIT_RESULTS, form.result);
  filter.from = utc(form.from);
  filter.to = utc(form.to);
  const bad = [filter.from, filter.to].some((d) => d !== undefined && Number.isNaN(d.getTime()));
  const size = w.deps.pageSize > 0 ? w.deps.pageSize : 1000;
  const wanted = pageParam(w);
  const page = bad ? { entries: [], total: 0 } : await read(filter, size, (wanted - 1) * size);
  const pages = Math.max(1, Math.ceil(page.total / size));
  const query = new URLSearchParams(FIELDS.flatMap((f) => (form[f] === '' ? [] : [[f, form[f]]]))).toString();
  await sendHtml(w.req, w.reply, bad ? 400 : 200, auditPage({
    base: w.deps.baseUrl,
    assets: w.deps.assets,
    prefs: w.prefs,
    form,
    entries: page.entries,
    total: page.total,
    page: Math.min(wanted, pages),
    pages,
    query,
    problem: bad ? 'From and To must be dates and times, like 2026-12-02T08:30.' : undefined,
  }));
}
