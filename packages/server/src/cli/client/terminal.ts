/** Where a command reads and writes; run.ts builds it from the process streams. */
export interface CliIo {
  out(data: string | Uint8Array): void;
  err(text: string): void;
  readStdin(): Promise<Uint8Array>;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  stdinIsTTY: boolean;
}

/** A CliIo on the real process streams. */
export function processIo(): CliIo {
  return {
    out: (data) => void process.stdout.write(data),
    err: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      return new Uint8Array(Buffer.concat(chunks));
    },
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
  };
}

/**
 * Rows as a table: on a terminal, aligned columns under a header; piped, tab-separated
 * rows without a header so `cut -f1` and friends work.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], aligned: boolean): string {
  if (!aligned) return rows.map((row) => `${row.join('\t')}\n`).join('');
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => [...(row[col] ?? '')].length)));
  const line = (row: readonly string[]): string =>
    `${row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd((widths[col] ?? 0) + cell.length - [...cell].length))).join('  ')}\n`;
  return all.map(line).join('');
}

/** Progress of many items on stderr, only on a terminal and only for at least `threshold` items. */
export class ProgressBar {
  readonly #active: boolean;
  #last = -1;

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
    this.io.err(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  }

  done(): void {
    if (this.#active) this.io.err('\r\x1b[2K');
  }
}
