/** What the caller's grant allows, decided in the browser only to hide what the server would refuse anyway. */
import type { Caller } from '../views/types.js';

function under(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => prefix === '/' || path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));
}

export function mayWrite(caller: Caller, path: string): boolean {
  return caller.owner || (caller.grant !== undefined && under(path, caller.grant.write));
}

export function mayDelete(caller: Caller, path: string): boolean {
  return caller.owner || (mayWrite(caller, path) && caller.grant?.delete === true);
}

export function mayMove(caller: Caller, from: string, to: string): boolean {
  return caller.owner || (mayWrite(caller, from) && mayWrite(caller, to) && caller.grant?.move === true);
}
