import { FORMAT_CONTENT_TYPES, FORMATS, type Format } from '@stash/client/core';

/** `ETag` and `X-Stash-Revision` of a revision, as name/value pairs. */
export function revisionHeaderPairs(revision: number): string[] {
  const rev = String(revision);
  return ['etag', `"${rev}"`, 'x-stash-revision', rev];
}

// built once per format: a value answer allocates nothing for these
const CONTENT_HEADERS = new Map<Format, readonly string[]>(
  FORMATS.map((format) => [
    format,
    ['content-type', FORMAT_CONTENT_TYPES[format], 'content-security-policy', 'sandbox', 'x-content-type-options', 'nosniff'],
  ]),
);

/** What a value answer carries besides its revision: Content-Type from its format, sandboxed (PR #133). */
export function contentHeaderPairs(format: Format): readonly string[] {
  return CONTENT_HEADERS.get(format) as readonly string[]; // every Format is in the map
}
