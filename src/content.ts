import { isUtf8 as bufferIsUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Content } from './types.js';

/** The exact bytes of a content value; strings are UTF-8 encoded. */
export function toBytes(content: Content): Uint8Array {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** A Buffer view of the bytes without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** sha256 of the bytes, lowercase hex. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** About a millisecond of hashing per chunk. */
const HASH_CHUNK_BYTES = 1024 * 1024;

/**
 * sha256 of the bytes, a chunk per turn of the event loop, starting after
 * the current turn: for large contents, where one synchronous hash would
 * stall the process (about 30-40 ms for 50 MiB).
 */
export async function sha256InChunks(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let offset = 0; offset < bytes.byteLength; offset += HASH_CHUNK_BYTES) {
    await yieldToLoop();
    hash.update(bytes.subarray(offset, Math.min(offset + HASH_CHUNK_BYTES, bytes.byteLength)));
  }
  return hash.digest('hex');
}

/** True when the bytes are valid UTF-8 (so merging them as text is safe). */
export function isUtf8(bytes: Uint8Array): boolean {
  return bufferIsUtf8(bytes);
}
