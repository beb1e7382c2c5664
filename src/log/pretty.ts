/**
 * The `pretty` log format: one pino JSON record in, one line for people out.
 * Pure, so the format is tested without a process; `prettyDestination` wraps
 * a stream with it for pino (which writes one record per `write`).
 */

const LABELS: Record<string, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR', fatal: 'FATAL' };
/** Written by pino itself or shown in the line's head: not repeated as key=value. */
const HEAD_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** `2026-12-02T13:20:01.123Z WARN  sync paused by the safety gate  scope=default reason="…"` */
export function formatPretty(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`; // not a record: pass it through untouched
  }
  const level = LABELS[String(record.level)] ?? String(record.level).toUpperCase().padEnd(5);
  const time = typeof record.time === 'string' ? record.time : new Date(Number(record.time)).toISOString();
  const fields = Object.entries(record)
    .filter(([key, value]) => !HEAD_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return `${[`${time} ${level} ${String(record.msg ?? '')}`, ...fields].join('  ')}\n`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w./:@+-]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** A pino destination that writes each record through `formatPretty`. */
export function prettyDestination(stream: { write(text: string): unknown }): { write(line: string): void } {
  return { write: (line) => void stream.write(formatPretty(line)) };
}
