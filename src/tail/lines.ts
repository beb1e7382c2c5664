/**
 * Splits the bytes read from a file into complete lines. Pure: the reader
 * pushes what it read and gets back every line that ended in it; a partial
 * last line waits in the splitter for its newline. A line longer than the
 * limit is not kept whole: its first bytes are, and it comes out flagged
 * `tooLong` once its newline arrives, so memory stays bounded.
 */

export interface SplitLine {
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** Byte offset just past its newline: where the next line starts. */
  end: number;
  /** The line without `\n` (and a `\r` before it); only its first `maxLineBytes` when tooLong. */
  bytes: Buffer;
  tooLong: boolean;
  /** The full length of the line in bytes (without the newline). */
  length: number;
}

const NEWLINE = 0x0a;
const RETURN = 0x0d;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the current line dropped past the limit. */
  private dropped = 0;
  private lineStart: number;
  private position: number;

  /** `start`: the file offset of the first byte that will be pushed (a line start). */
  constructor(
    start: number,
    private readonly maxLineBytes: number,
  ) {
    this.lineStart = start;
    this.position = start;
  }

  /** Where the next byte pushed must come from. */
  get nextOffset(): number {
    return this.position;
  }

  /** Where the waiting partial line starts (= nextOffset when none waits). */
  get lineOffset(): number {
    return this.lineStart;
  }

  /** Takes the next bytes of the file (which must start at nextOffset) and returns the lines they completed. */
  push(chunk: Buffer): SplitLine[] {
    const lines: SplitLine[] = [];
    let from = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, from)) {
      this.keep(chunk.subarray(from, at));
      lines.push(this.finish(this.position + at + 1));
      from = at + 1;
    }
    this.keep(chunk.subarray(from));
    this.position += chunk.length;
    return lines;
  }

  private keep(part: Buffer): void {
    const room = this.maxLineBytes + 1 - this.pendingBytes; // one byte more, to see a `\r` before the newline
    if (part.length <= room) {
      if (part.length > 0) this.pending.push(part);
      this.pendingBytes += part.length;
      return;
    }
    if (room > 0) this.pending.push(part.subarray(0, room));
    this.pendingBytes += Math.max(room, 0);
    this.dropped += part.length - Math.max(room, 0);
  }

  private finish(end: number): SplitLine {
    let bytes = Buffer.concat(this.pending, this.pendingBytes);
    let length = this.pendingBytes + this.dropped;
    if (this.dropped === 0 && bytes.length > 0 && bytes[bytes.length - 1] === RETURN) {
      bytes = bytes.subarray(0, bytes.length - 1);
      length -= 1;
    }
    const tooLong = length > this.maxLineBytes;
    const line = { offset: this.lineStart, end, bytes: tooLong ? bytes.subarray(0, this.maxLineBytes) : bytes, tooLong, length };
    this.pending = [];
    this.pendingBytes = 0;
    this.dropped = 0;
    this.lineStart = end;
    return line;
  }
}
