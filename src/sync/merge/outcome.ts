/** What a text-level merger returns: the merged text, or why it could not merge. */
export type TextMergeOutcome = { ok: true; text: string } | { ok: false; reason: string };

export const merged = (text: string): TextMergeOutcome => ({ ok: true, text });
export const unmergeable = (reason: string): TextMergeOutcome => ({ ok: false, reason });
