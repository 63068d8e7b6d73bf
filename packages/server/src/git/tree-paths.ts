/**
 * The files of the mirrored branch, kept in memory so each change is checked without touching
 * the disk: fast-import would silently turn another key's file into a directory (key `a` is
 * `a.val`, key `a.val/b` needs a directory `a.val`), so such collisions are refused up front.
 */
export class TreePaths {
  private readonly files = new Set<string>();
  /** directory -> number of files below it */
  private readonly dirs = new Map<string, number>();

  constructor(paths: Iterable<string> = []) {
    for (const path of paths) this.add(path);
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /** Why `path` cannot become a file, or undefined when it can. */
  collision(path: string): string | undefined {
    if (this.dirs.has(path)) return `${path} is a directory in the repository`;
    for (const dir of parents(path)) {
      if (this.files.has(dir)) return `${dir} is another key's file in the repository`;
    }
    return undefined;
  }

  add(path: string): void {
    if (this.files.has(path)) return;
    this.files.add(path);
    for (const dir of parents(path)) this.dirs.set(dir, (this.dirs.get(dir) ?? 0) + 1);
  }

  remove(path: string): void {
    if (!this.files.delete(path)) return;
    for (const dir of parents(path)) {
      const left = (this.dirs.get(dir) ?? 1) - 1;
      if (left === 0) this.dirs.delete(dir);
      else this.dirs.set(dir, left);
    }
  }
}

function parents(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}
