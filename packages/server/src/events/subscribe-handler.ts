import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessControl } from '../shared/access.js';
import type { StreamHandler } from '../shared/ports.js';
import { decodePathPart, splitUrl } from '../shared/route-path.js';
import type { Logger } from '../logger.js';
import type { Store } from '../storage/store.js';
import { classifyStorageError } from '../storage/storage-errors.js';
import { JSON_CONTENT_TYPE } from '../shared/replies.js';
import { goJson } from '../shared/wire-format.js';
import type { SseHub } from './sse-hub.js';
import { SseSubscriber } from './sse-subscriber.js';
import { parseResumeRevision, parseStreamFilter } from './sse-wire.js';

export interface StreamHandlerOptions {
  hub: SseHub;
  store: Pick<Store, 'changesSince' | 'currentRevision' | 'oldestRetainedRevision'>;
  access: AccessControl;
  log: Logger;
  /** --sse.buffer */
  buffer: number;
  /** change-log page size during replay */
  pageSize?: number;
}

/** Pre-stream errors are plain text, as the original's `http.Error` (compat 3.5). */
function plain(reply: FastifyReply, status: number, body: string): void {
  void reply
    .code(status)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(body);
}

/**
 * Where the client wants to resume: a present `Last-Event-ID` decides alone (it is the newer
 * position on a reconnect), else `?since=`. Malformed values mean "no resume" (live only).
 */
function resumePoint(req: FastifyRequest, query: string): number | undefined {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') return parseResumeRevision(header);
  const since = new URLSearchParams(query).get('since');
  return since === null ? undefined : parseResumeRevision(since);
}

/** `GET /kv/subscribe/...` (compat 5.6 + extensions 4): validate, authorise, stream. */
export function createStreamHandler(options: StreamHandlerOptions): StreamHandler {
  const { hub, store, access, log } = options;
  const pageSize = options.pageSize ?? 500;

  /**
   * Replay the log after `from`, or announce a reset when it no longer reaches back that far.
   * `current` and `oldest` were read after the subscriber was registered, so every revision
   * above `current` reaches it live and the replay needs to go no further.
   */
  async function start(sub: SseSubscriber, from: number | undefined, current: number, oldest: number): Promise<void> {
    if (from === undefined || from >= current) {
      sub.skipTo(current); // live only; a future position too
    } else if (from < oldest - 1) {
      sub.reset(current);
    } else {
      sub.skipTo(from);
      let after = from;
      while (sub.isOpen && after < current) {
        const page = await store.changesSince(after, pageSize);
        // a prune raises this floor before its entries vanish, so read after the page: while a
        // slow reader held the replay back, the log may have been pruned past `after` (a gap)
        if (after < (await store.oldestRetainedRevision()) - 1) {
          sub.reset(current);
          break;
        }
        for (const entry of page) {
          if (!sub.isOpen) return;
          await sub.replay(entry);
        }
        if (page.length < pageSize) break;
        after = page.at(-1)?.revision ?? current;
      }
      sub.skipTo(current);
    }
    sub.goLive();
  }

  return async (req, reply, rawPath) => {
    const decoded = decodePathPart(rawPath);
    if (decoded === undefined) return plain(reply, 400, 'invalid URL escape\n');
    const filter = parseStreamFilter(decoded);
    if (!filter) return plain(reply, 400, 'key path required\n');

    const scope = filter.kind === 'exact' ? filter.key : filter.kind === 'prefix' ? filter.prefix : '';
    const decision = await access.authorize(req, 'principal', scope);
    if (!decision.ok) return plain(reply, decision.status, decision.status === 401 ? 'Unauthorized\n' : 'Forbidden\n');
    const { principal } = decision;
    if (filter.kind === 'exact' && !principal.canRead(filter.key)) return plain(reply, 403, 'access denied\n');

    // the global guards' headers (request id, app info, rate limit) plus the stream's own
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) headers[name] = typeof value === 'number' ? String(value) : value;
    }
    headers['content-type'] = 'text/event-stream';
    if (req.method === 'HEAD') {
      void reply.headers(headers).code(200).send();
      return;
    }
    if (hub.isClosing) return plain(reply, 503, 'server is shutting down\n');
    const from = resumePoint(req, splitUrl(req.url).query);
    reply.hijack();
    const res = reply.raw;
    req.leaveInFlight();
    const sub = new SseSubscriber(res, { filter, principal, buffer: options.buffer, counters: hub.counters });
    hub.add(sub); // before reading any revision, so nothing committed from now on can be missed
    try {
      const [current, oldest] = await Promise.all([
        store.currentRevision(),
        from === undefined ? 0 : store.oldestRetainedRevision(),
      ]);
      if (!sub.isOpen) return;
      // where this stream starts: a client that drops before the first event resumes with ?since=
      headers['x-stash-revision'] = String(current);
      res.writeHead(200, headers);
      res.flushHeaders();
      await start(sub, from, current, oldest);
    } catch (error) {
      log.warn(`change stream on ${decoded}: ${String(error)}`, req.id);
      if (res.headersSent) {
        sub.destroy(); // the client reconnects and resumes from its last event
      } else if (classifyStorageError(error) === 'unavailable') {
        // the database is down or silent: the same answer as every other route, so clients retry
        res.writeHead(503, { 'content-type': JSON_CONTENT_TYPE, 'retry-after': '1' });
        res.end(goJson({ error: 'database unavailable' }));
      } else {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Internal Server Error\n');
      }
    }
  };
}
