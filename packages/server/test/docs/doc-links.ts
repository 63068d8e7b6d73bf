import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const FENCE = /^\s*(`{3,}|~{3,})/;
const LINK = /\]\(([^)\s]+)\)/g;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, line] of outsideFences(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = (m[1] ?? '').toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Lines outside fenced code, with their 1-based numbers. */
function outsideFences(markdown: string): [number, string][] {
  const out: [number, string][] = [];
  let fence: string | undefined;
  for (const [i, line] of markdown.split('\n').entries()) {
    const m = FENCE.exec(line);
    if (m) {
      const ticks = m[1] as string;
      if (fence === undefined) fence = ticks;
      else if (ticks[0] === fence[0] && ticks.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence === undefined) out.push([i + 1, line]);
  }
  return out;
}

/** Relative links of a page (outside code) whose file or `#anchor` does not exist, as `page:line: link`. */
export function brokenLinks(root: string, page: string): string[] {
  const path = resolve(root, page);
  const markdown = readFileSync(path, 'utf8');
  const broken: string[] = [];
  for (const [number, line] of outsideFences(markdown)) {
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(LINK)) {
      const link = m[1] as string;
      if (/^[a-z]+:/i.test(link)) continue; // http:, https:, mailto:
      const [file = '', anchor] = link.split('#');
      const target = file === '' ? path : resolve(dirname(path), file);
      const at = `${page}:${number}: ${link}`;
      if (!existsSync(target)) broken.push(`${at} (no such file)`);
      else if (anchor !== undefined && target.endsWith('.md') && !headingAnchors(readFileSync(target, 'utf8')).has(anchor)) {
        broken.push(`${at} (no such heading)`);
      }
    }
  }
  return broken;
}
