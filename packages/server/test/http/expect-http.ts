import { expect } from 'vitest';
import type { RawResponse } from './raw-http.js';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT = 'text/plain; charset=utf-8';

/** The original's rest.SendErrorJSON: status, JSON content type, `{"error":...}` plus newline. */
export async function expectJsonError(res: Response | RawResponse, status: number, message: string): Promise<void> {
  const text = res instanceof Response ? await res.text() : res.text;
  const type = res instanceof Response ? res.headers.get('content-type') : res.headers['content-type'];
  expect({ status: res.status, type, text }).toEqual({ status, type: JSON_TYPE, text: `${JSON.stringify({ error: message })}\n` });
}

/** A JSON 4xx whose message we only check loosely (starts with `prefix`). */
export async function expectJsonClientError(res: Response, status: number, prefix: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe(JSON_TYPE);
  const text = await res.text();
  expect(text.endsWith('\n')).toBe(true);
  const body = JSON.parse(text) as { error: string };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.startsWith(prefix), `"${body.error}" should start with "${prefix}"`).toBe(true);
}

/** An answer with no body at all (201/200/204 writes, 413, 503). */
export async function expectEmpty(res: Response, status: number): Promise<void> {
  expect(res.status).toBe(status);
  expect(await res.text()).toBe('');
}

/** Go's http.Error: plain text with `nosniff` (404, 405, cross-origin 403). */
export function expectPlain(res: RawResponse, status: number, body: string): void {
  expect({ status: res.status, type: res.headers['content-type'], nosniff: res.headers['x-content-type-options'], body: res.text }).toEqual({
    status,
    type: TEXT,
    nosniff: 'nosniff',
    body,
  });
}
