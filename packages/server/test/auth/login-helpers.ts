import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const ACL_FILE = join(FIXTURES, 'auth-acl.yml');

/** POST /login as a browser form would; never follows the redirect. */
export function postLogin(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

/** Log in and return the `name=value` pair of the session cookie. */
export async function loginCookie(url: string, username: string, password: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await postLogin(url, { username, password }, headers);
  await res.arrayBuffer();
  if (res.status !== 303) throw new Error(`login of ${username} answered ${res.status}`);
  const cookie = res.headers.get('set-cookie') ?? '';
  return cookie.split(';')[0] ?? '';
}
