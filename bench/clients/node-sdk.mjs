// bench/clients/node-sdk.mjs: the official TypeScript SDK (@anthropic-ai/sdk on Node).
//
//   node bench/clients/node-sdk.mjs a|b|c BASE_URL N      (contract: bench/clients/common.lua)
// The SDK is the version pinned in bench/package.json, installed by bench/run into
// build/bench/node_modules (BENCH_NODE_MODULES overrides where it is looked for).
// a: await client.messages.create() n times in a row; b: client.messages.stream() +
// finalMessage() n times in a row (the SDK's own accumulator); c: n streams at once with
// Promise.all on Node's one thread. maxRetries 0, so a failure shows instead of hiding in a retry.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.BENCH_NODE_MODULES || join(here, '..', '..', 'build', 'bench', 'node_modules');
const require = createRequire(join(modules, '..', 'package.json'));

const [w, base, nArg] = process.argv.slice(2);
const n = Number(nArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const params = () => ({
  model: 'claude-sonnet-4-6',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Hello, Claude' }],
});
const textBytes = (msg) => Buffer.byteLength(msg.content[0].text, 'utf8');
const now = () => Number(process.hrtime.bigint()) / 1e9;
// CPU time of the whole process (all threads, as os.clock() in Lua), in seconds.
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

async function main() {
  const Anthropic = require('@anthropic-ai/sdk').default;
  const client = new Anthropic({ apiKey: 'sk-ant-bench-not-a-key', baseURL: base, maxRetries: 0 });
  const create = async () => textBytes(await client.messages.create(params()));
  const stream = async () => textBytes(await client.messages.stream(params()).finalMessage());
  let res;
  if (w === 'a' || w === 'b') {
    const once = w === 'a' ? create : stream;
    await once(); // warm-up: opens the connection
    const c0 = cpu();
    const t0 = now();
    let bytes;
    for (let i = 0; i < n; i++) bytes = await once();
    res = { seconds: now() - t0, cpu_seconds: cpu() - c0, text_bytes: bytes };
  } else if (w === 'c') {
    const c0 = cpu();
    const t0 = now();
    const all = await Promise.all(Array.from({ length: n }, stream));
    res = { seconds: now() - t0, cpu_seconds: cpu() - c0, text_bytes: all.reduce((a, b) => a + b, 0) };
  } else {
    throw new Error(`workload ${w} is not supported by this client`);
  }
  out({ client: 'node-sdk', workload: w, n, ...res });
}

if (!(w && base && n > 0)) {
  process.stderr.write('usage: node-sdk.mjs a|b|c BASE_URL N\n');
  process.exit(2);
}
main().catch((e) => {
  out({ client: 'node-sdk', workload: w, error: String(e && e.message || e) });
  process.exit(1);
});
