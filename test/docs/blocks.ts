/**
 * The code blocks of the README and docs/*.md, as the examples test runs
 * them. A block is ```ts (or typescript, js, javascript); `no-run` after the
 * language (```ts no-run) marks a fragment that is neither run nor
 * type-checked: an interface excerpt, a call with placeholders.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface CodeBlock {
  /** README.md, docs/sync.md, ... */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'ts' | 'js';
  noRun: boolean;
  code: string;
}

const FENCE = /^```([a-z]+)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
const LANGS: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };

export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  for (const match of markdown.matchAll(FENCE)) {
    const lang = LANGS[match[1]!];
    if (!lang) continue;
    const line = markdown.slice(0, match.index).split('\n').length;
    blocks.push({ file, line, lang, noRun: /\bno-run\b/.test(match[2]!), code: match[3]! });
  }
  return blocks;
}

/** Every block of README.md and docs/*.md under `repo`. */
export async function docsBlocks(repo: string): Promise<CodeBlock[]> {
  const docs = (await readdir(join(repo, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  const files = ['README.md', ...docs.map((name) => `docs/${name}`)];
  const texts = await Promise.all(files.map((file) => readFile(join(repo, file), 'utf8')));
  return files.flatMap((file, i) => codeBlocks(file, texts[i]!));
}
