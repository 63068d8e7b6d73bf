/** Small parsers for the deployment files the deploy-files test checks (no Docker or nginx here). */

export interface DockerInstruction {
  /** upper-cased: FROM, RUN, COPY, CMD ... */
  op: string;
  args: string;
  /** index of the FROM this instruction belongs to */
  stage: number;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  let stage = -1;
  return logical.map((line) => {
    const space = line.search(/\s/);
    const op = (space === -1 ? line : line.slice(0, space)).toUpperCase();
    if (op === 'FROM') stage++;
    return { op, args: space === -1 ? '' : line.slice(space + 1).trim(), stage };
  });
}

/** A CMD/ENTRYPOINT in exec form (`["node", "x"]`); shell form is refused. */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not exec form: ${args}`);
  return parsed as string[];
}

/** `.dockerignore` patterns as a predicate on context-relative paths (a match on a parent excludes it too). */
export function dockerIgnore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((p) => {
      const source = p
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .map((part) => (part === '**' ? '**' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/(^|\/)\*\*\//g, '$1(?:.*/)?')
        .replace(/\*\*$/, '.*');
      return new RegExp(`^${source}$`);
    });
  return (path) => {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (patterns.some((re) => re.test(prefix))) return true;
    }
    return false;
  };
}

export interface NginxBlock {
  name: string;
  args: string[];
  children: NginxBlock[];
}

/** Words, quoted strings and `{ } ;`, with `#` comments (outside quotes) dropped. */
function nginxTokens(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) i++;
    else if (c === '#') while (i < text.length && text.charAt(i) !== '\n') i++;
    else if (c === '{' || c === '}' || c === ';') tokens.push(text.charAt(i++));
    else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text.charAt(j) !== c) j += text.charAt(j) === '\\' ? 2 : 1;
      tokens.push(text.slice(i + 1, j));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};]/.test(text.charAt(j))) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** nginx configuration as a tree of directives (blocks have children, simple directives none). */
export function parseNginx(text: string): NginxBlock {
  const tokens = nginxTokens(text);
  const root: NginxBlock = { name: 'root', args: [], children: [] };
  const stack = [root];
  let words: string[] = [];
  for (const token of tokens) {
    const top = stack[stack.length - 1] as NginxBlock;
    if (token === ';' || token === '{') {
      const [name = '', ...args] = words;
      const node: NginxBlock = { name, args, children: [] };
      top.children.push(node);
      if (token === '{') stack.push(node);
      words = [];
    } else if (token === '}') {
      if (words.length > 0) throw new Error(`nginx: directive without ';' before '}': ${words.join(' ')}`);
      stack.pop();
      if (stack.length === 0) throw new Error("nginx: unbalanced '}'");
    } else {
      words.push(token);
    }
  }
  if (stack.length !== 1 || words.length > 0) throw new Error('nginx: unterminated block or directive');
  return root;
}

/** Every block or directive named `name` anywhere under `node`. */
export function findAll(node: NginxBlock, name: string): NginxBlock[] {
  return node.children.flatMap((child) => [...(child.name === name ? [child] : []), ...findAll(child, name)]);
}

/** Seconds of an nginx time value (`90`, `90s`, `15m`, `1h`). */
export function nginxSeconds(value: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  if (!m) throw new Error(`nginx time ${value}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? 's'] ?? 1;
  return Number(m[1]) * unit;
}

/** Shell commands of the first ```sh block under a Markdown heading (comments and blank lines dropped, `&&` split). */
export function quickStartCommands(markdown: string, heading: string): string[] {
  const at = markdown.indexOf(`\n## ${heading}\n`);
  if (at === -1) throw new Error(`no "## ${heading}" section`);
  const block = /```(?:sh|bash|shell)\n([\s\S]*?)```/.exec(markdown.slice(at));
  if (!block) throw new Error(`no shell block under "## ${heading}"`);
  return (block[1] ?? '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => line.split('&&').map((c) => c.trim()));
}
