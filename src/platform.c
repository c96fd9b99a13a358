/*
 * platform.c: Lua bindings of the plain-C platform pieces (sigv4.c, crypto.c, errors_aws.c)
 * and of zlib's crc32, added to anthropic.core by luaopen_anthropic_core:
 *
 *   sigv4{ method=, path=, query=, headers={ name, value, ... }, body=, amz_date=, region=,
 *          service=, access_key_id=, secret_access_key= } -> Authorization header value
 *   sha256_hex(s) -> hex          hmac_sha256(key, s) -> 32 raw bytes
 *   base64_encode(s) -> text      base64_decode(text) -> bytes | nil (not base64)
 *   bedrock_chunk_bytes(payload) -> the event a chunk in AWS's own shape carries | nil (what
 *     a Bedrock stream's transfer queues for it; the specs compare it with cjson's reading)
 *   crc32(s [, crc]) -> integer   rs256_sign(pem, s) -> signature | nil, message
 *   rs256_verify(public_pem, s, signature) -> boolean
 *   aws_kind(error_type) -> class name, retryable | nil (an unknown type)
 *
 * Error messages never contain a key, secret or token: they name the field only. Buffers
 * that may hold a secret are GC-owned (lua_newuserdata) or plain Lua strings, so a raise
 * leaks nothing.
 */
#include "platform.h"

#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <zlib.h>

#include "bedrock_chunk.h"
#include "compat.h"
#include "crypto.h"
#include "errors_aws.h"
#include "sigv4.h"

static const char *field(lua_State *L, int t, const char *name, int required, size_t *len)
{
    const char *s;
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1) && !required) {
        *len = 0;
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "sigv4: %s must be a string", name);
    s = lua_tolstring(L, -1, len);
    if (strlen(s) != *len && strcmp(name, "body") != 0)
        luaL_error(L, "sigv4: %s contains NUL", name);
    return s;   /* left on the stack: anchored until the call returns */
}

static int l_sigv4(lua_State *L)
{
    anth_sigv4 r;
    const char *hv[2 * ANTH_SIGV4_MAX_HEADERS];
    char out[1024];
    size_t len, n;
    int rc;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    memset(&r, 0, sizeof r);
    r.method = field(L, 1, "method", 1, &len);
    r.path = field(L, 1, "path", 1, &len);
    r.query = field(L, 1, "query", 0, &len);
    r.payload = field(L, 1, "body", 0, &r.payload_len);
    r.amz_date = field(L, 1, "amz_date", 1, &len);
    r.region = field(L, 1, "region", 1, &len);
    r.service = field(L, 1, "service", 1, &len);
    r.access_key_id = field(L, 1, "access_key_id", 1, &len);
    r.secret_access_key = field(L, 1, "secret_access_key", 1, &len);
    lua_getfield(L, 1, "headers");
    luaL_argcheck(L, lua_type(L, -1) == LUA_TTABLE, 1, "sigv4: headers must be a list");
    n = (size_t)anth_rawlen(L, -1);
    if (n % 2 != 0 || n > 2 * ANTH_SIGV4_MAX_HEADERS)
        return luaL_error(L, "sigv4: headers must be name, value pairs (at most %d)",
                          ANTH_SIGV4_MAX_HEADERS);
    luaL_checkstack(L, (int)n + 4, "sigv4");
    {
        int t = lua_gettop(L);
        size_t i;
        for (i = 0; i < n; i++) {
            lua_rawgeti(L, t, (int)i + 1);   /* stays on the stack: anchored */
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "sigv4: header %d is not a string", (int)i + 1);
            hv[i] = lua_tostring(L, -1);
        }
    }
    r.headers = hv;
    r.nheaders = n / 2;
    rc = anth_sigv4_sign(&r, out, sizeof out, NULL);
    if (rc != 0)
        return luaL_error(L, "sigv4: %s", rc == ANTH_SIGV4_EINVAL ? "invalid request fields"
                                         : rc == ANTH_SIGV4_ENOMEM ? "out of memory"
                                         : rc == ANTH_SIGV4_ESPACE ? "header too long"
                                                                   : "libcrypto failed");
    lua_pushstring(L, out);
    return 1;
}

static int l_sha256_hex(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char h[ANTH_SHA256_LEN];
    char hex[2 * ANTH_SHA256_LEN + 1];
    if (anth_sha256(s, n, h) != 0)
        return luaL_error(L, "sha256: libcrypto failed");
    anth_hex(h, sizeof h, hex);
    lua_pushstring(L, hex);
    return 1;
}

static int l_hmac_sha256(lua_State *L)
{
    size_t kn, n;
    const char *k = luaL_checklstring(L, 1, &kn), *s = luaL_checklstring(L, 2, &n);
    unsigned char h[ANTH_SHA256_LEN];
    if (anth_hmac_sha256(k, kn, s, n, h) != 0)
        return luaL_error(L, "hmac_sha256: libcrypto failed");
    lua_pushlstring(L, (const char *)h, sizeof h);
    return 1;
}

static int l_base64_encode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    char *out = lua_newuserdata(L, anth_base64_encoded_len(n));
    size_t m = anth_base64_encode(s, n, out);
    lua_pushlstring(L, out, m);
    return 1;
}

/* Most texts decode into this stack buffer: no userdata per call. */
#define SMALL_DECODE 3072

static int l_base64_decode(lua_State *L)
{
    size_t n, m;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char small[SMALL_DECODE], *out = small;
    if (3 * (n / 4) + 1 > sizeof small)
        out = lua_newuserdata(L, 3 * (n / 4) + 1);
    m = anth_base64_decode(s, n, out);
    if (m == (size_t)-1)
        lua_pushnil(L);
    else
        lua_pushlstring(L, (const char *)out, m);
    return 1;
}

/* The decoder a Bedrock stream's transfer runs on each chunk (transfer_io.c), for the specs
 * that hold it to what cjson reads. */
static int l_bedrock_chunk_bytes(lua_State *L)
{
    size_t n, m;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char small[SMALL_DECODE], *out = small;
    if (ANTH_BEDROCK_CHUNK_ROOM(n) + 1 > sizeof small)
        out = lua_newuserdata(L, ANTH_BEDROCK_CHUNK_ROOM(n) + 1);
    m = anth_bedrock_chunk_decode(s, n, out);
    if (m == (size_t)-1)
        lua_pushnil(L);
    else
        lua_pushlstring(L, (const char *)out, m);
    return 1;
}

static int l_crc32(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    uLong c = (uLong)luaL_optinteger(L, 2, 0);
    while (n > 0) {
        uInt step = n > 0x40000000u ? 0x40000000u : (uInt)n;
        c = crc32(c, (const Bytef *)s, step);
        s += step;
        n -= step;
    }
    lua_pushinteger(L, (lua_Integer)c);
    return 1;
}

static int l_rs256_sign(lua_State *L)
{
    size_t pn, n, siglen;
    const char *pem = luaL_checklstring(L, 1, &pn), *s = luaL_checklstring(L, 2, &n);
    unsigned char *sig;
    /* GC-owned room for the result first (8192-bit keys at most), so nothing can raise while
     * the malloc'ed signature is held. */
    char *room = lua_newuserdata(L, 1024);
    int rc = anth_rs256_sign(pem, pn, s, n, &sig, &siglen);
    if (rc == 0 && siglen > 1024) {
        free(sig);
        rc = -2;
    }
    if (rc != 0) {
        lua_pushnil(L);
        lua_pushstring(L, rc == -1 ? "the private key does not load (expected an RSA key in PEM)"
                          : rc == -3 ? "out of memory" : "RS256 signing failed");
        return 2;
    }
    memcpy(room, sig, siglen);
    free(sig);
    lua_pushlstring(L, room, siglen);
    return 1;
}

static int l_rs256_verify(lua_State *L)
{
    size_t pn, n, sn;
    const char *pem = luaL_checklstring(L, 1, &pn), *s = luaL_checklstring(L, 2, &n);
    const char *sig = luaL_checklstring(L, 3, &sn);
    lua_pushboolean(L, anth_rs256_verify(pem, pn, s, n, (const unsigned char *)sig, sn) == 1);
    return 1;
}

static int l_aws_kind(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    anth_kind k = anth_aws_kind(s, n);
    if (k == ANTH_KIND__COUNT) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, anth_kind_name(k));
    lua_pushboolean(L, anth_kind_retryable(k));
    return 2;
}

static const luaL_Reg platform_functions[] = {
    { "sigv4", l_sigv4 },
    { "sha256_hex", l_sha256_hex },
    { "hmac_sha256", l_hmac_sha256 },
    { "base64_encode", l_base64_encode },
    { "base64_decode", l_base64_decode },
    { "bedrock_chunk_bytes", l_bedrock_chunk_bytes },
    { "crc32", l_crc32 },
    { "rs256_sign", l_rs256_sign },
    { "rs256_verify", l_rs256_verify },
    { "aws_kind", l_aws_kind },
    { NULL, NULL }
};

void anth_platform_open(lua_State *L)
{
    luaL_setfuncs(L, platform_functions, 0);
}
