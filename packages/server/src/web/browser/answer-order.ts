// The key list and the modal show answers in the order they were asked for. Several requests
// replace each (the search, pages, folders, toggles, writes and live refreshes the list; views,
// history, diffs and the live refresh of an open view the modal), and htmx swaps each answer
// when it arrives: a live refresh asked for just before the user cleared the search, or clicked
// History in the open view, could answer after the user's request did and put the old content
// back. A read (GET) that answers after a newer request's answer was shown in the same place is
// dropped; a write's answer is always shown (it carries the write's outcome).

import type { HtmxResponseDetail } from './page.js';

interface Region {
  asked: number;
  shown: number;
}

const regions = new Map<Element, Region>();
for (const id of ['keys-table', 'modal-content']) {
  const el = document.getElementById(id);
  if (el) regions.set(el, { asked: 0, shown: 0 });
}
const asked = new WeakMap<XMLHttpRequest, { region: Region; n: number }>();

document.addEventListener('htmx:beforeSend', (event) => {
  const detail = (event as CustomEvent<HtmxResponseDetail>).detail;
  const region = regions.get(detail.target);
  if (region) asked.set(detail.xhr, { region, n: ++region.asked });
});

document.addEventListener('htmx:beforeSwap', (event) => {
  const detail = (event as CustomEvent<HtmxResponseDetail>).detail;
  const request = asked.get(detail.xhr);
  // an answer the server sent elsewhere (a form's error, HX-Retarget) is a write's: always shown
  if (!request || regions.get(detail.target) !== request.region || !detail.shouldSwap) return;
  const { region, n } = request;
  if (detail.requestConfig?.verb === 'get' && n < region.shown) detail.shouldSwap = false;
  else region.shown = Math.max(region.shown, n);
});
