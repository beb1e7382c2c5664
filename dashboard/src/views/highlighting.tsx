/** The file viewer's highlighter: lib/highlight.ts tokens as spans of text (classes tok-<kind>). */
import type { ComponentChildren } from 'preact';
import { highlight } from '../lib/highlight.js';

/** Above this many characters a file is shown plain: highlighting it would hold the page up. */
const MAX_HIGHLIGHT_CHARS = 256 * 1024;

export function highlightToNodes(text: string, path: string): ComponentChildren[] | undefined {
  if (text.length > MAX_HIGHLIGHT_CHARS) return undefined;
  return highlight(text, path)?.map((tokens) => tokens.map((token, index) => (token.kind === 'plain' ? token.text : <span key={index} class={`tok-${token.kind}`}>{token.text}</span>)));
}
