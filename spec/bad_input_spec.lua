-- Bad input to every public function (issue 9): wrong types, nil, huge numbers, NaN, invalid
-- UTF-8, NUL bytes, CR/LF in header names and values, absurd timeouts, bad base URLs.
--
-- Each row is { label, call, expected message }. `call(client)` makes one call with a bad
-- argument; the row asserts that it raises a UsageError whose message is exactly `expected`
-- (so it starts with the parameter's name), that the mock's request log shows nothing was
-- sent, and that the same client still completes one good request afterwards.

local anthropic = require "anthropic"
local mock = require "spec.support.mock"

local errors = anthropic.errors
local FREE, HAIKU = "sk-ant-mock-free", "claude-haiku-4-5"
local NAN, INF = 0 / 0, math.huge
local NIL = {}   -- marks a field to remove from the good params / options

local function merge(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra or {}) do
    if v == NIL then t[k] = nil else t[k] = v end
  end
  return t
end

-- Good params, with `extra` fields replaced (NIL removes one).
local function P(extra)
  return merge({ model = HAIKU, max_tokens = 16, messages = { { role = "user", content = "Hi" } } }, extra)
end

local function user(content) return { { role = "user", content = content } } end

-- Good client options, with `extra` replaced.
local function C(extra)
  return merge({ api_key = FREE, base_url = mock.url(), max_retries = 0 }, extra)
end

local function many_headers(n)
  local h = {}
  for i = 1, n do h["x-h" .. i] = "v" end
  return h
end

-- A table nested `depth` levels under metadata.a.a.a...
local function nested(depth)
  local root = {}
  local t = root
  for _ = 2, depth do
    t.a = {}
    t = t.a
  end
  return root
end

local function q(s) return string.format("%q", s) end

local TIMEOUT = "must be a number of seconds > 0 and at most 31536000"
local BAD_HTTP = "base_url: plain http:// is only allowed to a loopback host; pass allow_insecure_http = true "
  .. "to send the key unencrypted to "
local POSITIVE = "max_tokens: must be a positive integer"
local NONEMPTY = "must be a non-empty string"
local NOT_LIST = "messages: must be a list (a table with items 1..n)"
local VALUE_CRLF = "header value must not contain CR, LF or NUL"

local function new(opts) return function() return anthropic.new(opts) end end
local function create(p, o) return function(c) return c.messages.create(p, o) end end
local function stream(p, o) return function(c) return c.messages.stream(p, o) end end
local function count(p, o) return function(c) return c.messages.count_tokens(p, o) end end

local ROWS = {
  -- anthropic.new: options table
  { "new: options not a table", new("sk-ant"), "options: must be a table" },
  { "new: options a number", new(42), "options: must be a table" },
  { "new: unknown option", new(C { max_retry = 3 }), "max_retry: unknown option" },
  { "new: list item as option", new(C { "x" }), "1: unknown option" },
  -- credentials
  { "new: api_key a number", new(C { api_key = 42 }), "api_key: " .. NONEMPTY },
  { "new: api_key empty", new(C { api_key = "" }), "api_key: " .. NONEMPTY },
  { "new: api_key a table", new(C { api_key = {} }), "api_key: " .. NONEMPTY },
  { "new: api_key with CR LF", new(C { api_key = "sk-ant\r\nx-injected: 1" }),
    "api_key: must not contain CR, LF or NUL" },
  { "new: api_key with NUL", new(C { api_key = "sk-ant\0tail" }), "api_key: must not contain CR, LF or NUL" },
  { "new: auth_token a boolean", new(C { auth_token = true }), "auth_token: " .. NONEMPTY },
  { "new: auth_token with LF", new(C { api_key = NIL, auth_token = "tok\n" }),
    "auth_token: must not contain CR, LF or NUL" },
  -- base_url
  { "new: base_url a number", new(C { base_url = 42 }), "base_url: must be a string" },
  { "new: base_url ftp", new(C { base_url = "ftp://127.0.0.1/" }),
    "base_url: must be an http:// or https:// URL, got " .. q("ftp://127.0.0.1/") },
  { "new: base_url empty", new(C { base_url = "" }), "base_url: must be an http:// or https:// URL, got \"\"" },
  { "new: base_url without a scheme", new(C { base_url = "127.0.0.1:8080" }),
    "base_url: must be an http:// or https:// URL, got \"127.0.0.1:8080\"" },
  { "new: base_url without a host", new(C { base_url = "https://" }),
    "base_url: must be an http:// or https:// URL, got \"https://\"" },
  { "new: base_url with a space", new(C { base_url = "https://api.anthropic.com /v1" }),
    "base_url: must not contain whitespace, CR, LF or NUL" },
  { "new: base_url with CR LF", new(C { base_url = "https://api.anthropic.com\r\nx: 1" }),
    "base_url: must not contain whitespace, CR, LF or NUL" },
  { "new: base_url with NUL", new(C { base_url = "https://api.anthropic.com\0.evil" }),
    "base_url: must not contain whitespace, CR, LF or NUL" },
  { "new: base_url with a query", new(C { base_url = "https://api.anthropic.com/?a=1" }),
    "base_url: must not contain a query or fragment" },
  { "new: base_url with a fragment", new(C { base_url = "https://api.anthropic.com/#x" }),
    "base_url: must not contain a query or fragment" },
  { "new: http:// to a public host", new(C { base_url = "http://api.anthropic.com" }),
    BAD_HTTP .. "api.anthropic.com" },
  { "new: http:// with loopback as user info", new(C { base_url = "http://127.0.0.1@10.1.2.3:8080" }),
    BAD_HTTP .. "10.1.2.3" },
  { "new: http:// to a host named like loopback", new(C { base_url = "http://localhost.example.com" }),
    BAD_HTTP .. "localhost.example.com" },
  { "new: http:// to 127.0.0.1.example.com", new(C { base_url = "http://127.0.0.1.example.com/" }),
    BAD_HTTP .. "127.0.0.1.example.com" },
  { "new: allow_insecure_http not a boolean", new(C { allow_insecure_http = "yes" }),
    "allow_insecure_http: must be a boolean" },
  -- timeouts
  { "new: timeout negative", new(C { timeout = -1 }), "timeout: " .. TIMEOUT },
  { "new: timeout 0", new(C { timeout = 0 }), "timeout: " .. TIMEOUT },
  { "new: timeout 1e308", new(C { timeout = 1e308 }), "timeout: " .. TIMEOUT },
  { "new: timeout inf", new(C { timeout = INF }), "timeout: " .. TIMEOUT },
  { "new: timeout -inf", new(C { timeout = -INF }), "timeout: " .. TIMEOUT },
  { "new: timeout NaN", new(C { timeout = NAN }), "timeout: " .. TIMEOUT },
  { "new: timeout a string", new(C { timeout = "10" }), "timeout: " .. TIMEOUT },
  { "new: connect_timeout NaN", new(C { connect_timeout = NAN }), "connect_timeout: " .. TIMEOUT },
  { "new: connect_timeout negative", new(C { connect_timeout = -5 }), "connect_timeout: " .. TIMEOUT },
  { "new: idle_timeout negative", new(C { idle_timeout = -1 }), "idle_timeout: " .. TIMEOUT },
  { "new: idle_timeout true", new(C { idle_timeout = true }), "idle_timeout: " .. TIMEOUT },
  { "new: retry_cap 1e308", new(C { retry_cap = 1e308 }), "retry_cap: " .. TIMEOUT },
  { "new: retry_cap false", new(C { retry_cap = false }), "retry_cap: " .. TIMEOUT },
  -- counts
  { "new: max_retries negative", new(C { max_retries = -1 }), "max_retries: must be an integer from 0 to 100" },
  { "new: max_retries fractional", new(C { max_retries = 1.5 }), "max_retries: must be an integer from 0 to 100" },
  { "new: max_retries huge", new(C { max_retries = 1e9 }), "max_retries: must be an integer from 0 to 100" },
  { "new: max_retries NaN", new(C { max_retries = NAN }), "max_retries: must be an integer from 0 to 100" },
  { "new: max_retries a string", new(C { max_retries = "2" }), "max_retries: must be an integer from 0 to 100" },
  { "new: max_response_bytes 0", new(C { max_response_bytes = 0 }),
    "max_response_bytes: must be an integer from 1 to 2147483647" },
  { "new: max_response_bytes 2^53", new(C { max_response_bytes = 2 ^ 53 }),
    "max_response_bytes: must be an integer from 1 to 2147483647" },
  { "new: max_response_bytes inf", new(C { max_response_bytes = INF }),
    "max_response_bytes: must be an integer from 1 to 2147483647" },
  -- default_headers
  { "new: default_headers a string", new(C { default_headers = "x-a: b" }),
    "default_headers: must be a table of name = value strings" },
  { "new: default_headers name with a space", new(C { default_headers = { ["x a"] = "v" } }),
    "default_headers: header name \"x a\" is not a valid token" },
  { "new: default_headers name with CR LF", new(C { default_headers = { ["x-a\r\nx-b"] = "v" } }),
    "default_headers: header name " .. q("x-a\r\nx-b") .. " is not a valid token" },
  { "new: default_headers name with NUL", new(C { default_headers = { ["x-a\0"] = "v" } }),
    "default_headers: header name " .. q("x-a\0") .. " is not a valid token" },
  { "new: default_headers name empty", new(C { default_headers = { [""] = "v" } }),
    "default_headers: header name \"\" is not a valid token" },
  { "new: default_headers list item", new(C { default_headers = { "x-a: b" } }),
    "default_headers: header name \"1\" is not a valid token" },
  { "new: default_headers value with CR LF", new(C { default_headers = { ["x-a"] = "v\r\nx-injected: 1" } }),
    "default_headers.x-a: " .. VALUE_CRLF },
  { "new: default_headers value with LF", new(C { default_headers = { ["x-a"] = "v\n" } }),
    "default_headers.x-a: " .. VALUE_CRLF },
  { "new: default_headers value with NUL", new(C { default_headers = { ["x-a"] = "v\0w" } }),
    "default_headers.x-a: " .. VALUE_CRLF },
  { "new: default_headers value a table", new(C { default_headers = { ["x-a"] = {} } }),
    "default_headers.x-a: header value must be a string" },
  { "new: default_headers value a boolean", new(C { default_headers = { ["x-a"] = false } }),
    "default_headers.x-a: header value must be a string" },
  { "new: default_headers too many", new(C { default_headers = many_headers(51) }),
    "default_headers: must not have more than 50 headers" },
  -- TLS and proxy
  { "new: insecure_skip_tls_verify a string", new(C { insecure_skip_tls_verify = "true" }),
    "insecure_skip_tls_verify: must be a boolean" },
  { "new: ca_file a number", new(C { ca_file = 42 }), "ca_file: " .. NONEMPTY },
  { "new: ca_file empty", new(C { ca_file = "" }), "ca_file: " .. NONEMPTY },
  { "new: ca_file with NUL", new(C { ca_file = "/tmp/ca.pem\0x" }), "ca_file: must not contain CR, LF or NUL" },
  { "new: proxy a table", new(C { proxy = {} }), "proxy: " .. NONEMPTY },
  { "new: proxy with LF", new(C { proxy = "http://127.0.0.1:3128\n" }), "proxy: must not contain CR, LF or NUL" },

  -- messages.create: params
  { "create: params a string", create("hello"), "params: must be a table" },
  { "create: params nil", create(nil), "params: must be a table" },
  { "create: model missing", create(P { model = NIL }), "model: " .. NONEMPTY },
  { "create: model empty", create(P { model = "" }), "model: " .. NONEMPTY },
  { "create: model a number", create(P { model = 4.5 }), "model: " .. NONEMPTY },
  { "create: model a table", create(P { model = { HAIKU } }), "model: " .. NONEMPTY },
  { "create: model invalid UTF-8", create(P { model = "claude-\255" }), "model: invalid UTF-8 at byte 8" },
  { "create: max_tokens missing", create(P { max_tokens = NIL }), POSITIVE },
  { "create: max_tokens 0", create(P { max_tokens = 0 }), POSITIVE },
  { "create: max_tokens negative", create(P { max_tokens = -1 }), POSITIVE },
  { "create: max_tokens fractional", create(P { max_tokens = 1.5 }), POSITIVE },
  { "create: max_tokens a string", create(P { max_tokens = "16" }), POSITIVE },
  { "create: max_tokens NaN", create(P { max_tokens = NAN }), POSITIVE },
  { "create: max_tokens inf", create(P { max_tokens = INF }), POSITIVE },
  { "create: max_tokens 2^31", create(P { max_tokens = 2 ^ 31 }), POSITIVE },
  { "create: max_tokens 1e308", create(P { max_tokens = 1e308 }), POSITIVE },
  { "create: max_tokens too large without stream", create(P { max_tokens = 64000 }),
    "max_tokens: a non-streaming request for 64000 tokens may take longer than 10 minutes: "
      .. "use client.messages.stream(params), or set an explicit timeout" },
  { "create: messages missing", create(P { messages = NIL }), NOT_LIST },
  { "create: messages a string", create(P { messages = "Hi" }), NOT_LIST },
  { "create: messages a single message", create(P { messages = { role = "user" } }),
    NOT_LIST .. ", found key role" },
  { "create: messages with a hole", create(P { messages = { [1] = user("a")[1], [3] = user("b")[1] } }),
    "messages: must be a list without holes (item 2 is nil)" },
  { "create: messages with key 0", create(P { messages = { [0] = user("a")[1] } }), NOT_LIST .. ", found key 0" },
  { "create: message a string", create(P { messages = { "Hi" } }),
    "messages[1]: must be a table { role = ..., content = ... }" },
  { "create: content invalid UTF-8", create(P { messages = user("bad \255 byte") }),
    "messages[1].content: invalid UTF-8 at byte 5" },
  { "create: content overlong UTF-8", create(P { messages = user("\192\175") }),
    "messages[1].content: invalid UTF-8 at byte 1" },
  { "create: content a UTF-16 surrogate", create(P { messages = user("ok \237\160\128") }),
    "messages[1].content: invalid UTF-8 at byte 4" },
  { "create: content block text invalid UTF-8", create(P { messages = user({ { type = "text", text = "\200" } }) }),
    "messages[1].content[1].text: invalid UTF-8 at byte 1" },
  { "create: content a function", create(P { messages = user(print) }),
    "messages[1].content: cannot encode a function as JSON" },
  { "create: content NaN", create(P { messages = user(NAN) }), "messages[1].content: number must be finite" },
  { "create: system invalid UTF-8", create(P { system = "ab\255" }), "system: invalid UTF-8 at byte 3" },
  { "create: metadata value invalid UTF-8", create(P { metadata = { user_id = "\128" } }),
    "metadata.user_id: invalid UTF-8 at byte 1" },
  { "create: metadata key invalid UTF-8", create(P { metadata = { ["\255"] = "x" } }),
    "metadata.<key>: invalid UTF-8 at byte 1" },
  { "create: metadata mixing list and fields", create(P { metadata = { "a", user_id = "b" } }),
    "metadata: table mixes list items and named fields" },
  { "create: metadata with a fractional key", create(P { metadata = { [1.5] = "x" } }),
    "metadata: table has a non-positive or fractional key" },
  { "create: metadata a coroutine", create(P { metadata = { user_id = coroutine.create(function() end) } }),
    "metadata.user_id: cannot encode a thread as JSON" },
  { "create: metadata nested 1000 deep", create(P { metadata = nested(1000) }),
    "metadata" .. string.rep(".a", 900) .. ": nested too deeply" },
  { "create: temperature NaN", create(P { temperature = NAN }), "temperature: number must be finite" },
  { "create: temperature inf", create(P { temperature = INF }), "temperature: number must be finite" },
  { "create: top_p -inf", create(P { top_p = -INF }), "top_p: number must be finite" },
  { "create: tools with a hole", create(P { tools = { [1] = { name = "a" }, [3] = { name = "b" } } }),
    "tools: list has holes (a nil in the middle?)" },
  { "create: stream = true", create(P { stream = true }),
    "stream: use client.messages.stream(params) instead of stream = true" },
  { "create: betas a string", create(P { betas = "x" }), "betas: must be a list (a table with items 1..n)" },
  { "create: betas item with CR LF", create(P { betas = { "a\r\nx-injected: 1" } }),
    "betas[1]: must be a non-empty string without CR, LF, NUL or comma" },
  { "create: betas item with a comma", create(P { betas = { "a,b" } }),
    "betas[1]: must be a non-empty string without CR, LF, NUL or comma" },
  { "create: betas item empty (an empty entry in anthropic-beta)", create(P { betas = { "" } }),
    "betas[1]: must be a non-empty string without CR, LF, NUL or comma" },
  { "create: betas item a number", create(P { betas = { 7 } }),
    "betas[1]: must be a non-empty string without CR, LF, NUL or comma" },
  -- messages.create: per-request options
  { "create: options a string", create(P(), "fast"), "options: must be a table" },
  { "create: options unknown key", create(P(), { timeot = 5 }), "options.timeot: unknown option" },
  { "create: options.timeout negative", create(P(), { timeout = -1 }), "options.timeout: " .. TIMEOUT },
  { "create: options.timeout 0", create(P(), { timeout = 0 }), "options.timeout: " .. TIMEOUT },
  { "create: options.timeout 1e308", create(P(), { timeout = 1e308 }), "options.timeout: " .. TIMEOUT },
  { "create: options.timeout NaN", create(P(), { timeout = NAN }), "options.timeout: " .. TIMEOUT },
  { "create: options.timeout a string", create(P(), { timeout = "5" }), "options.timeout: " .. TIMEOUT },
  { "create: options.connect_timeout inf", create(P(), { connect_timeout = INF }),
    "options.connect_timeout: " .. TIMEOUT },
  { "create: options.max_retries 101", create(P(), { max_retries = 101 }),
    "options.max_retries: must be an integer from 0 to 100" },
  { "create: options.headers a string", create(P(), { headers = "x-a: b" }),
    "options.headers: must be a table of name = value strings" },
  { "create: options.headers value with CR LF", create(P(), { headers = { ["x-a"] = "b\r\nx-injected: 1" } }),
    "options.headers.x-a: " .. VALUE_CRLF },
  { "create: options.headers value with CR", create(P(), { headers = { ["x-a"] = "b\rc" } }),
    "options.headers.x-a: " .. VALUE_CRLF },
  { "create: options.headers value with NUL", create(P(), { headers = { ["x-a"] = "b\0c" } }),
    "options.headers.x-a: " .. VALUE_CRLF },
  { "create: options.headers name with LF", create(P(), { headers = { ["x-a\nx-b"] = "v" } }),
    "options.headers: header name " .. q("x-a\nx-b") .. " is not a valid token" },
  { "create: options.headers name with a colon", create(P(), { headers = { ["x-a:"] = "v" } }),
    "options.headers: header name \"x-a:\" is not a valid token" },
  { "create: options.headers name non-ASCII", create(P(), { headers = { ["x-\195\169"] = "v" } }),
    "options.headers: header name " .. q("x-\195\169") .. " is not a valid token" },
  { "create: options.headers too many", create(P(), { headers = many_headers(51) }),
    "options.headers: must not have more than 50 headers" },
  { "create: options.on_done a number", create(P(), { on_done = 42 }), "options.on_done: must be a function" },
  { "create: options.on_event", create(P(), { on_event = print }), "options: on_event/on_text need messages.stream" },

  -- messages.stream
  { "stream: params a number", stream(42), "params: must be a table" },
  { "stream: model missing", stream(P { model = NIL }), "model: " .. NONEMPTY },
  { "stream: max_tokens NaN", stream(P { max_tokens = NAN }), POSITIVE },
  { "stream: messages a string", stream(P { messages = "Hi" }), NOT_LIST },
  { "stream: content invalid UTF-8", stream(P { messages = user("\255") }),
    "messages[1].content: invalid UTF-8 at byte 1" },
  { "stream: system with a function", stream(P { system = { { type = "text", text = print } } }),
    "system[1].text: cannot encode a function as JSON" },
  { "stream: options.idle_timeout negative", stream(P(), { idle_timeout = -1 }),
    "options.idle_timeout: " .. TIMEOUT },
  { "stream: options.timeout NaN", stream(P(), { timeout = NAN }), "options.timeout: " .. TIMEOUT },
  { "stream: options.on_event a string", stream(P(), { on_event = "print" }),
    "options.on_event: must be a function" },
  { "stream: options.on_text a table", stream(P(), { on_text = {} }), "options.on_text: must be a function" },
  { "stream: options.headers value with LF", stream(P(), { headers = { ["x-a"] = "\n" } }),
    "options.headers.x-a: " .. VALUE_CRLF },

  -- messages.count_tokens
  { "count_tokens: params a boolean", count(true), "params: must be a table" },
  { "count_tokens: model a number", count(P { model = 1 }), "model: " .. NONEMPTY },
  { "count_tokens: messages with a hole", count(P { messages = { [2] = user("a")[1] } }),
    "messages: must be a list without holes (item 1 is nil)" },
  { "count_tokens: system invalid UTF-8", count(P { system = "\237\191\191" }),
    "system: invalid UTF-8 at byte 1" },
  { "count_tokens: options.headers name with CR", count(P(), { headers = { ["x\r"] = "v" } }),
    "options.headers: header name " .. q("x\r") .. " is not a valid token" },
  { "count_tokens: options.max_retries NaN", count(P(), { max_retries = NAN }),
    "options.max_retries: must be an integer from 0 to 100" },

  -- models
  { "models.list: params a string", function(c) return c.models.list("10") end,
    "params: must be a table { limit =, after_id =, before_id = }" },
  { "models.list: limit 0", function(c) return c.models.list { limit = 0 } end,
    "limit: must be an integer from 1 to 1000" },
  { "models.list: limit NaN", function(c) return c.models.list { limit = NAN } end,
    "limit: must be an integer from 1 to 1000" },
  { "models.list: limit 1e308", function(c) return c.models.list { limit = 1e308 } end,
    "limit: must be an integer from 1 to 1000" },
  { "models.list: both cursors", function(c) return c.models.list { after_id = "a", before_id = "b" } end,
    "after_id: cannot be combined with before_id (one cursor per listing)" },
  { "models.list: after_id empty", function(c) return c.models.list { after_id = "" } end,
    "after_id: must be a non-empty string" },
  { "models.list: unknown parameter", function(c) return c.models.list { cursor = "x" } end, "cursor: unknown option" },
  { "models.list: betas item with LF", function(c) return c.models.list { betas = { "a\nb" } } end,
    "betas[1]: must be a non-empty string without CR, LF, NUL or comma" },
  { "models.list: options.headers value with CR LF", function(c)
      return c.models.list(nil, { headers = { ["x-a"] = "\r\n" } }) end, "options.headers.x-a: " .. VALUE_CRLF },
  { "models.retrieve: id nil", function(c) return c.models.retrieve(nil) end, "model_id: " .. NONEMPTY },
  { "models.retrieve: id a number", function(c) return c.models.retrieve(42) end, "model_id: " .. NONEMPTY },
  { "models.retrieve: options a string", function(c) return c.models.retrieve(HAIKU, "x") end,
    "options: must be a table" },
  { "models.retrieve: options.betas with NUL", function(c) return c.models.retrieve(HAIKU, { betas = { "a\0" } }) end,
    "options.betas[1]: must be a non-empty string without CR, LF, NUL or comma" },
  { "models.retrieve: options.timeout NaN", function(c) return c.models.retrieve(HAIKU, { timeout = NAN }) end,
    "options.timeout: " .. TIMEOUT },
  { "models.retrieve: options.on_event", function(c) return c.models.retrieve(HAIKU, { on_event = print }) end,
    "options: on_event/on_text are only for messages.stream" },

  -- message batches
  { "batches.create: params a string", function(c) return c.messages.batches.create("x") end,
    "params: must be a table { requests = { ... } }" },
  { "batches.create: no requests", function(c) return c.messages.batches.create { requests = {} } end,
    "requests: must hold at least one request" },
  { "batches.create: custom_id with a space", function(c)
      return c.messages.batches.create { requests = { { custom_id = "a b", params = P() } } } end,
    "requests[1].custom_id: must be 1 to 64 characters from A-Z, a-z, 0-9, _ and -, got \"a b\"" },
  { "batches.create: custom_id a number", function(c)
      return c.messages.batches.create { requests = { { custom_id = 1, params = P() } } } end,
    "requests[1].custom_id: must be a string" },
  { "batches.create: streaming params", function(c)
      return c.messages.batches.create { requests = { { custom_id = "a", params = P { stream = true } } } } end,
    "requests[1].params.stream: batch requests cannot stream" },
  { "batches.create: max_tokens NaN", function(c)
      return c.messages.batches.create { requests = { { custom_id = "a", params = P { max_tokens = NAN } } } } end,
    "requests[1].params." .. POSITIVE },
  { "batches.create: content invalid UTF-8", function(c)
      return c.messages.batches.create { requests = { { custom_id = "a", params = P { messages = user("\255") } } } }
    end, "requests[1].params.messages[1].content: invalid UTF-8 at byte 1" },
  { "batches.retrieve: id empty", function(c) return c.messages.batches.retrieve("") end,
    "message_batch_id: " .. NONEMPTY },
  { "batches.cancel: id a table", function(c) return c.messages.batches.cancel({}) end,
    "message_batch_id: " .. NONEMPTY },
  { "batches.delete: id nil", function(c) return c.messages.batches.delete() end, "message_batch_id: " .. NONEMPTY },
  { "batches.results: id a number", function(c) return c.messages.batches.results(7) end,
    "message_batch_id: " .. NONEMPTY },
  { "batches.list: limit 1001", function(c) return c.messages.batches.list { limit = 1001 } end,
    "limit: must be an integer from 1 to 1000" },

  -- client methods
  { "poll: timeout_ms a string", function(c) return c:poll("10") end, "timeout_ms: must be a number >= 0" },
  { "poll: timeout_ms negative", function(c) return c:poll(-1) end, "timeout_ms: must be a number >= 0" },
  { "poll: timeout_ms -inf", function(c) return c:poll(-INF) end, "timeout_ms: must be a number >= 0" },
  { "poll: timeout_ms NaN", function(c) return c:poll(NAN) end, "timeout_ms: must be a number >= 0" },
  { "poll: called with a dot", function(c) return c.poll(10) end, "client: expected a Client (use client:method())" },
  { "poll: called on another table", function(c) return c.poll({}, 0) end,
    "client: expected a Client (use client:method())" },
  { "inflight: called with a dot", function(c) return c.inflight() end,
    "client: expected a Client (use client:method())" },
  { "sockets: called with a dot", function(c) return c.sockets() end,
    "client: expected a Client (use client:method())" },
  { "close: called with a dot", function(c) return c.close() end,
    "client: expected a Client (use client:method())" },

  -- module functions
  { "anthropic.spawn: fn a number", function() return anthropic.spawn(42) end, "fn: must be a function" },
  { "anthropic.array: a string", function() return anthropic.array("x") end, "t: must be a table or nil" },
  { "anthropic.object: a number", function() return anthropic.object(1) end, "t: must be a table or nil" },
}

-- Resources that land later add their rows here when their module is present.
local function optional(name) local ok, m = pcall(require, name); return ok and m or nil end
local access, fallback = optional "anthropic.access", optional "anthropic.fallback"
if access and access.check then
  ROWS[#ROWS + 1] = { "access.check: client a string", function() return access.check("c", { HAIKU }) end,
    "client: expected a Client from anthropic.new" }
  ROWS[#ROWS + 1] = { "access.check: models a string", function(c) return access.check(c, HAIKU) end,
    "models: must be a list of model ids" }
  ROWS[#ROWS + 1] = { "access.check: model id with NaN", function(c) return access.check(c, { NAN }) end,
    "models[1]: must be a non-empty string" }
  ROWS[#ROWS + 1] = { "access.check: ttl negative", function(c) return access.check(c, { HAIKU }, { ttl = -1 }) end,
    "opts.ttl: must be a number of seconds >= 0 (0 or false: no cache)" }
  ROWS[#ROWS + 1] = { "access.check: ttl NaN", function(c) return access.check(c, { HAIKU }, { ttl = NAN }) end,
    "opts.ttl: must be a number of seconds >= 0 (0 or false: no cache)" }
end
if access and access.best then
  ROWS[#ROWS + 1] = { "access.best: opts.probe unknown",
    function(c) return access.best(c, { HAIKU }, { probe = "x" }) end,
    "opts.probe: must be \"messages\" or \"count_tokens\"" }
  ROWS[#ROWS + 1] = { "access.list_models: client nil", function() return access.list_models(nil) end,
    "client: expected a Client from anthropic.new" }
end
if fallback and fallback.create then
  ROWS[#ROWS + 1] = { "fallback.create: max_tokens NaN (checked before any model is tried)", function(c)
      return fallback.create(c, P { max_tokens = NAN }) end, POSITIVE }
  ROWS[#ROWS + 1] = { "fallback.create: models with a number", function(c)
      return fallback.create(c, P(), { models = { HAIKU, 7 } }) end,
    "opts.models[2]: must be a non-empty string (a model id)" }
  ROWS[#ROWS + 1] = { "fallback.stream: on_fallback a string", function(c)
      return fallback.stream(c, P(), { on_fallback = "x" }) end, "opts.on_fallback: must be a function" }
  ROWS[#ROWS + 1] = { "fallback.stream: options with on_text", function(c)
      return fallback.stream(c, P(), { options = { on_text = print } }) end,
    "opts.options.on_text: fallback calls are blocking (run them in anthropic.spawn to not block)" }
  ROWS[#ROWS + 1] = { "fallback.create: params a string", function(c) return fallback.create(c, "x") end,
    "params: must be a table" }
  ROWS[#ROWS + 1] = { "fallback.create: opts a number", function(c) return fallback.create(c, P(), 3) end,
    "opts: must be a table" }
  ROWS[#ROWS + 1] = { "fallback.create: ttl NaN", function(c) return fallback.create(c, P(), { ttl = NAN }) end,
    "opts.ttl: must be a number of seconds >= 0 (0 or false: don't remember denials)" }
end

describe("bad input raises a UsageError naming the parameter, sends nothing, and the client still works", function()
  local client
  setup(function()
    client = anthropic.new(C())
  end)
  teardown(function() client:close() end)
  before_each(function() mock.clear() end)

  for _, row in ipairs(ROWS) do
    local label, call, expected = row[1], row[2], row[3]
    it(label, function()
      local ok, err = pcall(call, client)
      assert.is_false(ok, "no error raised")
      assert.is_true(errors.UsageError.is_class_of(err), "not a UsageError: " .. tostring(err))
      assert.are.equal(expected, err.message)
      assert.are.equal("UsageError: " .. expected:gsub("[\r\n]+", " "), tostring(err))
      assert.are.equal(0, #mock.requests(), "a request was sent")
      assert.are.equal(0, client:inflight())
      local msg = client.messages.create(P())
      assert.are.equal("message", msg.type)
      assert.are.equal(1, #mock.requests())
    end)
  end
end)

describe("absurd but valid values are clamped, not refused", function()
  local client
  setup(function() client = anthropic.new(C()) end)
  teardown(function() client:close() end)

  it("poll(math.huge) and poll(1e308) return at once when nothing is in flight", function()
    local socket = require "socket"
    local t0 = socket.gettime()
    assert.are.equal(0, client:poll(INF))
    assert.are.equal(0, client:poll(1e308))
    assert.is_true(socket.gettime() - t0 < 1)
  end)

  it("a timeout of a year is accepted and the request completes", function()
    local c = anthropic.new(C { timeout = 31536000, connect_timeout = 31536000, retry_cap = 31536000 })
    assert.are.equal("message", c.messages.create(P()).type)
    assert.are.equal("message", c.messages.create(P(), { timeout = 31536000 }).type)
    c:close()
  end)

  it("NUL bytes inside message text are legal JSON and arrive intact", function()
    local msg = client.messages.create(P { messages = user("a\0b") })
    assert.are.equal("You said: a\0b", msg.content[1].text)
  end)
end)
