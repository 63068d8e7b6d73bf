import { diffLines } from 'diff';
import { html, type Html } from '../html.js';

/** Unchanged lines shown around each change; longer unchanged runs fold into one line. */
const CONTEXT = 3;
/** Above this many characters on either side a diff is not computed (it is quadratic at worst). */
export const DIFF_LIMIT = 256 * 1024;

type Line = { kind: 'same' | 'old' | 'new'; text: string; oldNo?: number; newNo?: number };

function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Every line of both texts, marked as kept, only in the old one, or only in the new one. */
function diffRows(oldText: string, newText: string): Line[] {
  const rows: Line[] = [];
  let oldNo = 1;
  let newNo = 1;
  for (const part of diffLines(oldText, newText)) {
    for (const text of linesOf(part.value)) {
      if (part.added) rows.push({ kind: 'new', text, newNo: newNo++ });
      else if (part.removed) rows.push({ kind: 'old', text, oldNo: oldNo++ });
      else rows.push({ kind: 'same', text, oldNo: oldNo++, newNo: newNo++ });
    }
  }
  return rows;
}

export interface DiffLabels {
  /** what the old side is, e.g. "theirs (revision 14)" */
  old: string;
  new: string;
}

/**
 * A unified line diff of two texts, with line numbers on both sides, the unchanged runs folded
 * to CONTEXT lines around each change. Markup only: every line is escaped by the template tag.
 */
export function lineDiff(oldText: string, newText: string, labels: DiffLabels): Html {
  if (oldText === newText) return html`<p class="hint">No difference: both versions are the same.</p>`;
  if (oldText.length > DIFF_LIMIT || newText.length > DIFF_LIMIT) {
    return html`<p class="hint">These values are too large to compare here (over ${DIFF_LIMIT / 1024} KiB).</p>`;
  }
  const rows = diffRows(oldText, newText);
  const near = new Array<boolean>(rows.length).fill(false);
  rows.forEach((row, i) => {
    if (row.kind === 'same') return;
    for (let j = Math.max(0, i - CONTEXT); j <= Math.min(rows.length - 1, i + CONTEXT); j++) near[j] = true;
  });
  const out: Html[] = [];
  let folded = 0;
  const fold = (): void => {
    if (folded > 0) out.push(html`<tr class="diff-fold"><td colspan="3">${folded} unchanged ${folded === 1 ? 'line' : 'lines'}</td></tr>`);
    folded = 0;
  };
  rows.forEach((row, i) => {
    if (!near[i]) {
      folded++;
      return;
    }
    fold();
    const sign = row.kind === 'old' ? '−' : row.kind === 'new' ? '+' : ' ';
    out.push(
      html`<tr class="diff-${row.kind}"><td class="diff-no">${row.oldNo ?? ''}</td><td class="diff-no">${row.newNo ?? ''}</td><td class="diff-text"><span class="diff-sign" aria-hidden="true">${sign}</span><span class="visually-hidden">${row.kind === 'old' ? 'removed: ' : row.kind === 'new' ? 'added: ' : ''}</span>${row.text}</td></tr>`,
    );
  });
  fold();
  const removed = rows.filter((r) => r.kind === 'old').length;
  const added = rows.filter((r) => r.kind === 'new').length;
  return html`<div class="diff"><p class="diff-legend"><span class="diff-legend-old">− ${labels.old}</span><span class="diff-legend-new">+ ${labels.new}</span><span class="muted">${removed} removed, ${added} added</span></p><div class="table-wrap diff-wrap"><table class="diff-table"><thead class="visually-hidden"><tr><th scope="col">${labels.old} line</th><th scope="col">${labels.new} line</th><th scope="col">Text</th></tr></thead><tbody>${out}</tbody></table></div></div>`;
}
