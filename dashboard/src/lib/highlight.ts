/**
 * Small syntax highlighting for the file viewer: a text becomes, per line,
 * tokens `{ kind, text }` (pure data; the view renders each as a text node in
 * a span, never as HTML). Languages by file extension; an unknown one gives
 * undefined and the viewer shows plain text. Deliberately approximate: a
 * lexer per language is out of scope, comments, strings, numbers and
 * keywords are what a reader needs.
 */

export type TokenKind = 'plain' | 'comment' | 'string' | 'number' | 'keyword' | 'key' | 'heading' | 'punct';
export interface Token {
  kind: TokenKind;
  text: string;
}

interface Language {
  /** Ordered: the first rule matching at a position wins. */
  rules: Array<[TokenKind, RegExp]>;
  /** Block comments spanning lines (`/* ... *\/`, `<!-- ... -->`). */
  block?: [string, string];
}

const words = (list: string) => new RegExp(`\\b(?:${list.split(' ').join('|')})\\b`, 'y');
const C_STRINGS: [TokenKind, RegExp] = ['string', /"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`(?:[^`\\]|\\.)*`?/y];
const NUMBER: [TokenKind, RegExp] = ['number', /\b(?:0x[\da-f]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)\b/iy];

const JS: Language = {
  block: ['/*', '*/'],
  rules: [
    ['comment', /\/\/.*/y],
    C_STRINGS,
    NUMBER,
    ['keyword', words('const let var function return if else for while do switch case break continue new class extends import export from default async await try catch finally throw typeof instanceof in of interface type enum implements public private protected readonly static null undefined true false this void yield as')],
  ],
};
const LANGUAGES: Record<string, Language> = {
  js: JS, mjs: JS, cjs: JS, ts: JS, tsx: JS, jsx: JS, mts: JS,
  json: { rules: [['key', /"(?:[^"\\]|\\.)*"(?=\s*:)/y], ['string', /"(?:[^"\\]|\\.)*"?/y], NUMBER, ['keyword', words('true false null')]] },
  py: {
    rules: [
      ['comment', /#.*/y],
      ['string', /"""[^]*?(?:"""|$)|'''[^]*?(?:'''|$)|"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?/y],
      NUMBER,
      ['keyword', words('def class return if elif else for while in not and or import from as with try except finally raise lambda None True False pass yield async await is global')],
    ],
  },
  sh: { rules: [['comment', /#.*/y], ['string', /"(?:[^"\\]|\\.)*"?|'[^']*'?/y], ['keyword', words('if then else elif fi for do done while case esac function in export local return set')]] },
  css: { block: ['/*', '*/'], rules: [['string', /"[^"]*"?|'[^']*'?/y], ['key', /[a-z-]+(?=\s*:)/y], NUMBER] },
  html: { block: ['<!--', '-->'], rules: [['keyword', /<\/?[a-z][\w-]*|\/?>/iy], ['key', /[a-z-]+(?==)/iy], ['string', /"[^"]*"?|'[^']*'?/y]] },
  yaml: { rules: [['comment', /#.*/y], ['key', /[\w.-]+(?=\s*:(?:\s|$))/y], ['string', /"(?:[^"\\]|\\.)*"?|'[^']*'?/y], NUMBER, ['keyword', words('true false null yes no')]] },
  md: { rules: [['heading', /^#{1,6} .*/y], ['string', /`[^`]*`?/y], ['keyword', /^\s*(?:[-*+]|\d+\.)(?= )/y]] },
};
const ALIASES: Record<string, string> = { yml: 'yaml', bash: 'sh', zsh: 'sh', htm: 'html', svg: 'html', xml: 'html', markdown: 'md', jsonl: 'json', scss: 'css' };

export function languageOf(path: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (!ext) return undefined;
  const name = ALIASES[ext] ?? ext;
  return name in LANGUAGES ? name : undefined;
}

/** One token list per line, or undefined when the language is unknown. */
export function highlight(text: string, path: string): Token[][] | undefined {
  const name = languageOf(path);
  if (!name) return undefined;
  const language = LANGUAGES[name]!;
  let inBlock = false;
  return text.split('\n').map((line) => {
    const [tokens, stillInBlock] = tokenizeLine(line, language, inBlock);
    inBlock = stillInBlock;
    return tokens;
  });
}

function tokenizeLine(line: string, language: Language, inBlock: boolean): [Token[], boolean] {
  const tokens: Token[] = [];
  const push = (kind: TokenKind, text: string) => {
    const last = tokens.at(-1);
    if (last && last.kind === kind) last.text += text;
    else tokens.push({ kind, text });
  };
  let at = 0;
  while (at < line.length) {
    if (inBlock || (language.block && line.startsWith(language.block[0], at))) {
      // Inside a block comment: it runs to its end marker or the end of the line.
      const [open, close] = language.block!;
      const from = inBlock ? at : at + open.length;
      const end = line.indexOf(close, from);
      const stop = end < 0 ? line.length : end + close.length;
      push('comment', line.slice(at, stop));
      inBlock = end < 0;
      at = stop;
      continue;
    }
    const matched = matchRule(line, at, language);
    if (matched) {
      push(matched[0], matched[1]);
      at += matched[1].length;
    } else {
      push('plain', line[at]!);
      at++;
    }
  }
  return [tokens, inBlock];
}

function matchRule(line: string, at: number, language: Language): [TokenKind, string] | undefined {
  for (const [kind, pattern] of language.rules) {
    pattern.lastIndex = at;
    const match = pattern.exec(line);
    if (match && match[0].length > 0) return [kind, match[0]];
  }
  return undefined;
}
