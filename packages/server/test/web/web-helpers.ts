// Requests as the web UI's pages make them: htmx sends form-encoded bodies and `HX-Request`.

export interface WebCall {
  status: number;
  headers: Headers;
  text: string;
}

export async function call(
  url: string,
  method: string,
  fields?: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<WebCall> {
  const init: RequestInit = { method, redirect: 'manual', headers: { 'hx-request': 'true', ...headers } };
  if (fields) {
    init.body = new URLSearchParams(fields).toString();
    (init.headers as Record<string, string>)['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export const get = (url: string, headers?: Record<string, string>): Promise<WebCall> => call(url, 'GET', undefined, headers);

/** PUT a value through the API, as another client would. */
export async function apiPut(base: string, key: string, value: string | Uint8Array, format = 'text', headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(`${base}/kv/${key}`, { method: 'PUT', body: typeof value === 'string' ? value : Buffer.from(value), headers: { 'x-stash-format': format, ...headers } });
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
}

export async function apiGet(
  base: string,
  key: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; format: string | null }> {
  const res = await fetch(`${base}/kv/${key}`, { headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), format: res.headers.get('content-type') };
}

/** The value of one hidden or text input named `name` in a rendered form. */
export function inputValue(page: string, name: string): string | undefined {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(page);
  return m?.[1];
}
