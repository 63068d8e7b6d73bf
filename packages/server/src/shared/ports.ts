import type { HistoryEntryResponse } from '@stash/client/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditFilter, AuditPage } from './audit-records.js';

// Ports the HTTP edges (the KV API, the web UI) consume and the features provide.

/** Serves `GET /kv/subscribe/...`; provided by the change-streams module. */
export type StreamHandler = (req: FastifyRequest, reply: FastifyReply, rawPath: string) => Promise<void>;

/** Where `GET /kv/history/{key}` reads from (the change log, or git when the mirror is on). */
export type HistoryProvider = (key: string, limit: number) => Promise<HistoryEntryResponse[]>;

/** Sends the login form (drawn by the web UI, served by auth's routes) with a status and an optional error message. */
export type LoginPage = (
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message?: string,
  username?: string,
) => Promise<unknown> | unknown;

/** The audit log as the web UI reads it (`--audit.enabled`): newest first, `limit` after `offset`. */
export type AuditReader = (filter: AuditFilter, limit: number, offset: number) => Promise<AuditPage>;
