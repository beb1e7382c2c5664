#!/usr/bin/env node
import { run } from './program.js';

const code = await run(process.argv);
// Exit explicitly, so a store connection or watcher left open cannot keep a
// finished command alive; but only once stdout is drained (pipes are
// asynchronous on some platforms, and `cat` may have written a large file).
process.stdout.write('', () => process.exit(code));
