/** The file tree, from the flat listing and kept current by events: pure, tested in dashboard/test. */
export interface FileEntry {
  path: string;
  size: number;
  revision: string | number;
  mimeType?: string;
}

export interface TreeNode {
  name: string;
  /** The full path: a file's path, or a directory's path without the trailing slash. */
  path: string;
  file?: FileEntry;
  children: TreeNode[];
  /** Total bytes and files under a directory. */
  size: number;
  count: number;
}

export function buildTree(files: Iterable<FileEntry>): TreeNode {
  const root: TreeNode = { name: '', path: '', children: [], size: 0, count: 0 };
  for (const file of files) {
    let node = root;
    const parts = file.path.split('/').filter(Boolean);
    parts.forEach((part, index) => {
      node.size += file.size;
      node.count += 1;
      const path = `${node.path}/${part}`;
      let child = node.children.find((candidate) => candidate.name === part && (index === parts.length - 1) === (candidate.file !== undefined));
      if (!child) {
        child = { name: part, path, children: [], size: 0, count: 0 };
        node.children.push(child);
      }
      if (index === parts.length - 1) {
        child.file = file;
        child.size = file.size;
        child.count = 1;
      }
      node = child;
    });
  }
  sortTree(root);
  return root;
}

function sortTree(node: TreeNode): void {
  // Directories first, then by name, as file managers do.
  node.children.sort((a, b) => Number(a.file !== undefined) - Number(b.file !== undefined) || a.name.localeCompare(b.name));
  node.children.forEach(sortTree);
}

/** A scope event applied to the listing (by path); `reload` when the listing must be fetched again. */
export function applyEvent(files: Map<string, FileEntry>, type: string, data: Record<string, unknown>): 'changed' | 'unchanged' | 'reload' {
  const meta = data['meta'] as FileEntry | undefined;
  switch (type) {
    case 'file_updated':
      if (!meta) return 'reload';
      files.set(meta.path, meta);
      return 'changed';
    case 'file_deleted':
      return files.delete(String(data['path'])) ? 'changed' : 'unchanged';
    case 'file_moved':
      files.delete(String(data['from']));
      if (meta) files.set(meta.path, meta);
      return meta ? 'changed' : 'reload';
    case 'reset':
      return 'reload';
    default:
      return 'unchanged';
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** How a file is shown: by its type, with a look at the bytes for untyped files. */
export function kindOf(mimeType: string | undefined, bytes: Uint8Array): 'json' | 'text' | 'image' | 'binary' {
  const type = (mimeType ?? '').split(';')[0]!.trim();
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type.startsWith('image/') && type !== 'image/svg+xml') return 'image';
  if (type.startsWith('text/') || type === 'image/svg+xml' || /^application\/(javascript|xml|yaml|x-yaml|toml|x-sh|sql)/.test(type)) return 'text';
  return looksLikeText(bytes) ? 'text' : 'binary';
}

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  if (sample.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.length < bytes.length ? sample.subarray(0, sample.length - 4) : sample);
    return true;
  } catch {
    return false;
  }
}
