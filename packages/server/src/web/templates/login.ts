import { html, type Html } from '../html.js';
import type { StaticAssets } from '../static-assets.js';
import type { Theme } from '../preferences.js';
import { icon } from './icons.js';
import { pageShell } from './layout.js';

/** `GET /login` and its answers: the sign-in form, with the error of the last attempt. */
export function loginPage(base: string, assets: StaticAssets, theme: Theme, message?: string, username = ''): Html {
  return pageShell({
    base,
    assets,
    theme,
    title: 'Stash - Login',
    body: html`<main class="login">
<form method="post" action="${base}/login" class="login-card">
<div class="brand brand-large">${icon('logo', 'brand-icon')}<h1>Stash</h1></div>
${message ? html`<p class="alert alert-error" role="alert">${message}</p>` : ''}
<div class="field"><label for="username">Username</label><input id="username" class="input" name="username" value="${username}" autocomplete="username" required${username === '' ? ' autofocus' : ''}></div>
<div class="field"><label for="password">Password</label><input id="password" class="input" name="password" type="password" autocomplete="current-password" required${username === '' ? '' : ' autofocus'}></div>
<button type="submit" class="btn btn-primary btn-block">Login</button>
</form>
</main>`,
  });
}
