import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from './config/server-config.js';
import { parseListenAddress } from './config/server-config.js';
import { KvService } from './domain/kv-service.js';
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics/metrics.js';
import { MeteredStore } from './storage/metered-store.js';
import { CachedStore } from './storage/cached-store.js';
import { openStore } from './storage/open-store.js';
import type { Store } from './storage/store.js';
import { createHistoryPruner } from './domain/history-pruner.js';
import { fanOutPublishers, startChangeStreams } from './events/change-streams.js';
import { OPEN_ACCESS } from './shared/access.js';
import { isPostgresUrl } from './storage/open-store.js';
import { StaticAssets } from './web/static-assets.js';
import { createLoginPage, createWebRoutes } from './web/web-routes.js';

export interface StashServer {
  app: FastifyInstance;
  store: Store;
  /** the read cache (`--cache.enabled`) in front of the KV traffic */
  cache?: CachedStore | undefined;
  service: KvService;
  metrics: Metrics;
  /** `http://host:port` the server listens on */
  url: string;
  /** graceful: stop accepting, finish in-flight requests, flush writes, close the database */
  close(): Promise<void>;
}

export interface ComposeOptions {
  version: string;
  log: Logger;
  /** answer plain GETs of in-memory keys ahead of fastify (default true; always off with the audit log) */
  fastReads?: boolean | undefined;
}

/** The composition root: build store, services and HTTP app from a validated config, then listen. */
export async function startStashServer(config: ServerConfig, options: ComposeOptions): Promise<StashServer> {
  const { log } = options;
  // optional features load only when their flags are on: less memory and a faster start without them
  // an invalid auth file stops start-up before anything is opened
  const authConfig =
    config.auth.file === '' ? undefined : await (await import('./auth/auth-file.js')).loadAuthFile(config.auth.file);
  if (config.cache.enabled && config.cache.maxKeys < 1) throw new Error('--cache.max-keys must be at least 1');

  // the UI's files are read (and compressed) before anything is opened: a missing build fails fast
  const assets = StaticAssets.load();
  const baseUrl = config.server.baseUrl;
  const store = await openStore(config.db, { sync: config.dbSync, rowCache: config.cache.maxKeys });
  const metrics = new Metrics();
  // KV traffic goes through the metrics decorator; `store` stays the raw adapter for tests and tooling
  const metered = config.metrics.enabled ? new MeteredStore(store, metrics) : store;
  // the read cache sits outermost, so a hit never reaches the store or its latency histogram
  const cache = config.cache.enabled ? new CachedStore(metered, { maxKeys: config.cache.maxKeys, metrics }) : undefined;
  const kvStore = cache ?? metered;
  if (cache) metrics.stalenessNow = () => cache.stalenessSeconds();
  const vault =
    config.secrets.key === ''
      ? undefined
      : new (await import('./crypto/secrets-vault.js')).SecretsVault({ masterKey: config.secrets.key });
  if (vault && config.auth.file === '') {
    log.warn('secrets are enabled without --auth.file: every client can read and write secret values');
  }
  // git mirror: repository ready before listening; commits run behind the writes, never in them
  const git = config.git.enabled
    ? await (await import('./git/git-integration.js')).startGitIntegration(config.git, { log, metrics, store, vault }).catch(async (error: unknown) => {
        await store.close();
        throw error;
      })
    : undefined;
  const streams = await startChangeStreams({
    store,
    log,
    sse: config.sse,
    metrics,
    postgresUrl: isPostgresUrl(config.db) ? config.db : undefined,
    invalidator: cache,
  }).catch(async (error: unknown) => {
    await git?.close();
    await store.close();
    throw error;
  });
  const service = new KvService({ store: kvStore, vault, publisher: fanOutPublishers(git?.mirror, streams.publisher) });
  const auth = authConfig
    ? await (await import('./auth/auth-runtime.js')).startAuth(authConfig, store, log, {
        file: config.auth.file,
        hotReload: config.auth.hotReload,
        loginTtlMs: config.auth.loginTtlMs,
        loginConcurrency: config.limits.loginConcurrency,
        baseUrl,
        loginPage: createLoginPage({ baseUrl, assets }),
      })
    : undefined;
  const audit = config.audit.enabled
    ? await (await import('./audit/audit-runtime.js')).startAudit(config.audit, { store, access: auth?.access ?? OPEN_ACCESS, log })
    : undefined;
  const app = createApp(
    {
      service,
      log,
      metrics: config.metrics.enabled ? metrics : undefined,
      access: auth?.access,
      streams: streams.handler(auth?.access ?? OPEN_ACCESS),
      history: git?.history,
      plugins: [
        ...(auth ? [auth.routes] : []),
        ...(audit?.plugins ?? []),
        createWebRoutes({
          service,
          access: auth?.access ?? OPEN_ACCESS,
          log,
          baseUrl,
          pageSize: config.server.pageSize,
          assets,
          audit: audit ? (filter, limit, offset) => audit.log.query(filter, limit, offset).then((r) => r.page) : undefined,
        }),
      ],
    },
    {
      version: options.version,
      baseUrl: config.server.baseUrl,
      bodyLimit: config.limits.bodySize,
      requestsPerSec: config.limits.requestsPerSec,
      maxConcurrent: config.limits.maxConcurrent,
      trustedProxies: config.server.trustedProxies,
      readTimeoutMs: config.server.readTimeoutMs,
      writeTimeoutMs: config.server.writeTimeoutMs,
      idleTimeoutMs: config.server.idleTimeoutMs,
      metricsToken: config.metrics.token,
      // every audited read writes a row through the audit hook, so reads take the full chain
      fastReads: !audit && options.fastReads !== false,
    },
  );
  const pruner = createHistoryPruner(store, config.history.retentionMs, log);

  const { host, port } = parseListenAddress(config.server.address);
  try {
    await app.listen({ host, port });
  } catch (error) {
    auth?.stop();
    await audit?.close();
    await streams.close();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  metrics.revision.set(await store.currentRevision());
  log.info(`stash server listening on ${host}:${bound}, db ${store.engine}`);

  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    cache,
    service,
    metrics,
    url: `http://${shownHost}:${bound}`,
    close: () =>
      (closing ??= (async () => {
        pruner.stop();
        auth?.stop();
        await streams.close(); // ends every change stream so clients resume elsewhere
        // in-flight requests finish first (their keep-alive sockets are reaped as soon as they go
        // idle); past --server.shutdown-timeout the remaining sockets are cut
        const reap = setInterval(() => app.server.closeIdleConnections(), 50);
        const cut = setTimeout(() => app.server.closeAllConnections(), config.server.shutdownTimeoutMs);
        cut.unref();
        await app.close();
        await audit?.close(); // the last requests' audit rows land before the database closes
        await git?.close(); // every queued commit (and push) lands before the database closes
        clearInterval(reap);
        clearTimeout(cut);
        await store.close(); // flushes the group-commit queue, then checkpoints and closes the database
      })()),
  };
}
