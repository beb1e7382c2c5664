/**
 * What a text-level merger returns: the merged text, or why it could not
 * merge. `unsupported` means the merger cannot judge this input at all (too
 * deep, too large, not parseable as its kind): the next merger of the chain
 * may, whereas a plain refusal is a real conflict between the sides.
 */
export type TextMergeOutcome = { ok: true; text: string } | { ok: false; reason: string; unsupported?: boolean };

export const merged = (text: string): TextMergeOutcome => ({ ok: true, text });
export const unmergeable = (reason: string): TextMergeOutcome => ({ ok: false, reason });
export const unsupported = (reason: string): TextMergeOutcome => ({ ok: false, reason, unsupported: true });
