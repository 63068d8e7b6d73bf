// The web UI's browser module, loaded from /static/app.js (bundled by scripts/build-web.mjs):
// what the page does beyond its htmx attributes. Each part listens to DOM and htmx events.
import './page.js';
import './answer-order.js';
import './live.js';
import './shortcuts.js';
import './zk-ui.js';
import './transfer.js';
