/**
 * A short tour: one scope on ./workspace with an agent writing notes,
 * a subscriber watching them, and a clean stop that flushes to disk.
 * Run with `npm run demo`.
 */
import { resolve } from 'node:path';
import { startScope } from 'scopefs';

const root = resolve(process.argv[2] ?? 'workspace');
let agentDone!: () => void;
const finished = new Promise<void>((resolve) => (agentDone = resolve));

const scope = await startScope({
  scopeKey: ['user', 1],
  root,
  agents: [
    {
      id: 'note-taker',
      restart: 'transient',
      run: async ({ fs, signal }) => {
        for (let i = 1; i <= 3 && !signal.aborted; i++) {
          await fs.writeFile(`/notes/note-${i}.md`, `# Note ${i}\n\nWritten at ${new Date().toISOString()}\n`);
        }
        await fs.appendFile('/notes/log.jsonl', `${JSON.stringify({ event: 'done', at: Date.now() })}\n`);
        agentDone();
      },
    },
  ],
});

const unsubscribe = scope.fs.subscribe((event) => {
  if (event.type === 'file_updated') console.log(`${event.origin} wrote ${event.path} (${event.meta.size} bytes)`);
});

await finished;
console.log('files:', await scope.fs.listFiles('/notes'));
console.log('stats:', await scope.fs.stats());
unsubscribe();
await scope.stop();
console.log(`stopped; everything is flushed to ${root}`);
