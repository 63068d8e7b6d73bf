import { diff3Merge } from 'node-diff3';

export interface MergeResult {
  text: string;
  /** regions both sides changed differently, marked in the text for the user to resolve */
  conflicts: number;
}

function lines(text: string): string[] {
  return text.split('\n');
}

/**
 * A three-way line merge of the user's edit (`mine`) and the version saved meanwhile (`theirs`),
 * both made from `base` (the revision the form was opened on). Changes on one side only are
 * taken; regions changed on both sides are written between conflict markers.
 */
export function mergeEdits(base: string, mine: string, theirs: string, theirsLabel: string): MergeResult {
  let conflicts = 0;
  const out: string[] = [];
  for (const region of diff3Merge(lines(mine), lines(base), lines(theirs), { excludeFalseConflicts: true })) {
    if (region.ok) {
      out.push(...region.ok);
      continue;
    }
    if (!region.conflict) continue;
    conflicts++;
    out.push('<<<<<<< yours', ...region.conflict.a, '=======', ...region.conflict.b, `>>>>>>> ${theirsLabel}`);
  }
  return { text: out.join('\n'), conflicts };
}
