/**
 * Where syntax highlighting plugs into the file viewer: a highlighter turns
 * a text into one node list per line (or undefined: shown plain). None is
 * set by default; lib/highlight.ts is registered with
 * `setHighlighter` in views/index.ts.
 */
import type { ComponentChildren } from 'preact';

export type Highlighter = (text: string, path: string) => ComponentChildren[] | undefined;

let current: Highlighter | undefined;

export function setHighlighter(highlighter: Highlighter | undefined): void {
  current = highlighter;
}

/** The text's lines, highlighted when a highlighter is set and knows the file's language. */
export function highlightedLines(text: string, path: string): ComponentChildren[] {
  const body = text.replace(/\n$/, ''); // a final newline ends the last line; it does not start another
  try {
    const lines = current?.(body, path);
    if (lines) return lines;
  } catch {
    // a highlighter's failure must not hide the file: shown plain
  }
  return body.split('\n');
}
