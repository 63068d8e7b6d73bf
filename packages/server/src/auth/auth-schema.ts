import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';

/** Access levels the auth file accepts (compat 6.1; case-sensitive as the original's schema). */
export const ACCESS_VALUES = ['r', 'read', 'w', 'write', 'rw', 'readwrite', 'read-write'] as const;
export type AccessValue = (typeof ACCESS_VALUES)[number];

/** bcrypt modular-crypt hash: `$2a$`, `$2b$` or `$2y$`, two-digit cost, 53 chars of salt + digest. */
export const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

const permission = {
  type: 'object',
  additionalProperties: false,
  required: ['prefix', 'access'],
  properties: {
    prefix: { type: 'string' },
    access: { enum: [...ACCESS_VALUES] },
  },
} as const;

const permissions = { type: 'array', items: { $ref: '#/$defs/permission' } } as const;

/** JSON Schema (draft 2020-12) of the `--auth.file` YAML; `additionalProperties: false` everywhere. */
export const AUTH_FILE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    users: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'password'],
        properties: {
          name: { type: 'string' },
          password: { type: 'string', pattern: BCRYPT_HASH.source },
          admin: { type: 'boolean' },
          permissions,
        },
      },
    },
    tokens: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['token'],
        properties: {
          token: { type: 'string' },
          admin: { type: 'boolean' },
          permissions,
        },
      },
    },
  },
  $defs: { permission },
} as const;

/** The file's shape once the schema accepted it. */
export interface AuthFileDocument {
  users?: Array<{ name: string; password: string; admin?: boolean; permissions?: PermissionDocument[] }> | null;
  tokens?: Array<{ token: string; admin?: boolean; permissions?: PermissionDocument[] }> | null;
}
export interface PermissionDocument {
  prefix: string;
  access: AccessValue;
}

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validateDocument = ajv.compile<AuthFileDocument>(AUTH_FILE_SCHEMA);

/** `/users/1/permissions/0/access` -> `users[1].permissions[0].access` */
export function formatPath(pointer: string, extra?: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '(top level)' : out;
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${formatPath(error.instancePath, String(params['additionalProperty']))}: unknown field`;
    case 'required':
      return `${formatPath(error.instancePath, String(params['missingProperty']))}: required field is missing`;
    case 'enum':
      return `${formatPath(error.instancePath)}: must be one of ${ACCESS_VALUES.join(', ')}`;
    case 'pattern':
      return `${formatPath(error.instancePath)}: must be a bcrypt hash ($2a$, $2b$ or $2y$)`;
    case 'type':
      return `${formatPath(error.instancePath)}: must be ${String(params['type']).replace(',', ' or ')}`;
    default:
      return `${formatPath(error.instancePath)}: ${error.message ?? 'invalid'}`;
  }
}

/**
 * Check a parsed YAML document against the schema.
 * @returns the problems, one line each, naming the path inside the file; empty when valid
 */
export function schemaProblems(doc: unknown): string[] {
  if (validateDocument(doc)) return [];
  const seen = new Set<string>();
  for (const error of validateDocument.errors ?? []) seen.add(describe(error));
  return [...seen];
}
