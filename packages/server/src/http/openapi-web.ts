import {
  html,
  JSON_TYPE,
  op,
  PUBLIC,
  responseRef,
  TEXT_TYPE,
  WEB_SECURITY,
  webText,
  type Operation,
  type Parameter,
  type Paths,
  type Response,
} from './openapi-parts.js';

// The web UI (web/web-routes.ts), summarised: each route with what it answers, for people and
// for the route check, not for generated clients (it speaks HTML forms and htmx fragments).

type Responses = Record<string, Response>;

const KEY: Parameter = { name: 'key', in: 'path', required: true, description: 'The key (slashes literal or `%2F`).', schema: { type: 'string', minLength: 1 } };
const query = (name: string, description: string): Parameter => ({ name, in: 'query', description, schema: { type: 'string' } });

const OK_PAGE = html('The page or htmx fragment.');
const DENIED = webText('`access denied`: the viewer may not read or write the key (or a cross-origin browser request).');
const BAD = webText('The key is empty, or a field is malformed.');
const MISSING = webText('The key, or that revision of it, is not there.');

/** A web UI route: behind the session when auth is on (303 or htmx 401 to the login page). */
function web(operationId: string, summary: string, responses: Responses, more: Partial<Operation> = {}): Operation {
  return op({
    operationId,
    summary,
    tags: ['web'],
    security: WEB_SECURITY,
    ...more,
    responses: {
      '303': responseRef('LoginRedirect'),
      '401': responseRef('HxLoginRedirect'),
      '500': webText('`internal error` (logged).'),
      ...responses,
    },
  });
}

const FORM_BODY = {
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } } },
};
const withForm = (description: string): Partial<Operation> => ({ description, requestBody: FORM_BODY });

/** The modal's key form sent back with what went wrong (`HX-Retarget: #modal-content`). */
const formAgain = (description: string): Response => html(description);

const toggle = (id: string, what: string): Operation =>
  web(id, `Next ${what}`, { '200': html(`The key list in the new ${what}, its control re-rendered out of band; sets the cookie.`) });

export const WEB_PATHS: Paths = {
  '/': { get: web('webIndex', 'The UI page', { '200': OK_PAGE }, { parameters: [query('search', 'Substring filter.'), query('page', 'Page number.'), query('folder', 'Folder (folders view).')] }) },
  '/web/keys': {
    get: web('webKeyList', 'The key list region', { '200': OK_PAGE }, { parameters: [query('search', 'Substring filter.'), query('page', 'Page number.'), query('folder', 'Folder (folders view).')] }),
    post: web('webCreateKey', 'Create a key from the form', {
      '200': html('Created: the key list, the modal closed, a toast.'),
      '400': formAgain('The form again: key missing or invalid.'),
      '403': formAgain('The form again: the viewer may not write the key.'),
      '409': formAgain('The form again: the key exists.'),
      '422': formAgain('The form again: the value is not valid for its format ("Submit anyway" sends `force=true`) or not base64.'),
    }, withForm('Form fields `key`, `value`, `format`, `is_binary`, `force`.')),
  },
  '/web/keys/new': { get: web('webNewKeyForm', 'The new-key form', { '200': OK_PAGE, '403': DENIED }) },
  '/web/keys/{key}': {
    parameters: [KEY],
    put: web('webUpdateKey', 'Save an edit', {
      '200': html('Saved: the key list, the modal closed, a toast.'),
      '400': formAgain('The form again: a malformed field.'),
      '403': formAgain('The form again: the viewer may not write the key.'),
      '409': formAgain('The form again with the conflict: the key changed since the form was opened (a diff of theirs and yours).'),
      '422': formAgain('The form again: the value is not valid for its format, or not base64.'),
    }, withForm('Form fields `value`, `format`, `is_binary`, `force`, `revision` or `updated_at` (or `If-Match`), `force_overwrite`, `server_revision`.')),
    delete: web('webDeleteKey', 'Delete a key', { '200': html('Deleted: the key list and a toast.'), '400': BAD, '403': DENIED, '404': MISSING }),
  },
  '/web/keys/view/{key}': { parameters: [KEY], get: web('webViewKey', 'The value, highlighted', { '200': OK_PAGE, '400': BAD, '403': DENIED, '404': MISSING }) },
  '/web/keys/edit/{key}': {
    parameters: [KEY],
    get: web('webEditKeyForm', 'The edit form', { '200': OK_PAGE, '400': webText('The key is empty, or a `$ZK$` value without `zk=1`.'), '403': DENIED, '404': MISSING }, { parameters: [query('zk', '`1`: the page decrypts and encrypts a `$ZK$` value.')] }),
  },
  '/web/keys/history/{key}': { parameters: [KEY], get: web('webKeyHistory', 'The versions of a key', { '200': OK_PAGE, '400': BAD, '403': DENIED }) },
  '/web/keys/revision/{key}': {
    parameters: [KEY],
    get: web('webKeyRevision', 'One version of a key', { '200': OK_PAGE, '400': BAD, '403': DENIED, '404': MISSING }, { parameters: [query('rev', 'The revision.')] }),
  },
  '/web/keys/diff/{key}': {
    parameters: [KEY],
    get: web('webKeyDiff', 'What changed between two versions', { '200': OK_PAGE, '400': BAD, '403': DENIED, '404': MISSING }, { parameters: [query('from', 'Revision A.'), query('to', 'Revision B.')] }),
  },
  '/web/keys/restore/{key}': {
    parameters: [KEY],
    post: web('webRestoreKey', 'Write an old version again', {
      '200': html('Restored: the key list and a toast.'),
      '400': BAD,
      '403': DENIED,
      '404': MISSING,
      '409': webText('The key changed since its history was opened (`if_revision`): nothing was restored.'),
    }, withForm('Form fields `rev`, `if_revision`.')),
  },
  '/web/keys/compare/{key}': {
    parameters: [KEY],
    post: web('webCompareKey', 'The open edit against the key as it is now', { '200': html('The form with the conflict panel, or a note that nothing changed.'), '400': BAD, '403': DENIED }, withForm('The edit form\'s fields.')),
  },
  '/web/keys/merge/{key}': {
    parameters: [KEY],
    post: web('webMergeKey', 'Merge the edit with the version saved meanwhile', { '200': html('The form with the merged value.'), '400': BAD, '403': DENIED, '404': MISSING }, withForm('The edit form\'s fields and `server_revision`.')),
  },
  '/web/theme': {
    post: web('webTheme', 'Next theme', {
      '200': { description: 'From htmx: `HX-Refresh: true`, sets the cookie.' },
      '303': { description: 'Not from htmx: back to the page, cookie set; or, auth on without a session, to the login page.', headers: { Location: { $ref: '#/components/headers/Location' } } },
    }),
  },

  '/web/sort': { post: toggle('webSort', 'sort order') },
  '/web/secrets-filter': { post: toggle('webSecretsFilter', 'secrets filter') },
  '/web/view-mode': { post: toggle('webViewMode', 'view (grid, cards)') },
  '/web/browse': { post: toggle('webBrowse', 'browse mode (flat, folders)') },
  '/web/export': {
    get: web('webExport', 'Download the keys shown', {
      '200': {
        description: 'An attachment: the CLI\'s JSON export file, or a `.env` file; `X-Stash-Revision` is the revision read.',
        content: { [JSON_TYPE]: { schema: { type: 'array' } }, [TEXT_TYPE]: { schema: { type: 'string' } } },
      },
    }, { parameters: [query('format', '`json` (default) or `env`.'), query('folder', 'Folder.'), query('search', 'Substring filter.')] }),
  },
  '/web/import': { get: web('webImportDialog', 'The import dialog', { '200': OK_PAGE, '403': DENIED }, { parameters: [query('folder', 'Folder to import into.')] }) },
  '/web/import/preview': {
    post: web('webImportPreview', 'What an import would do', { '200': html('The dialog with the plan; nothing written.'), '422': html('The dialog with what is wrong with the file.') }, withForm('Form fields `name`, `content`, `prefix`.')),
  },
  '/web/import/apply': {
    post: web('webImportApply', 'Import a file (one batch)', {
      '200': html('Imported: the key list and a toast.'),
      '400': webText('`secrets not configured`: the file holds a secret key and the server has no `--secrets.key`.'),
      '403': webText('The viewer may not write some of the keys: nothing was imported.'),
      '422': webText('The file cannot be read, or a key in it is empty or holds a NUL character.'),
    }, withForm('Form fields `name`, `content`, `prefix`.')),
  },
  '/audit': { get: auditPage('webAudit') },
  '/web/audit': { get: auditPage('webAuditPartial') },
  '/static/{name}': {
    parameters: [{ name: 'name', in: 'path', required: true, description: 'File name.', schema: { type: 'string', examples: ['style.css'] } }],
    get: op({
      operationId: 'webStatic',
      summary: 'Static files of the UI',
      description: 'Cached for a year when `?v=` names the content hash (as the pages link them), else revalidated by `ETag`.',
      tags: ['web'],
      security: PUBLIC,
      parameters: [query('v', 'Content hash.'), { name: 'If-None-Match', in: 'header', description: 'The `ETag` the client has.', schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The file (`text/css`, `text/javascript`, `image/svg+xml`).', headers: { ETag: { description: 'Content hash.', required: true, schema: { type: 'string' } } }, content: { 'text/css': { schema: { type: 'string' } }, 'text/javascript': { schema: { type: 'string' } }, 'image/svg+xml': { schema: { type: 'string' } } } },
        '304': { description: 'Unchanged.' },
        '404': { description: 'No such file.', content: { [TEXT_TYPE]: { schema: { const: '404 page not found\n' } } } },
      },
    }),
  },
};

function auditPage(operationId: string): Operation {
  return web(operationId, 'The audit log (admins)', {
    '200': OK_PAGE,
    '400': html('The page with an error: From or To is not a date and time.'),
    '403': webText('`admin access required`.'),
  }, {
    description: 'With `--audit.enabled`. Filters as query fields (`key`, `actor`, `actor_type`, `action`, `result`, `from`, `to`, `page`).',
    parameters: ['key', 'actor', 'actor_type', 'action', 'result', 'from', 'to', 'page'].map((name) => query(name, 'Filter.')),
  });
}
