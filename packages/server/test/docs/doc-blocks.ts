import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What a fenced block of a page is, for the docs test. */
export type BlockKind = 'shell' | 'ts' | 'other';

export interface DocBlock {
  /** page path relative to the repository root, e.g. `docs/auth.md` */
  page: string;
  /** 1-based line of the opening fence */
  line: number;
  lang: string;
  kind: BlockKind;
  code: string;
  /** `<!-- not-run: reason -->` */
  notRun?: string;
  /** `<!-- server: --flag=value ... -->`: extra `stash server` flags for the server this block talks to */
  serverArgs?: string;
  /** `<!-- file: docs/examples/auth.yml -->`: the block shows that file, byte for byte */
  showsFile?: string;
  /** set on a block marked `<!-- output -->`: it holds the output of the run block just before it */
  expectsOutputOf?: DocBlock;
  /** set on a run block that a following `<!-- output -->` block describes */
  expectedOutput?: string;
}

export interface ParsedPage {
  page: string;
  blocks: DocBlock[];
  /** marker and fence problems, each `page:line: message` */
  problems: string[];
}

const SHELL = new Set(['sh', 'bash', 'shell']);
const TS = new Set(['ts', 'typescript']);
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;
const MARKER = /^\s*<!--\s*(not-run|server|output|file)\s*(?::\s*(.*?))?\s*-->\s*$/;

/** README.md and every docs/*.md; `docs/_*.md` are drafts that other pages absorb, not published pages. */
export function discoverPages(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md') && !name.startsWith('_'))
    .sort()
    .map((name) => join('docs', name));
  return ['README.md', ...docs];
}

/** Split a page into fenced blocks with the markers written on the lines just above each fence. */
export function parsePage(root: string, page: string): ParsedPage {
  const lines = readFileSync(resolve(root, page), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  const problems: string[] = [];
  let pending: { name: string; value: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    const marker = MARKER.exec(text);
    if (marker) {
      pending.push({ name: marker[1] as string, value: marker[2] ?? '', line: i + 1 });
      continue;
    }
    const fence = FENCE.exec(text);
    if (!fence) {
      if (text.trim() !== '' && pending.length > 0) {
        problems.push(`${page}:${pending[0]?.line}: marker not directly above a fence`);
      }
      if (text.trim() !== '') pending = [];
      continue;
    }
    const [, indent = '', ticks = '', lang = ''] = fence;
    const body: string[] = [];
    let j = i + 1;
    const closer = new RegExp(`^\\s*${ticks[0] === '`' ? '`' : '~'}{${ticks.length},}\\s*$`);
    for (; j < lines.length && !closer.test(lines[j] as string); j++) {
      const raw = lines[j] as string;
      body.push(raw.startsWith(indent) ? raw.slice(indent.length) : raw.trimStart());
    }
    if (j >= lines.length) problems.push(`${page}:${i + 1}: fence never closed`);
    const block: DocBlock = {
      page,
      line: i + 1,
      lang,
      kind: SHELL.has(lang) ? 'shell' : TS.has(lang) ? 'ts' : 'other',
      code: body.join('\n') + '\n',
    };
    if (lang === '') problems.push(`${page}:${i + 1}: fence without a language (use text for output, sh for commands)`);
    for (const m of pending) applyMarker(block, m, blocks, problems);
    pending = [];
    blocks.push(block);
    i = j;
  }
  return { page, blocks, problems };
}

function applyMarker(
  block: DocBlock,
  marker: { name: string; value: string; line: number },
  earlier: readonly DocBlock[],
  problems: string[],
): void {
  const where = `${block.page}:${marker.line}`;
  if (marker.name === 'not-run') {
    if (marker.value === '') problems.push(`${where}: not-run needs a reason`);
    block.notRun = marker.value;
  } else if (marker.name === 'server') {
    block.serverArgs = marker.value;
  } else if (marker.name === 'file') {
    block.showsFile = marker.value;
  } else {
    const previous = earlier[earlier.length - 1];
    if (previous === undefined || previous.kind === 'other') {
      problems.push(`${where}: output marker must follow a sh or ts block`);
      return;
    }
    block.expectsOutputOf = previous;
    previous.expectedOutput = block.code;
  }
}

/** The block's place for messages, e.g. `docs/auth.md:42`. */
export const where = (block: DocBlock): string => `${block.page}:${block.line}`;

/** A file name for the block: `docs/auth.md` line 42 becomes `docs-auth-md-L42`. */
export const slug = (block: DocBlock): string => `${block.page.replace(/[^a-z0-9]+/gi, '-')}-L${block.line}`;

/**
 * Compare a block's actual output with its `<!-- output -->` block: line by line, trailing
 * spaces ignored; `...` inside a line matches any text, a line that is only `...` any lines.
 */
export function outputMatches(expected: string, actual: string): boolean {
  const pattern = expected
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => {
      if (line.trim() === '...') return '(?:[^\\n]*\\n)*?';
      const parts = line.trimEnd().split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      return `${parts.join('[^\\n]*')}[ \\t]*\\n`;
    })
    .join('');
  const normalised = actual.replace(/\r\n/g, '\n').replace(/\n*$/, '\n');
  return new RegExp(`^${pattern}$`).test(normalised);
}
