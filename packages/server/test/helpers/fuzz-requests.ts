import fc from 'fast-check';

/** Credentials the generated requests may carry, good ones included so deeper code runs too. */
export interface FuzzCredentials {
  /** a token with full access, or undefined on a server without auth */
  token?: string | undefined;
  /** `name=value` of a live session cookie */
  cookie?: string | undefined;
  /** `user:password` that logs in */
  login?: string | undefined;
}

/** One generated request, kept as parts so fast-check can shrink it and a failure reads well. */
export interface FuzzRequest {
  method: string;
  target: string;
  version: string;
  headers: Array<[string, string]>;
  body: string;
  framing: Framing;
}

type Framing = 'length' | 'short' | 'long' | 'none' | 'chunked' | 'bad-chunk' | 'unterminated' | 'chunk-ext' | 'chunked+length';

/** Keys of the values stored before the run live under this segment, which no generated request names. */
export const SENTINEL_SEGMENT = 'keep';

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'get', 'put', 'Post', 'delete', 'PROPFIND', 'BREW', 'M-SEARCH', 'G ET', ''];
const ROUTES = [
  '/kv/', '/kv', '/kv/history/', '/kv/subscribe/', '/kv/subscribe/*', '/login', '/logout', '/', '/web/', '/web/keys',
  '/web/keys/', '/web/keys/new', '/web/keys/view/', '/web/keys/edit/', '/web/keys/history/', '/web/keys/revision/',
  '/web/keys/diff/', '/web/keys/restore/', '/web/keys/compare/', '/web/keys/merge/', '/web/export', '/web/import',
  '/web/import/preview', '/web/import/apply', '/web/theme', '/web/sort', '/audit', '/web/audit', '/audit/query',
  '/static/', '/metrics', '/ping', '//kv/', '/kv//', '/KV/', '/web//keys/', '/kv/../web/', '*', 'http://x/kv/a', '',
];
// raw bytes are written as latin1, so '\xc3\x28' is invalid UTF-8 on the wire
const SEGMENTS = [
  'a', 'b', 'fuzz', 'app', 'secrets', 'public', 'app/secrets', 'x y', '%', '%zz', '%c3', '%C3%28', '%00', '%2e', '%2E%2E',
  '%2f', '%2F%2F', '%20', '%25', '%ff', '%e2%82', '%0d%0a', '.', '..', '', '*', '~', '+', ';', ':', '@', '!', "'", '"',
  '<script>', '\\', '%5c', '#frag', '$ZK$', 'new', 'view', '\xc3\x28', '\xff\xfe', '\xe6\x97\xa5', 'ping', '%3Cb%3E',
];
const QUERIES = [
  '', '', '?prefix=a', '?prefix=%zz', '?filter=secrets', '?filter=bogus', '?limit=-1', '?limit=abc', '?limit=99999999999',
  '?revision=abc', '?revision=-1', '?revision=1', '?since=x', '?since=1', '?cas=abc', '?cas=-1', '?cas=0', '?values=true',
  '?a=%', '?&&&==', '?v=1', '?format=bogus', '?from=a&to=b', '?from=1&to=99', '?rev=x', '?rev=1', '?page=-1', '?sort=x',
  `?q=${'q'.repeat(5000)}`,
];
const LONG = [300, 3000, 20_000, 70_000];
const TAGS = ['"1"', '*', 'W/"1"', '"abc"', '1', '""', '"-1"', '"99999999999999999999"', '"1", "2"', ',', '"', ' '];

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

/** Credentials that work on this server (none without auth). */
function goodCredentials(c: FuzzCredentials): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (c.token) out.push(['Authorization', `Bearer ${c.token}`], ['authorization', `bearer ${c.token}`], ['X-Auth-Token', c.token]);
  if (c.login) out.push(['Authorization', `Basic ${b64(c.login)}`]);
  if (c.cookie) out.push(['Cookie', c.cookie], ['Cookie', `${c.cookie}; ${c.cookie}`]);
  return out;
}

/** Good credentials and many broken ones. */
function credentialHeaders(c: FuzzCredentials): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['Authorization', 'Bearer wrong-token'], ['Authorization', 'Bearer'], ['Authorization', 'Bearer  '],
    ['Authorization', 'Basic !!!'], ['Authorization', `Basic ${b64('nocolon')}`], ['Authorization', `Basic ${b64(':')}`],
    ['Authorization', `Basic ${b64('admin:\xff\xfe')}`], ['Authorization', 'Digest x'], ['X-Auth-Token', 'bad'],
    ['X-Auth-Token', ''], ['Cookie', 'stash-auth=garbage'], ['Cookie', 'stash-auth='], ['Cookie', '=;;;'],
    ['Cookie', '__Host-stash-auth=x; stash-auth=y; stash-auth=z'], ['Cookie', `stash-auth=${'c'.repeat(5000)}`],
    ['Cookie', 'stash-auth="\xc3\x28"'],
  ];
  return [...out, ...goodCredentials(c)];
}

/** sent as a line without a colon */
const BARE_HEADER = 'NoColonHere';

const OTHER_HEADERS: Array<[string, string]> = [
  ['Content-Length', '0'], ['Content-Length', '5'], ['Content-Length', '-1'], ['Content-Length', '+5'],
  ['Content-Length', 'abc'], ['Content-Length', '99999999999999999999'], ['Content-Length', ' 3'], ['Content-Length', '3, 3'],
  ['Content-Length', '0x10'], ['Content-Length', ''], ['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'gzip'],
  ['Transfer-Encoding', 'chunked, chunked'], ['Transfer-Encoding', 'identity'], ['Transfer-Encoding', 'xchunked'],
  ['X-Stash-Format', 'json'], ['X-Stash-Format', 'bogus'], ['X-Stash-Format', ''], ['Content-Type', 'application/json'],
  ['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Type', 'multipart/form-data; boundary=x'],
  ['Content-Type', 'text/plain; charset=utf-16'], ['Content-Type', 'garbage'], ['Last-Event-ID', '-1'],
  ['Last-Event-ID', 'abc'], ['Last-Event-ID', '99999999999999999999'], ['Origin', 'http://evil.example'], ['Origin', 'null'],
  ['Sec-Fetch-Site', 'cross-site'], ['Sec-Fetch-Site', 'same-origin'], ['Host', ''], ['Host', 'evil'], ['Host', 'a:b:c'],
  ['X-Forwarded-For', '1.2.3.4, garbage'], ['X-Real-IP', 'not-an-ip'], ['X-Request-ID', 'r'.repeat(3000)],
  ['X-Request-ID', '\xc3\x28'], ['Accept-Encoding', 'gzip, br'], ['Range', 'bytes=0-1'], ['Expect', '100-continue'],
  ['Expect', 'bogus'], ['Connection', 'keep-alive'], ['Connection', 'upgrade'], ['Upgrade', 'websocket'],
  ['Upgrade', 'h2c'], ['X-Big', 'b'.repeat(20_000)], ['X-Huge', 'h'.repeat(1_100_000)], [BARE_HEADER, ''],
  ['Bad Name', 'x'], ['X-Ctl', 'a\x01b'], [' folded', 'continued'], ['Accept', 'text/event-stream'],
  ['HX-Request', 'true'], ['HX-Target', '\xff'],
];

const BODIES = [
  '', 'x', 'hello', '\xc3\x28', '\xff\xfe\xfd', '\x00\x00', '[', '[{', '{}', '[]', 'null', '[null]', '[[]]',
  '{"key":1}', '[{"key":"a","value":1}]', '[{"key":"a","value":"v","encoding":"base64"}]',
  '[{"key":"a","value":"!!","encoding":"base64"}]', '[{"key":"a","delete":"yes"}]', '[{"key":"","value":"v"}]',
  '[{"key":"a\xc3\x28","value":"v"}]', '[{"key":"%zz","value":"v","format":"bogus"}]', '[{"key":"a","value":"v","extra":1}]',
  `[${'['.repeat(5000)}`, '[{"key":"a","value":"v"},{"key":"a","value":"w"}]', '{"filter":{"key":1},"limit":-1}',
  '{"limit":"x"}', '{"from":"not a date"}', 'username=admin&password=wrong', 'username=%zz&password=%', 'value=v&format=bogus',
  'key=fuzz%2Fnew&value=v', 'value=\xc3\x28&format=json', 'rev=abc', 'rev=-1', 'from=1&to=2', 'revision=x&server_revision=-5',
  'updated_at=garbage&force=maybe', '--x\r\nContent-Disposition: form-data; name="file"\r\n\r\n[{]\r\n--x--\r\n',
  '$ZK$short', `$ZK$${'A'.repeat(200)}`, '1'.repeat(5000), 'v'.repeat(1_100_000),
];

const CLEAN_SEGMENTS = ['a', 'b', 'fuzz', 'app', 'secrets', 'public', 'app/secrets', 'x', 'new', 'view', 'cfg.json', 'ping'];
const cleanSegment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CLEAN_SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'abcdefghijlmnopqrstuvwxyz0123456789-_.'), minLength: 1, maxLength: 8 }) },
);
const wildSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'abcdefghijlmnopqrstuvwxyz0123456789-_.%'), maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom(...LONG).map((n) => 'l'.repeat(n)) },
);
const cleanKey = fc.array(cleanSegment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));

// routes that take a key after them, and routes that are whole paths
const KEY_ROUTES = ROUTES.filter((r) => r.endsWith('/') && r !== '/' && !r.startsWith('//'));
const WHOLE_ROUTES = ['/', '/kv/', '/login', '/logout', '/web/keys', '/web/keys/new', '/web/export', '/web/import', '/web/import/preview', '/web/import/apply', '/web/theme', '/web/sort', '/web/view-mode', '/audit', '/web/audit', '/audit/query', '/metrics', '/ping', '/kv/subscribe/*', '/static/app.css'];

/** A well-formed path: a route with a clean key, or a whole route; one odd segment at times. */
const plausibleTarget = fc.oneof(
  fc
    .tuple(fc.constantFrom(...KEY_ROUTES), fc.array(cleanSegment, { minLength: 1, maxLength: 3 }), fc.option(wildSegment, { freq: 5 }), fc.constantFrom(...QUERIES))
    .map(([route, parts, odd, query]) => `${route}${[...parts, ...(odd === null ? [] : [odd])].join('/')}${query}`),
  fc.tuple(fc.constantFrom(...WHOLE_ROUTES), fc.constantFrom(...QUERIES)).map(([route, query]) => `${route}${query}`),
);

function targetOf(segment: fc.Arbitrary<string>, separators: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...ROUTES), fc.array(segment, { maxLength: 4 }), fc.constantFrom(...separators), fc.constantFrom(...QUERIES))
    .map(([route, parts, sep, query]) => `${route}${parts.join(sep)}${query}`);
}

/** Bodies a real client might send to some route: values, batches, web forms, audit queries. */
const plausibleBody = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc
    .array(
      fc.record(
        { key: cleanKey, value: fc.string({ maxLength: 12 }), format: fc.constantFrom('text', 'json', 'yaml', 'bogus'), encoding: fc.constantFrom('text', 'base64'), delete: fc.boolean() },
        { requiredKeys: ['key'] },
      ),
      { maxLength: 4 },
    )
    .map((items) => JSON.stringify(items)),
  fc
    .record({ key: cleanKey, value: fc.string({ maxLength: 12 }), format: fc.constantFrom('text', 'json', 'bogus'), rev: fc.constantFrom('1', '2', 'x') })
    .map((f) => new URLSearchParams(f).toString()),
  fc.constantFrom('username=admin&password=admin-pw', 'username=admin&password=nope', '{"limit":5}', '{"key":"a","action":"update"}'),
);

/** Mostly well-formed requests (so handlers run, not only the parser), with one odd part at times. */
function plausibleRequest(c: FuzzCredentials): fc.Arbitrary<FuzzRequest> {
  const good = goodCredentials(c);
  const header = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(good.length > 0 ? good : credentialHeaders(c))) },
    { weight: 1, arbitrary: fc.constantFrom(...credentialHeaders(c)) },
    { weight: 1, arbitrary: fc.constantFrom<[string, string]>(['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Type', 'application/json'], ['X-Stash-Format', 'json'], ['HX-Request', 'true'], ['Last-Event-ID', '1']) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('If-Match', 'If-None-Match'), fc.constantFrom(...TAGS)) },
  );
  return fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'DELETE'),
    target: plausibleTarget,
    version: fc.constant('HTTP/1.1'),
    headers: fc.array(header, { maxLength: 3 }),
    body: fc.oneof({ weight: 4, arbitrary: plausibleBody }, { weight: 1, arbitrary: fc.constantFrom(...BODIES) }),
    framing: fc.constantFrom<Framing>('length', 'length', 'length', 'chunked'),
  });
}

/** Anything goes: odd methods, escapes, framings, versions, header and body garbage. */
function hostileRequest(c: FuzzCredentials): fc.Arbitrary<FuzzRequest> {
  const header = fc.oneof(fc.constantFrom(...credentialHeaders(c)), fc.constantFrom(...OTHER_HEADERS), fc.tuple(fc.constantFrom('If-Match', 'If-None-Match'), fc.constantFrom(...TAGS)));
  return fc.record({
    method: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE') }, { weight: 2, arbitrary: fc.constantFrom(...METHODS) }),
    target: targetOf(wildSegment, ['/', '//', '/./', '/../']),
    version: fc.oneof({ weight: 8, arbitrary: fc.constant('HTTP/1.1') }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', 'http/1.1', '') }),
    headers: fc.array(header, { maxLength: 6 }),
    body: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...BODIES) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')) }),
    framing: fc.constantFrom<Framing>('length', 'length', 'none', 'short', 'long', 'chunked', 'bad-chunk', 'unterminated', 'chunk-ext', 'chunked+length'),
  });
}

/** The generator of raw requests for a server with these credentials. */
export function fuzzRequest(credentials: FuzzCredentials): fc.Arbitrary<FuzzRequest> {
  return fc
    .oneof({ weight: 3, arbitrary: plausibleRequest(credentials) }, { weight: 2, arbitrary: hostileRequest(credentials) })
    .filter((r) => !namesSentinel(r));
}

/** True when any part of the request could name a sentinel key, however it is escaped. */
function namesSentinel(r: FuzzRequest): boolean {
  const text = `${r.target} ${r.body} ${r.headers.map((h) => h.join(':')).join(' ')}`.toLowerCase();
  const unescaped = text.replace(/%([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return unescaped.includes(SENTINEL_SEGMENT) || unescaped.replace(/\\u006b/g, 'k').includes(SENTINEL_SEGMENT);
}

/** The body is shorter than its framing announces: only a timeout or the client leaving ends it. */
export function isIncomplete(r: FuzzRequest): boolean {
  return r.framing === 'long' || r.framing === 'unterminated';
}

/** The request's bytes, framed as `framing` says (on purpose wrongly for most framings). */
export function renderRequest(r: FuzzRequest, host: string): Buffer {
  const body = Buffer.from(r.body, 'latin1');
  const head = [`${r.method} ${r.target} ${r.version}`.trimEnd(), `Host: ${host}`, ...r.headers.map(([n, v]) => (n === BARE_HEADER ? n : `${n}: ${v}`))];
  const hex = body.length.toString(16);
  let payload: Buffer = body;
  if (r.framing === 'length') head.push(`Content-Length: ${body.length}`);
  else if (r.framing === 'short') head.push(`Content-Length: ${Math.max(0, body.length - 2)}`);
  else if (r.framing === 'long') head.push(`Content-Length: ${body.length + 10}`);
  else if (r.framing !== 'none') {
    head.push('Transfer-Encoding: chunked');
    if (r.framing === 'chunked+length') head.push(`Content-Length: ${body.length}`);
    const size = r.framing === 'bad-chunk' ? `${hex}zz` : r.framing === 'chunk-ext' ? `${hex};name="v"` : hex;
    const chunk = body.length > 0 ? `${size}\r\n${r.body}\r\n` : '';
    payload = Buffer.from(`${chunk}${r.framing === 'unterminated' ? '' : '0\r\n\r\n'}`, 'latin1');
  }
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

/** A request as a reader can replay it: the bytes with long runs written as `c{×n}`. */
export function describeRequest(r: FuzzRequest, host: string): string {
  const bytes = renderRequest(r, host).toString('latin1').replace(/(.)\1{19,}/gs, (run, c: string) => `${c}{×${run.length}}`);
  return JSON.stringify(bytes.length > 1500 ? `${bytes.slice(0, 1500)}... (${bytes.length} chars)` : bytes);
}
