/**
 * The dashboard's first render in a real chromium against a real `serve`
 * on loopback: from navigation start to a file's text on screen, by the
 * page's own clock, over fresh documents. Baseline in the same run and the
 * same browser: navigating to the dashboard's stylesheet alone (one small
 * static response from the same server, no script), so the ratio shows what
 * the app adds to the browser's and the server's floor. Issue 17's goal:
 * first render under 1 s. The bundle's size is printed by `npm run build`.
 *
 *   node --import tsx bench/dashboard.ts [--loads 9]
 */
import { parseArgs } from 'node:util';
import { browserUnavailable, ensureBuilt, http, launchBrowser, signIn, startServer } from '../test/dashboard/harness.js';
import { median, fmt, goalRow, runIfMain, type BenchRow } from './lib.js';

const BENCH = 'dashboard';
const GOAL_MS = 1_000;

export async function run(loads = 9): Promise<BenchRow[]> {
  const unavailable = await browserUnavailable();
  if (unavailable !== undefined) return [{ bench: BENCH, metric: 'first render', value: `skipped: ${unavailable}` }];
  await ensureBuilt();
  const served = await startServer({ args: ['--no-sync'] });
  const { browser, close } = await launchBrowser();
  try {
    await http(served, 'PUT', '/v1/files/notes/todo.md', '# todo\n- measure the first render\n');
    const page = await signIn(await browser.newContext({ viewport: { width: 1280, height: 800 } }), served.url, served.token);
    const stylesheet = await page.evaluate<string | undefined>("document.querySelector('link[rel=stylesheet]')?.href");
    if (!stylesheet) throw new Error('the dashboard page links no stylesheet to use as the baseline');
    const app: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < loads; i++) {
      // A new document each time (not a same-document hash change), the two kinds alternated.
      await page.goto('about:blank');
      await page.goto(`${served.url}/#/files/notes/todo.md`);
      await page.locator('pre.code').waitFor();
      app.push(await page.evaluate<number>('performance.now()'));
      await page.goto('about:blank');
      await page.goto(stylesheet);
      floor.push(await page.evaluate<number>('performance.now()'));
    }
    const [appMs, floorMs] = [median(app), median(floor)];
    return [
      { bench: BENCH, metric: `first render (navigation to a file's text), median of ${loads}`, value: fmt.ms(appMs) },
      { bench: BENCH, metric: `baseline: the stylesheet alone from the same server, median of ${loads}`, value: fmt.ms(floorMs) },
      { bench: BENCH, metric: 'first render / baseline', value: fmt.ratio(appMs / floorMs) },
      goalRow(BENCH, 'first render on loopback', appMs, fmt.ms(appMs), { max: GOAL_MS, text: '< 1 s' }),
    ];
  } finally {
    await close();
    await served.stop();
  }
}

await runIfMain(import.meta.url, () => run(Number(parseArgs({ options: { loads: { type: 'string', default: '9' } } }).values.loads)));
