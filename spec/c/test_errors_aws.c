/*
 * test_errors_aws.c: unit tests for src/errors_aws.c, one row per AWS error type of the
 * issue's table (and the spellings AWS sends), each with the class and retryability it must
 * give.
 */
#include "check.h"
#include "../../src/errors_aws.h"

int main(void)
{
    static const struct { const char *type, *cls; int retry; } rows[] = {
        {"UnrecognizedClientException", "AuthenticationFailed", 0},
        {"InvalidSignatureException", "AuthenticationFailed", 0},
        {"ExpiredTokenException", "AuthenticationFailed", 0},
        {"IncompleteSignatureException", "AuthenticationFailed", 0},
        {"MissingAuthenticationTokenException", "AuthenticationFailed", 0},
        {"AccessDeniedException", "PermissionDenied", 0},
        {"ResourceNotFoundException", "NotFound", 0},
        {"ThrottlingException", "RateLimited", 1},
        {"ValidationException", "BadRequest", 0},
        {"ServiceUnavailableException", "Overloaded", 1},
        {"ModelNotReadyException", "Overloaded", 1},
        {"ModelTimeoutException", "Timeout", 1},
        {"InternalServerException", "InternalServerError", 1},
        {"ModelStreamErrorException", "InternalServerError", 1},
        /* the header's long form, exception-frame spelling, spaces */
        {"AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/",
         "PermissionDenied", 0},
        {"throttlingException", "RateLimited", 1},
        {"  modelTimeoutException ", "Timeout", 1},
        {"InvalidSignatureException: ", "AuthenticationFailed", 0},
    };
    static const char *unknown[] = {"", "  ", ":x", "AccessDenied", "accessdeniedexception",
                                    "XAccessDeniedException", "AccessDeniedExceptionX",
                                    "ACCESSDENIEDEXCEPTION"};
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        anth_kind k = anth_aws_kind(rows[i].type, strlen(rows[i].type));
        CHECK_STR(anth_kind_name(k), rows[i].cls, "'%s' -> class", rows[i].type);
        CHECK(anth_kind_retryable(k) == rows[i].retry, "'%s' -> retryable %d", rows[i].type, rows[i].retry);
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK(anth_aws_kind(unknown[i], strlen(unknown[i])) == ANTH_KIND__COUNT, "'%s' is unknown", unknown[i]);
    CHECK(anth_aws_kind(NULL, 0) == ANTH_KIND__COUNT, "NULL is unknown");
    /* Lengths are honoured: a prefix of a known name is not that name. */
    CHECK(anth_aws_kind("AccessDeniedException", 12) == ANTH_KIND__COUNT, "length respected");
    return anth_check_done();
}
