/*
 * utf8.c: see utf8.h. ASCII runs are skipped eight bytes at a time, since request bodies are
 * mostly ASCII JSON.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

size_t anth_utf8_check(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t need;
        unsigned min;
        if (c < 0x80) {
            uint64_t w;
            while (i + 8 <= len) {
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            while (i < len && s[i] < 0x80)
                i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            min = 0x10000;
        } else {
            return i;
        }
        if (len - i <= need)
            return i;
        {
            unsigned cp = c & (0x3F >> need);
            size_t k;
            for (k = 1; k <= need; k++) {
                if ((s[i + k] & 0xC0) != 0x80)
                    return i;
                cp = (cp << 6) | (s[i + k] & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return i;
        }
        i += need + 1;
    }
    return len;
}
