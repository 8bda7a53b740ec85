// Runs the console's end-to-end suite with node's test runner (TAP output) and ends with a
// plain summary line: `console e2e: N passed, N failed`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const spec = fileURLToPath(new URL('./console.spec.mjs', import.meta.url));
const child = spawn(process.execPath, ['--test', '--test-reporter=tap', '--test-concurrency=1', spec], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (b) => {
  process.stdout.write(b);
  out += b;
});
child.on('close', (code) => {
  const n = (name) => Number([...out.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))].pop()?.[1] ?? 0);
  const passed = n('pass');
  const failed = n('fail') + n('cancelled');
  console.log(`console e2e: ${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1);
});
