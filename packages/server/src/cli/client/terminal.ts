import { createInterface } from 'node:readline/promises';

/** Where a command reads and writes; run.ts builds it from the process streams. */
export interface CliIo {
  out(data: string | Uint8Array): void;
  err(text: string): void;
  readStdin(): Promise<Uint8Array>;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  stdinIsTTY: boolean;
  /** ANSI colour allowed on stdout / stderr (a terminal, NO_COLOR unset, TERM not dumb); default off */
  stdoutColor?: boolean;
  stderrColor?: boolean;
  /** ask a question on the terminal and resolve to the answer line; absent when nobody can answer */
  ask?(question: string): Promise<string>;
}

/**
 * Colour only on a terminal, and never with NO_COLOR set to anything but '' (no-color.org) or
 * TERM=dumb.
 */
export function colorAllowed(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
}

const SGR = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' } as const;
export type Style = keyof typeof SGR;

/** `text` in a style when colour is on, else unchanged. */
export function paint(enabled: boolean | undefined, style: Style, text: string): string {
  return enabled === true && text !== '' ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text;
}

/** A CliIo on the real process streams. */
export function processIo(env: NodeJS.ProcessEnv = process.env): CliIo {
  const stdinIsTTY = process.stdin.isTTY === true;
  const stderrIsTTY = process.stderr.isTTY === true;
  return {
    out: (data) => void process.stdout.write(data),
    err: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      return new Uint8Array(Buffer.concat(chunks));
    },
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY,
    stdinIsTTY,
    stdoutColor: colorAllowed(process.stdout.isTTY === true, env),
    stderrColor: colorAllowed(stderrIsTTY, env),
    ...(stdinIsTTY && stderrIsTTY ? { ask: askOnTerminal } : {}),
  };
}

async function askOnTerminal(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    // Ctrl-D answers '' (no), like a plain Enter
    const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
    return await Promise.race([rl.question(question), closed]);
  } finally {
    rl.close();
  }
}

/**
 * Rows as a table: on a terminal, aligned columns under a header; piped, tab-separated
 * rows without a header so `cut -f1` and friends work.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  aligned: boolean,
  options: { color?: boolean | undefined; cellStyle?: (row: number, col: number) => Style | undefined } = {},
): string {
  if (!aligned) return rows.map((row) => `${row.join('\t')}\n`).join('');
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => [...(row[col] ?? '')].length)));
  // pad first, colour after, so escape codes never count as width
  const line = (row: readonly string[], index: number): string =>
    `${row
      .map((cell, col) => {
        const padded = col === row.length - 1 ? cell : cell.padEnd((widths[col] ?? 0) + cell.length - [...cell].length);
        const style = index === 0 ? 'bold' : options.cellStyle?.(index - 1, col);
        return style === undefined ? padded : paint(options.color, style, padded);
      })
      .join('  ')}\n`;
  return all.map(line).join('');
}

/** Progress of many items on stderr, only on a terminal and only for at least `threshold` items. */
export class ProgressBar {
  readonly #active: boolean;
  #last = -1;
  #drawnWidth = 0;

  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    total: number,
    threshold = 20,
  ) {
    this.#active = io.stderrIsTTY && total >= threshold;
  }

  update(done: number, total: number): void {
    if (!this.#active || total === 0) return;
    const width = 30;
    const filled = Math.round((done / total) * width);
    if (filled === this.#last && done !== total) return;
    this.#last = filled;
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    this.#drawnWidth = line.length;
    this.io.err(`\r${line}`);
  }

  /** Blank the bar's line with spaces (no escape codes, so TERM=dumb terminals are fine too). */
  done(): void {
    if (this.#active && this.#drawnWidth > 0) this.io.err(`\r${' '.repeat(this.#drawnWidth)}\r`);
    this.#drawnWidth = 0;
  }
}
