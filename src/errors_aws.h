/*
 * errors_aws.h: the kind of an AWS error, from its type name. Amazon Bedrock answers a wrong
 * or expired credential and a model the account was not granted with the same 403; only the
 * x-amzn-ErrorType header (or an event-stream exception frame's :exception-type) tells them
 * apart, so the class comes from that name, never from the status alone. Plain C99: no Lua,
 * no curl. The table is data (ANTH_AWS_ERROR_LIST); the kinds are errors.h's.
 */
#ifndef ANTH_ERRORS_AWS_H
#define ANTH_ERRORS_AWS_H

#include <stddef.h>
#include "errors.h"

/* AWS error type -> kind. Retryability follows the kind (anth_kind_retryable). */
#define ANTH_AWS_ERROR_LIST(X)                                     \
    X("UnrecognizedClientException",         AUTHENTICATION_FAILED) \
    X("InvalidSignatureException",           AUTHENTICATION_FAILED) \
    X("ExpiredTokenException",               AUTHENTICATION_FAILED) \
    X("IncompleteSignatureException",        AUTHENTICATION_FAILED) \
    X("MissingAuthenticationTokenException", AUTHENTICATION_FAILED) \
    X("AccessDeniedException",               PERMISSION_DENIED)     \
    X("ResourceNotFoundException",           NOT_FOUND)             \
    X("ThrottlingException",                 RATE_LIMITED)          \
    X("ValidationException",                 BAD_REQUEST)           \
    X("ServiceUnavailableException",         OVERLOADED)            \
    X("ModelNotReadyException",              OVERLOADED)            \
    X("ModelTimeoutException",               TIMEOUT)               \
    X("InternalServerException",             INTERNAL_SERVER_ERROR) \
    X("ModelErrorException",                 INTERNAL_SERVER_ERROR) \
    X("ModelStreamErrorException",           INTERNAL_SERVER_ERROR)

/*
 * The kind for an AWS error type as sent: "AccessDeniedException", the header's long form
 * "AccessDeniedException:http://internal.amazon.com/coral/..." (cut at the first ':'), and the
 * lower-camel names of event-stream exception frames ("throttlingException") all work.
 * Surrounding spaces are ignored. Returns ANTH_KIND__COUNT for an unknown or empty type.
 */
anth_kind anth_aws_kind(const char *type, size_t len);

#endif
