/*
 * platform.h: the anthropic.core functions the cloud platforms use (Amazon Bedrock, Google
 * Vertex AI): SigV4 signing, RS256, SHA-256, HMAC, base64, CRC32, the AWS error table.
 */
#ifndef ANTH_PLATFORM_H
#define ANTH_PLATFORM_H

#include <lua.h>

/* Adds the functions to the table at the top of the stack. */
void anth_platform_open(lua_State *L);

#endif
