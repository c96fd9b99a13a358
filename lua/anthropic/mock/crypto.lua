-- anthropic.mock.crypto: the primitives the Bedrock and Vertex routes need (SHA-256, HMAC,
-- RS256 verification, base64, CRC32), taken from anthropic.core, which has them on
-- libcrypto and zlib, rather than written again here. The mock's own rock depends on
-- LuaSocket and lua-cjson only: without the anthropic rock this module is false and the
-- router answers those routes with a 501 that says so.

local ok, core = pcall(require, "anthropic.core")
return ok and core or false
