// Generates spec/fixtures/sse-expected/<folder>__<file>.json: what the official TypeScript SDK
// (@anthropic-ai/sdk, pinned in package.json) makes of every recorded SSE transcript in
// shared/conformance/sse/<folder>/*.{sse,txt}; and spec/fixtures/sse-expected/beta/ the same
// through the SDK's beta stream (client.beta.messages.stream, BetaMessageStream), whose
// accumulation differs (compaction_delta, usage.iterations/fallback_credit, fallback relabel).
//
// Each transcript's exact bytes are served as the body of a 200 text/event-stream Response by a
// fake `fetch`, and read through the SDK's real machinery: client.messages.stream() ->
// Stream.fromSSEResponse (the SDK's SSE decoder, ping/error handling) -> MessageStream
// (#accumulateMessage) -> finalMessage(). Nothing of the SDK is re-implemented here.
//
// Every transcript is replayed three times (whole body, one byte per chunk, seeded random chunks
// of 1..64 bytes); the three results must be identical or the script fails, so the expectations
// are known not to depend on chunking.
//
// Output (one JSON file per transcript, keys sorted for stable diffs):
//   source   "<folder>/<file>"
//   sdk      "@anthropic-ai/sdk <version>"
//   events   types of the events the SDK handed to MessageStream, in order (ping is dropped by
//            the SDK's Stream; an event without an `event:` field or with empty data too)
//   message  what finalMessage() resolved to, or null when it rejected. The SDK-local helper
//            field `parsed_output` (always null without structured outputs) is removed: it is
//            not part of the API's Message.
//   error    null, or what finalMessage() rejected with: {class, message, type, status, request_id}
//   partial  when finalMessage() rejected: the message snapshot as accumulated up to the failure
//            (null if no message_start was seen); null otherwise
// and spec/fixtures/sse-expected/callbacks/<folder>__<file>.json: the typed events MessageStream
// emitted, in order: ["text", delta, snapshot], ["thinking", delta, snapshot], ["signature", s],
// ["inputJson", partial_json, snapshot], ["citation", citation, #citations so far],
// ["contentBlock", block], ["message", id, stop_reason].
//
// Also writes spec/fixtures/sse-expected/partial-json.json: the SDK's partial-JSON parser (the
// view of a tool input whose input_json_delta fragments are still arriving) on every prefix of a
// few tool-input documents and on seeded random mutations of them:
//   cases: [{input, output}], or [{input, throws: true}] when partialParse throws. Cases holding a
//   lone UTF-16 surrogate (no UTF-8 form, so not comparable in Lua) are left out.
//
// Usage: node generate.mjs [SSE_DIR]
//   SSE_DIR defaults to <repo>/spec/fixtures/conformance/sse (the recordings kept in the repo).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { VERSION as sdkVersion } from '@anthropic-ai/sdk/version';
import { partialParse } from '@anthropic-ai/sdk/_vendor/partial-json-parser/parser';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const outDir = path.join(repo, 'spec', 'fixtures', 'sse-expected');

function sseDir() {
  if (process.argv[2]) return path.resolve(process.argv[2]);
  return path.join(repo, 'spec', 'fixtures', 'conformance', 'sse');
}

// Deterministic PRNG (mulberry32) so random chunking is reproducible.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function chunkings(bytes) {
  const whole = [bytes];
  const single = [];
  for (let i = 0; i < bytes.length; i++) single.push(bytes.subarray(i, i + 1));
  const random = [];
  const next = rng(0x5eed);
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(next() * 64);
    random.push(bytes.subarray(i, i + n));
    i += n;
  }
  return { whole, single, random };
}

function bodyOf(chunks) {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(new Uint8Array(chunks[i++]));
      else controller.close();
    },
  });
}

// Plain JSON value: evaluates getters (a tool block's lazily parsed `input`), drops undefined.
const plain = (v) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

async function replay(chunks, beta) {
  const client = new Anthropic({
    apiKey: 'placeholder-not-a-key',
    baseURL: 'http://127.0.0.1:9',
    maxRetries: 0,
    fetch: async () =>
      new Response(bodyOf(chunks), {
        status: 200,
        headers: { 'content-type': 'text/event-stream', 'request-id': 'req_sse_expected_replay' },
      }),
  });
  const stream = (beta ? client.beta.messages : client.messages).stream({
    model: 'claude-haiku-4-5',
    max_tokens: 1024,
    messages: [{ role: 'user', content: 'replay' }],
  });
  const events = [];
  let snapshot;
  stream.on('_rawEvent', (ev) => events.push(ev.type));
  // The typed events MessageStream emits, in order, with what each carries (callbacks/).
  const typed = [];
  stream.on('text', (delta, snap) => typed.push(['text', delta, snap]));
  stream.on('thinking', (delta, snap) => typed.push(['thinking', delta, snap]));
  stream.on('signature', (sig) => typed.push(['signature', sig]));
  stream.on('inputJson', (partial, snap) => typed.push(['inputJson', partial, plain(snap)]));
  stream.on('citation', (citation, snap) => typed.push(['citation', plain(citation), snap.length]));
  stream.on('contentBlock', (block) => typed.push(['contentBlock', plain(block)]));
  stream.on('message', (msg) => typed.push(['message', msg.id, msg.stop_reason ?? null]));
  stream.on('streamEvent', (_ev, snap) => {
    snapshot = snap;
  });
  const result = { events, message: null, error: null, partial: null, typed };
  try {
    const msg = plain(await stream.finalMessage());
    delete msg.parsed_output;
    result.message = msg;
  } catch (err) {
    result.error = {
      class: err?.constructor?.name ?? null,
      message: String(err?.message ?? err),
      type: err?.type ?? null,
      status: err?.status ?? null,
      request_id: err?.requestID ?? null,
    };
    result.partial = plain(snapshot);
  }
  return result;
}

const PARTIAL_DOCS = [
  '{"filename": "taxes.txt", "lines_of_text": [\n"# GUIDE",\n"",\n"## INTRO",\n"Filing taxes"]}',
  '{"a": [1, -2.5e+3, 0, 10, true, false, null, {"b": "c\\"d\\\\"}], "e": "\\u00e9\\ud83d\\ude00\\n", "f": {}}',
  '[{"x": 1.25}, [], [[]], "s", -0.5E-2, 12345678901234]',
  '{"query": "solar eclipse viewing safety news 2026"}',
  '  { "k" :  "v\\\\\\"w" , "n" : nul }',
  '{"a": 01, "b": 1., "c": .5, "d": -}',
  '{"a": "x\ty"}',
];

const wellFormed = (v) =>
  typeof v === 'string' ? v.isWellFormed()
  : v && typeof v === 'object' ? Object.entries(v).every(([k, x]) => wellFormed(k) && wellFormed(x))
  : true;

function partialCases() {
  const next = rng(0x9a27);
  const alphabet = '{}[]:,"\\ 0123456789.-+eEtrufalsn\nxu';
  const inputs = [];
  for (const d of PARTIAL_DOCS) for (let i = 0; i <= d.length; i++) inputs.push(d.slice(0, i));
  for (let k = 0; k < 600; k++) {
    const d = PARTIAL_DOCS[Math.floor(next() * PARTIAL_DOCS.length)];
    let s = d.slice(0, Math.floor(next() * (d.length + 1)));
    const edits = 1 + Math.floor(next() * 2);
    for (let m = 0; m < edits; m++) {
      const p = Math.floor(next() * (s.length + 1));
      const c = alphabet[Math.floor(next() * alphabet.length)];
      s = next() < 0.5 ? s.slice(0, p) + c + s.slice(p) : s.slice(0, p) + s.slice(p + 1);
    }
    inputs.push(s);
  }
  const seen = new Set();
  const cases = [];
  for (const input of inputs) {
    if (seen.has(input)) continue;
    seen.add(input);
    let c;
    try {
      c = { input, output: partialParse(input) };
    } catch {
      c = { input, throws: true };
    }
    if (!wellFormed(c.output)) continue; // a lone surrogate has no UTF-8 form
    cases.push(c);
  }
  return cases;
}

async function main() {
  const dir = sseDir();
  fs.mkdirSync(path.join(outDir, 'beta'), { recursive: true });
  fs.mkdirSync(path.join(outDir, 'callbacks'), { recursive: true });
  const folders = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  let count = 0;
  for (const folder of folders) {
    const files = fs
      .readdirSync(path.join(dir, folder))
      .filter((f) => f.endsWith('.sse') || f.endsWith('.txt'))
      .sort();
    for (const file of files) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(dir, folder, file)));
      for (const beta of [false, true]) {
        const runs = {};
        for (const [name, chunks] of Object.entries(chunkings(bytes))) {
          runs[name] = JSON.stringify(sortKeys(await replay(chunks, beta)));
        }
        if (runs.single !== runs.whole || runs.random !== runs.whole) {
          throw new Error(`${folder}/${file}: SDK result depends on chunking (beta: ${beta})`);
        }
        const r = JSON.parse(runs.whole);
        const callbacks = r.typed;
        delete r.typed;
        if (!beta) {
          const cbOut = { source: `${folder}/${file}`, sdk: `@anthropic-ai/sdk ${sdkVersion} MessageStream`, callbacks };
          fs.writeFileSync(path.join(outDir, 'callbacks', `${folder}__${file}.json`), JSON.stringify(sortKeys(cbOut), null, 2) + '\n');
        }
        const out = {
          source: `${folder}/${file}`,
          sdk: `@anthropic-ai/sdk ${sdkVersion} ${beta ? 'BetaMessageStream' : 'MessageStream'}`,
          ...r,
        };
        const target = path.join(outDir, beta ? 'beta' : '', `${folder}__${file}.json`);
        fs.writeFileSync(target, JSON.stringify(sortKeys(out), null, 2) + '\n');
        const what = r.error ? 'error: ' + r.error.message : 'message ' + r.message.id;
        console.log(`${beta ? 'beta ' : ''}${folder}/${file}: ${what}`);
      }
      count++;
    }
  }
  const cases = partialCases();
  fs.writeFileSync(
    path.join(outDir, 'partial-json.json'),
    `{"sdk": ${JSON.stringify(`@anthropic-ai/sdk ${sdkVersion} partialParse`)},\n"cases": [\n` +
      cases.map((c) => JSON.stringify(c)).join(',\n') +
      '\n]}\n',
  );
  console.log(`partial-json.json: ${cases.length} cases`);
  console.log(`wrote ${count * 3 + 1} files to ${path.relative(process.cwd(), outDir) || '.'}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
