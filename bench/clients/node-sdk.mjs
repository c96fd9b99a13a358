// bench/clients/node-sdk.mjs: the official TypeScript SDK (@anthropic-ai/sdk on Node).
//
//   node bench/clients/node-sdk.mjs a|b|c BASE_URL N      (contract: bench/clients/common.lua)
// The SDK is the version pinned in bench/package.json, installed by bench/run into
// build/bench/node_modules (BENCH_NODE_MODULES overrides where it is looked for).
// a: await client.messages.create() n times in a row; b: client.messages.stream() +
// finalMessage() n times in a row (the SDK's own accumulator); c: n streams at once with
// Promise.all on Node's one thread (m: the same with n = 1,000). maxRetries 0, so a failure shows
// instead of hiding in a retry. s, q: n whole processes of node-oneshot.mjs (startup; one create).
import { spawnSync } from 'node:child_process';
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
  } else if (w === 's' || w === 'q') {
    // Whole processes, as ours.lua times them (common.spawn_timed): one untimed warm-up first.
    const args = [join(here, 'node-oneshot.mjs'), w === 's' ? 'startup' : 'ask', base];
    const once = () => {
      const t0 = now();
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, BENCH_NODE_MODULES: modules } });
      if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
      return [now() - t0, r.stdout];
    };
    once();
    const walls = [], inner = [];
    let total = 0, last = '';
    for (let i = 0; i < n; i++) {
      const [dt, stdout] = once();
      walls.push(dt * 1e3); total += dt; last = stdout;
      const m = /"startup_us":\s*([\d.]+)/.exec(stdout);
      if (m) inner.push(Number(m[1]));
    }
    const pct = (l, p) => { l.sort((a, b) => a - b); return l[Math.max(0, Math.ceil(p / 100 * l.length) - 1)]; };
    res = { seconds: total, p50_ms: pct(walls, 50), max_ms: pct(walls, 100), text_bytes: Buffer.byteLength(last.replace(/\n$/, ''), 'utf8') };
    if (inner.length) Object.assign(res, { startup_us: pct(inner, 50), loaded: inner.length });
  } else if (w === 'c' || w === 'm') {
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
