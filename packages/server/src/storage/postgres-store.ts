import type { Store } from './store.js';

// placeholder until the PostgreSQL adapter lands; openStore reports it clearly
export const PostgresStore = {
  connect(_url: string): Promise<Store> {
    return Promise.reject(new Error('PostgreSQL storage is not implemented yet'));
  },
};
