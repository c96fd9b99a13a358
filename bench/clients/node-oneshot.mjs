// bench/clients/node-oneshot.mjs: one fresh Node process of workloads s and q (node-sdk.mjs runs
// it n times and times each whole process).
//   node node-oneshot.mjs startup          load @anthropic-ai/sdk + new Anthropic(); prints
//                                          {"startup_us": CPU time of the two}
//   node node-oneshot.mjs ask BASE_URL     the equivalent of `anthropic-lua ask --no-stream`:
//                                          one messages.create, prints the reply's text
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.BENCH_NODE_MODULES || join(here, '..', '..', 'build', 'bench', 'node_modules');
const [mode, base] = process.argv.slice(2);
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };

const c0 = cpu();
const require = createRequire(join(modules, '..', 'package.json'));
const Anthropic = require('@anthropic-ai/sdk').default;
const client = new Anthropic({ apiKey: 'sk-ant-bench-not-a-key', baseURL: base, maxRetries: 0 });
if (mode === 'startup') {
  process.stdout.write(JSON.stringify({ startup_us: cpu() - c0 }) + '\n');
} else {
  const msg = await client.messages.create({
    model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, Claude' }],
  });
  process.stdout.write(msg.content.filter((b) => b.type === 'text').map((b) => b.text).join('') + '\n');
}
