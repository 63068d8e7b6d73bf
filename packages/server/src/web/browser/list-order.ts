// The key list shows answers in the order they were asked for. Several requests replace it (the
// search, pages, folders, toggles, writes, live refreshes), and htmx swaps each answer when it
// arrives: a live refresh asked for just before the user cleared the search could answer after
// the search did and put the filtered list back under an empty search box. A read of the list
// that answers after a newer request's answer was shown is dropped; a write's answer is always
// shown (it carries the write's outcome, and its own change brings a fresh refresh anyway).

interface HtmxRequestDetail {
  xhr: XMLHttpRequest;
  target: Element;
  requestConfig?: { verb?: string };
}

interface HtmxSwapDetail extends HtmxRequestDetail {
  shouldSwap: boolean;
}

const list = document.getElementById('keys-table');
const asked = new WeakMap<XMLHttpRequest, number>();
let lastAsked = 0;
let lastShown = 0;

document.addEventListener('htmx:beforeSend', (event) => {
  const detail = (event as CustomEvent<HtmxRequestDetail>).detail;
  if (detail.target === list) asked.set(detail.xhr, ++lastAsked);
});

document.addEventListener('htmx:beforeSwap', (event) => {
  const detail = (event as CustomEvent<HtmxSwapDetail>).detail;
  const order = asked.get(detail.xhr);
  if (detail.target !== list || order === undefined || !detail.shouldSwap) return;
  if (detail.requestConfig?.verb === 'get' && order < lastShown) detail.shouldSwap = false;
  else lastShown = Math.max(lastShown, order);
});
