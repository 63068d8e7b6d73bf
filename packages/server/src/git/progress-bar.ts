/** Where the bar draws: a terminal stream (stderr), so stdout stays clean for the result line. */
export interface ProgressOutput {
  isTTY?: boolean | undefined;
  columns?: number | undefined;
  write(text: string): unknown;
}

/** A one-line `label [#####.....] done/total` bar, redrawn at most every 100 ms; silent off a terminal. */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly label: string,
    /** below this many items the bar stays hidden */
    private readonly minTotal = 200,
  ) {}

  update(done: number, total: number): void {
    if (!this.out.isTTY || total < this.minTotal) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - this.label.length - 30));
    const filled = Math.round((done / total) * width);
    this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    this.drawn = true;
  }

  /** End the bar's line so later output starts clean. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
