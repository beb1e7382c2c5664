import { isScopeFsError } from '../errors.js';
import type { FileSystem, WriteOptions } from '../types.js';

/**
 * Writes `content` under the first of `nameFor(1)`, `nameFor(2)`, ... that no
 * file has (and `taken` does not reserve); returns that name. Copy names
 * carry the time to the second, so two copies of one path in one second
 * differ only by attempt. The write is a compare-and-swap on "does not
 * exist": a copy never replaces a file, not even one made since the check.
 */
export async function writeFreshCopy(
  fs: FileSystem,
  nameFor: (attempt: number) => string,
  content: Uint8Array,
  options: Omit<WriteOptions, 'ifRevision'>,
  taken: (path: string) => boolean = () => false,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const path = nameFor(attempt);
    if (taken(path) || (await fs.fileExists(path))) continue;
    try {
      await fs.writeFile(path, content, { ...options, ifRevision: 0 });
      return path;
    } catch (err) {
      if (!isScopeFsError(err, 'ESTALE')) throw err;
    }
  }
}
