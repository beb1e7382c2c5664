/**
 * Large contents are taken in before the actor step, off one long
 * synchronous block: the server's own copy is built per CHUNK_BYTES chunk,
 * with a yield to the event loop between chunks, and handed to the mailbox,
 * which stores it without copying again. In journal mode each chunk also goes
 * to the write's side file (side-files.ts) while the next one is copied.
 *
 * The sha256 is not on the acknowledgement path: a 50 MiB hash alone takes
 * longer than `fs.promises.writeFile` of the same bytes. It is computed in
 * chunks right after the write is answered, over the server's copy, and
 * reaches the entry as a promise (entries.ts `hashing`); reads that return
 * the content, the persister and the history wait for it or compute it.
 *
 * A caller that changes its array before the write's promise settles may get
 * a mix of old and new bytes stored: the rule of `fs.promises.writeFile`.
 * Contents below LARGE_CONTENT_BYTES are still copied synchronously on the call.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { sha256InChunks } from '../content.js';
import type { NewContent } from './entries.js';
import type { SideFiles } from './side-files.js';

/** From this size on a byte array is copied in chunks before the actor step. */
export const LARGE_CONTENT_BYTES = 4 * 1024 * 1024;
/** About a millisecond of copying (or hashing) per chunk on this machine. */
const CHUNK_BYTES = 1024 * 1024;

/** Bytes the server owns, with their sha256 on its way: only `ownLargeContent` makes one. */
export class OwnedContent {
  private constructor(
    readonly content: Required<Pick<NewContent, 'bytes' | 'checksum'>> & Pick<NewContent, 'ref'>,
    private readonly sideFiles: SideFiles | undefined,
  ) {}

  /** @internal */
  static of(bytes: Uint8Array, sideFile?: { files: SideFiles; id: string }): OwnedContent {
    const checksum = sha256InChunks(bytes); // after the current turn: the write's answer goes first
    return new OwnedContent(sideFile ? { bytes, checksum, ref: sideFile.id } : { bytes, checksum }, sideFile?.files);
  }

  /** The write was answered (in the journal, or refused): its side file may go once the journal lets go of it. */
  release(): void {
    if (this.content.ref !== undefined) this.sideFiles?.release(this.content.ref);
  }
}

export function isLargeContent(content: unknown): content is Uint8Array {
  return content instanceof Uint8Array && content.byteLength >= LARGE_CONTENT_BYTES;
}

/**
 * A copy of `source`, built chunk by chunk with a yield between chunks; with
 * `sideFiles` (journal mode), also written to a side file, so the journal
 * record can reference it instead of holding it.
 */
export async function ownLargeContent(source: Uint8Array, sideFiles?: SideFiles): Promise<OwnedContent> {
  const copy = new Uint8Array(new ArrayBuffer(source.byteLength)); // lazily zeroed pages: no memset pass of its own
  const writer = await sideFiles?.begin();
  try {
    for (let offset = 0; offset < source.byteLength; offset += CHUNK_BYTES) {
      const end = Math.min(offset + CHUNK_BYTES, source.byteLength);
      copy.set(source.subarray(offset, end), offset);
      // The chunk goes to the side file (thread pool) while the next one is copied.
      await (writer ? writer.write(copy.subarray(offset, end), offset) : yieldToLoop());
      if (writer) await yieldToLoop(); // the write before may be done already: still give other work a turn
    }
  } catch (err) {
    await writer?.abort().catch(() => undefined);
    throw err;
  }
  if (!writer) return OwnedContent.of(copy);
  await writer.finish();
  return OwnedContent.of(copy, { files: sideFiles!, id: writer.id });
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
