import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { inflateSync } from 'node:zlib';

/** Bytes to search, named by where they came from. */
export interface Haystack {
  where: string;
  bytes: Buffer;
}

/** Something that must not be in any haystack, named for the failure message. */
export interface Needle {
  what: string;
  bytes: Buffer;
}

/** A secret as it could leak: plain text, base64 (as history and exports carry values) and hex. */
export function secretForms(name: string, plain: string): Needle[] {
  const raw = Buffer.from(plain, 'utf8');
  return [
    { what: `${name} (plain)`, bytes: raw },
    { what: `${name} (base64)`, bytes: Buffer.from(raw.toString('base64')) },
    { what: `${name} (hex)`, bytes: Buffer.from(raw.toString('hex')) },
  ];
}

/**
 * Every `size`-character window of a token: a log that printed part of it (beyond the 4
 * characters of `token:abcd****`) leaks as surely as one that printed all of it.
 */
export function tokenWindows(name: string, token: string, size = 8): Needle[] {
  const out: Needle[] = [];
  for (let i = 0; i + size <= token.length; i++) out.push({ what: `${name}[${i}..${i + size})`, bytes: Buffer.from(token.slice(i, i + size)) });
  return out;
}

/** "needle in haystack" for every hit. */
export function findLeaks(haystacks: readonly Haystack[], needles: readonly Needle[]): string[] {
  const hits: string[] = [];
  for (const h of haystacks) for (const n of needles) if (h.bytes.includes(n.bytes)) hits.push(`${n.what} in ${h.where}`);
  return hits;
}

/** Every regular file below `dir`, raw. */
export function filesUnder(dir: string): Haystack[] {
  const out: Haystack[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path));
    else if (st.isFile()) out.push({ where: path, bytes: readFileSync(path) });
  }
  return out;
}

/**
 * A git repository's content as git stores it, decompressed: every loose object inflated, and
 * every object (loose and packed) through `git cat-file --batch-all-objects --batch`.
 */
export function gitObjects(repo: string): Haystack[] {
  const objects = join(repo, '.git', 'objects');
  const loose = filesUnder(objects)
    .filter((h) => /^[0-9a-f]{2}\/[0-9a-f]{38}$/.test(relative(objects, h.where)))
    .map((h) => ({ where: `${h.where} (inflated)`, bytes: inflateSync(h.bytes) }));
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env['GIT_DIR'];
  const all = execFileSync('git', ['-C', repo, 'cat-file', '--batch-all-objects', '--batch'], { env, maxBuffer: 256 << 20 });
  return [...loose, { where: `${repo}: git cat-file --batch-all-objects`, bytes: all }];
}
