/** Client commands (`stash get`, `set`, ...) arrive with the client library. */
export function runClientCommand(argv: readonly string[], _env: NodeJS.ProcessEnv): Promise<number> {
  process.stderr.write(`stash ${argv[0] ?? ''}: client commands are not implemented yet\n`);
  return Promise.resolve(5);
}
