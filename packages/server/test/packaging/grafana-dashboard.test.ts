import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const DASHBOARD = fileURLToPath(new URL('../../../../deploy/grafana-dashboard.json', import.meta.url));
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];
// added by Prometheus at scrape time, or by histogram_quantile's input
const SCRAPE_LABELS = new Set(['instance', 'job']);

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

/** What `/metrics` exports: each metric's type, and the labels its samples carry. */
interface Exported {
  types: Map<string, string>;
  labels: Map<string, Set<string>>;
}

function parseExposition(text: string): Exported {
  const types = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? /.exec(line);
    if (!sample) continue;
    const name = sample[1] as string;
    const set = labels.get(name) ?? new Set<string>();
    for (const pair of (sample[2] ?? '').matchAll(/(\w+)="/g)) set.add(pair[1] as string);
    labels.set(name, set);
  }
  return { types, labels };
}

/** The exported metric a series name in a query belongs to (histogram series map to the histogram). */
function exportedName(series: string, types: Map<string, string>): string | undefined {
  if (types.has(series)) return series;
  const suffix = HISTOGRAM_SUFFIXES.find((s) => series.endsWith(s));
  const base = suffix ? series.slice(0, -suffix.length) : undefined;
  return base && types.get(base) === 'histogram' ? base : undefined;
}

/** Label names a PromQL expression groups by or matches on. */
function labelsUsed(expr: string): string[] {
  const found = new Set<string>();
  for (const by of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const name of (by[1] ?? '').split(',')) if (name.trim() !== '') found.add(name.trim());
  }
  for (const selector of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of (selector[1] ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) found.add(matcher[1] as string);
  }
  return [...found];
}

describe('deploy/grafana-dashboard.json against a real server', () => {
  let server: TestServer;
  let exported: Exported;
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: Array<{ query?: unknown }> } };
  const queries = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr }))),
    ...dashboard.templating.list.flatMap((v) =>
      typeof v.query === 'object' && v.query !== null && 'query' in v.query ? [{ panel: 'variables', expr: String(v.query.query) }] : [],
    ),
  ];

  beforeAll(async () => {
    server = await startTestServer(['--cache.enabled']);
    // traffic that gives every labelled metric samples: writes, reads, a miss, a lost CAS, a list, a stream
    const url = server.url;
    await fetch(`${url}/kv/dash/a`, { method: 'PUT', body: '1' });
    await (await fetch(`${url}/kv/dash/a`)).text();
    await (await fetch(`${url}/kv/dash/a`)).text();
    await (await fetch(`${url}/kv/dash/none`)).text();
    await (await fetch(`${url}/kv/dash/a`, { method: 'PUT', body: '2', headers: { 'if-match': '"999"' } })).text();
    await (await fetch(`${url}/kv/?prefix=dash/`)).text();
    const stream = new AbortController();
    const sse = await fetch(`${url}/kv/subscribe/dash/*`, { signal: stream.signal });
    stream.abort();
    await sse.body?.cancel().catch(() => undefined);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    exported = parseExposition(await res.text());
  });
  afterAll(async () => {
    await server?.close();
  });

  it('has panels with queries', () => {
    expect(queries.length).toBeGreaterThan(20);
    expect(dashboard.panels.filter((p) => p.type !== 'row').every((p) => (p.targets ?? []).length > 0)).toBe(true);
  });

  it('uses only metric names the server exports', () => {
    const unknown: string[] = [];
    for (const { panel, expr } of queries) {
      const names = [...expr.matchAll(/\bstash_\w+/g)].map((m) => m[0]);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) if (!exportedName(name, exported.types)) unknown.push(`${panel}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it('groups and filters only by labels those metrics carry', () => {
    const wrong: string[] = [];
    for (const { panel, expr } of queries) {
      const metrics = [...expr.matchAll(/\bstash_\w+/g)].map((m) => exportedName(m[0], exported.types) ?? m[0]);
      const histogram = metrics.some((m) => exported.types.get(m) === 'histogram');
      const carried = new Set<string>();
      let sampled = false;
      for (const m of metrics) {
        for (const [series, names] of exported.labels) {
          if (series !== m && !HISTOGRAM_SUFFIXES.some((s) => series === `${m}${s}`)) continue;
          sampled = true;
          for (const name of names) carried.add(name);
        }
      }
      if (!sampled) continue; // e.g. git failures: exported (TYPE line) but no sample without a failure
      for (const label of labelsUsed(expr)) {
        if (SCRAPE_LABELS.has(label) || (label === 'le' && histogram) || carried.has(label)) continue;
        wrong.push(`${panel}: ${label} in ${expr}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
