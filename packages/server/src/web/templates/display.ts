import type { Format } from '@stash/client/core';
import { html, type Html } from '../html.js';
import { icon } from './icons.js';

// Small pieces every template shows the same way.

/** Bytes as the original shows them: `512 B`, `1.5 KB`, `2.0 MB`. */
export function formatSize(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}

/** `2026-12-02 02:31` in UTC, inside a <time> with the exact instant. */
/**
 * Shown only at a phone's width, inside another cell, where the column that holds `content`
 * is hidden (`.narrow-only` in style.css): each is shown once, never read twice.
 */
export function narrowOnly(content: Html, className = ''): Html {
  return html`<span class="narrow-only${className === '' ? '' : ` ${className}`}">${content}</span>`;
}

export function timeTag(date: Date): Html {
  const iso = date.toISOString();
  return html`<time datetime="${iso}" title="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)}</time>`;
}

/** A UI path of a key: the key is one escaped segment (`/` as %2F), as the original's links. */
export function keyPath(base: string, route: 'view' | 'edit' | 'history' | 'revision' | 'restore' | 'diff' | 'compare' | 'merge' | 'row' | '', key: string): string {
  return `${base}/web/keys/${route === '' ? '' : `${route}/`}${encodeURIComponent(key)}`;
}

export function formatBadge(format: Format): Html {
  return html`<span class="badge badge-format">${format.toUpperCase()}</span>`;
}

/** Lock for secrets, shield for zero-knowledge values; `labelled` adds the words beside them. */
export function keyBadges(k: { secret: boolean; zkEncrypted: boolean }, labelled = false): Html {
  return html`${k.secret
    ? html`<span class="badge badge-secret" title="Secret: encrypted by the server">${icon('lock')}<span class="${labelled ? '' : 'visually-hidden'}">Secret</span></span>`
    : ''}${k.zkEncrypted
    ? html`<span class="badge badge-zk" title="Zero-Knowledge Encrypted: only clients with the passphrase can read it">${icon('shield')}<span class="${labelled ? '' : 'visually-hidden'}">Zero-Knowledge Encrypted</span></span>`
    : ''}`;
}
