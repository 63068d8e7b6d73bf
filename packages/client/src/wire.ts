import type { Format } from './formats.js';

/** One item of `GET /kv/` as it travels on the wire (snake_case, RFC 3339 `Z` timestamps). */
export interface KeyInfoResponse {
  key: string;
  size: number;
  format: Format;
  secret: boolean;
  zk_encrypted: boolean;
  created_at: string;
  updated_at: string;
  revision?: number;
}

/** One entry of `GET /kv/history/{key}`. */
export interface HistoryEntryResponse {
  hash: string;
  timestamp: string;
  author: string;
  operation: string;
  format: Format;
  value: string;
  revision?: number;
}

/** One item of `POST /kv/` (batch) and of `GET /kv/?values=true` (export). */
export interface BatchItemRequest {
  key: string;
  value?: string;
  format?: Format;
  encoding?: 'text' | 'base64';
  delete?: boolean;
}

export interface ExportItemResponse extends KeyInfoResponse {
  value: string;
}

/** Headers this project adds on the wire. */
export const REVISION_HEADER = 'x-stash-revision';
export const FORMAT_HEADER = 'x-stash-format';
