/**
 * Builds the dashboard (dashboard/src) into one script, one stylesheet and
 * the page that loads them: `node --import tsx dashboard/build.ts [outdir]`
 * (default dist/dashboard, where `scopefs serve` finds it). `npm run build`
 * runs it; nothing built is committed.
 */
import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

export interface BuiltDashboard {
  outdir: string;
  /** Bytes of each file written, raw and gzipped (what a browser downloads). */
  sizes: Record<string, { bytes: number; gzip: number }>;
}

export async function buildDashboard(options: { outdir?: string; minify?: boolean } = {}): Promise<BuiltDashboard> {
  const outdir = resolve(options.outdir ?? join(here, '..', 'dist', 'dashboard'));
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { app: join(here, 'src', 'main.tsx') },
    outdir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: options.minify ?? true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  });
  await writeFile(join(outdir, 'index.html'), await readFile(join(here, 'src', 'index.html')));
  const sizes: BuiltDashboard['sizes'] = {};
  for (const name of ['index.html', 'app.js', 'app.css']) {
    const bytes = await readFile(join(outdir, name));
    sizes[name] = { bytes: bytes.byteLength, gzip: gzipSync(bytes).byteLength };
  }
  return { outdir, sizes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildDashboard({ outdir: process.argv[2] });
  const total = Object.values(built.sizes).reduce((sum, size) => sum + size.gzip, 0);
  const parts = Object.entries(built.sizes).map(([name, size]) => `${name} ${(size.bytes / 1024).toFixed(1)} KiB`);
  console.log(`dashboard built into ${built.outdir}: ${parts.join(', ')}; ${(total / 1024).toFixed(1)} KiB gzipped`);
}
