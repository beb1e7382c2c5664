/**
 * File contents of the randomized runs are lists of unique tokens
 * (`#k17#`), rendered in the format of the file's kind. Whatever the engine
 * does to a file (merge, conflict copy, move), the acknowledged data is
 * traceable: a token is either still somewhere, or an operation removed it.
 */

export type FileKind = 'text' | 'jsonl' | 'json' | 'bytes';

const TOKEN = /#k\d+#/g;

export function token(n: number): string {
  return `#k${n}#`;
}

export function kindOf(path: string): FileKind {
  if (path.endsWith('.jsonl')) return 'jsonl';
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.bin')) return 'bytes';
  return 'text';
}

/** Tokens in any content, in order of appearance (binary-safe). */
export function tokensIn(content: Uint8Array): string[] {
  return Buffer.from(content).toString('latin1').match(TOKEN) ?? [];
}

/** The whole file for a list of tokens. */
export function render(kind: FileKind, tokens: readonly string[]): Uint8Array {
  switch (kind) {
    case 'text':
    case 'jsonl':
      return Buffer.from(tokens.map((t) => line(kind, t)).join(''), 'utf8');
    case 'json':
      return Buffer.from(`${JSON.stringify(Object.fromEntries(tokens.map((t, i) => [t, i])), null, 1)}\n`, 'utf8');
    case 'bytes':
      // NUL and 0xff make it binary (never merged), so concurrent edits become conflicts.
      return Buffer.concat([Buffer.from([0, 0xff]), ...tokens.map((t) => Buffer.from(`${t}\u0000`, 'latin1'))]);
  }
}

/** One appended record, for kinds that append line by line. */
export function line(kind: 'text' | 'jsonl', t: string): string {
  return kind === 'jsonl' ? `${JSON.stringify({ t })}\n` : `${t} written by the harness\n`;
}

/** Kinds whose append is a real `appendFile`; the others append by rewriting. */
export function appendsByLine(kind: FileKind): kind is 'text' | 'jsonl' {
  return kind === 'text' || kind === 'jsonl';
}

/** Kinds whose edit is a real `editFile` (exact string replace). */
export function editsAsText(kind: FileKind): boolean {
  return kind !== 'bytes';
}

/** Both sides of a conflict, every token kept once (how the harness resolves conflicts). */
export function union(kind: FileKind, local: Uint8Array, remote: Uint8Array): Uint8Array {
  const tokens = [...new Set([...tokensIn(local), ...tokensIn(remote)])];
  return render(kind, tokens);
}
