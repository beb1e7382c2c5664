/**
 * Large contents are taken in before the actor step, off one long
 * synchronous block. The defensive copy and the sha256 of a 50 MiB write were
 * ~45 ms + ~40 ms of one uninterrupted step, stalling every other scope in the
 * process. Here both run per CHUNK_BYTES chunk, with a yield to the event loop
 * between chunks, and the result (the server's own copy and its checksum) is
 * handed to the mailbox, which stores it without copying or hashing again.
 *
 * The hash is computed over the copy, so the stored checksum always matches
 * the stored bytes. A caller that changes its array before the write's promise
 * settles may get a mix of old and new bytes stored (with a matching
 * checksum): the same rule as `fs.promises.writeFile`. Contents below
 * LARGE_CONTENT_BYTES are still copied synchronously on the call.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { NewContent } from './entries.js';
import type { SideFiles } from './side-files.js';

/** From this size on a byte array is copied and hashed in chunks before the actor step. */
export const LARGE_CONTENT_BYTES = 4 * 1024 * 1024;
/** ~1 ms of copying plus hashing per chunk on this machine. */
const CHUNK_BYTES = 1024 * 1024;

/** Bytes the server owns, with their sha256: only `ownLargeContent` makes one. */
export class OwnedContent {
  private constructor(
    readonly content: Required<Pick<NewContent, 'bytes' | 'checksum'>> & Pick<NewContent, 'ref'>,
    private readonly sideFiles: SideFiles | undefined,
  ) {}

  /** @internal */
  static of(bytes: Uint8Array, checksum: string, sideFiles?: SideFiles): OwnedContent {
    return new OwnedContent(sideFiles ? { bytes, checksum, ref: checksum } : { bytes, checksum }, sideFiles);
  }

  /** The write was answered (in the journal, or refused): its side file may go once the journal lets go of it. */
  release(): void {
    this.sideFiles?.release(this.content.checksum);
  }
}

export function isLargeContent(content: unknown): content is Uint8Array {
  return content instanceof Uint8Array && content.byteLength >= LARGE_CONTENT_BYTES;
}

/**
 * A copy of `source` and its sha256, built chunk by chunk with a yield
 * between chunks; with `sideFiles` (journal mode), also written to its side
 * file, so the journal record can reference it instead of holding it.
 */
export async function ownLargeContent(source: Uint8Array, sideFiles?: SideFiles): Promise<OwnedContent> {
  const copy = new Uint8Array(new ArrayBuffer(source.byteLength)); // lazily zeroed pages: no memset pass of its own
  const hash = createHash('sha256');
  const writer = await sideFiles?.begin();
  try {
    for (let offset = 0; offset < source.byteLength; offset += CHUNK_BYTES) {
      const end = Math.min(offset + CHUNK_BYTES, source.byteLength);
      copy.set(source.subarray(offset, end), offset);
      hash.update(copy.subarray(offset, end));
      // The chunk goes to the side file (thread pool) while the next one is copied and hashed.
      await (writer ? writer.write(copy.subarray(offset, end), offset) : yieldToLoop());
      if (writer) await yieldToLoop(); // the write before may be done already: still give other work a turn
    }
  } catch (err) {
    await writer?.abort().catch(() => undefined);
    throw err;
  }
  const checksum = hash.digest('hex');
  if (!writer) return OwnedContent.of(copy, checksum);
  await writer.finish(checksum);
  return OwnedContent.of(copy, checksum, sideFiles);
}

const noop = (): void => undefined;

/**
 * Keeps the mailbox in call order while large writes are prepared: a call
 * made after a large write enters the mailbox after it (a small write of the
 * same path must not land first and be overwritten). Preparations run at
 * once, side by side; only their entry into the mailbox waits its turn.
 */
export class CallOrder {
  /** Settles once the last large write prepared has entered the mailbox; undefined when none is pending. */
  private tail: Promise<void> | undefined;

  /** Whether a large write is still being prepared (calls must wait their turn). */
  get waiting(): boolean {
    return this.tail !== undefined;
  }

  /** Enqueues now, or behind the large writes still being prepared. */
  call<R>(enqueue: () => Promise<R>): Promise<R> {
    return this.tail ? this.tail.then(enqueue) : enqueue();
  }

  /** Prepares (started now), then enqueues in call order. */
  prepared<T, R>(preparation: Promise<T>, enqueue: (prepared: T) => Promise<R>): Promise<R> {
    const turn = (this.tail ?? Promise.resolve()).then(() => preparation);
    const answer = turn.then(enqueue); // registered first: runs before `entered` settles
    const entered = turn.then(noop, noop);
    this.tail = entered;
    void entered.then(() => {
      if (this.tail === entered) this.tail = undefined;
    });
    return answer;
  }
}
