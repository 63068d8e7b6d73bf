import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from '../../src/web/html.js';

describe('html template tag', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const evil = `<script>alert(1)</script>"><img src=x onerror='y'>&`;
    const out = html`<p title="${evil}">${evil}</p>`.text;
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;">' +
        '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;</p>',
    );
  });

  it('keeps nested templates as markup and escapes lists item by item', () => {
    const items = ['a<b', html`<i>${'c&d'}</i>`];
    expect(html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`.text).toBe('<ul><li>a&lt;b</li><li><i>c&amp;d</i></li></ul>');
  });

  it('renders nothing for null, undefined and booleans, and numbers as they are', () => {
    expect(html`${null}${undefined}${false}${true}|${0}|${12.5}`.text).toBe('|0|12.5');
  });

  it('passes raw markup only when asked', () => {
    expect(html`${raw('<b>x</b>')}${'<b>x</b>'}`.text).toBe('<b>x</b>&lt;b&gt;x&lt;/b&gt;');
  });

  it('escapes the same text the same way every time (no regex state between calls)', () => {
    for (let i = 0; i < 3; i++) expect(escapeHtml('<x>')).toBe('&lt;x&gt;');
    expect(escapeHtml('plain')).toBe('plain');
  });
});
