/*
 * test_event_queue.c: unit tests for src/event_queue.c, the queue of decoded events between a
 * transfer's write callback and the binding. Rows: order and contents, partial takes, the
 * payload count flow control reads, events pushed while a batch is being read, a batch whose
 * reader stopped half-way, reset and free, events written in place (reserve and commit); then
 * a long random run, pushing and writing in place, checked event by event against a plain
 * array model, which takes the buffers through growth, compaction and swaps.
 */
#include "check.h"
#include "../../src/event_queue.h"

#include <stdint.h>

static int push_str(anth_event_queue *q, const char *name, const char *data)
{
    return anth_evq_push(q, name, strlen(name), data, strlen(data));
}

/* Reads the next event and checks it is (name, data), NUL-terminated. */
static void expect_next(anth_event_queue *q, const char *name, const char *data, const char *row)
{
    anth_event ev;
    int got = anth_evq_next(q, &ev);
    CHECK(got == 1, "%s: an event is there", row);
    if (!got)
        return;
    CHECK(ev.name_len == strlen(name) && memcmp(ev.name, name, ev.name_len) == 0 &&
              ev.name[ev.name_len] == '\0',
          "%s: name %.*s, want %s", row, (int)ev.name_len, ev.name, name);
    CHECK(ev.data_len == strlen(data) && memcmp(ev.data, data, ev.data_len) == 0 &&
              ev.data[ev.data_len] == '\0',
          "%s: data %.*s, want %s", row, (int)ev.data_len, ev.data, data);
}

static void test_order_and_contents(void)
{
    anth_event_queue q;
    anth_event ev;
    memset(&q, 0, sizeof q);
    CHECK(!anth_evq_pending(&q), "a new queue has nothing pending");
    CHECK(anth_evq_take(&q, 0) == 0, "taking from an empty queue gives nothing");
    CHECK(anth_evq_next(&q, &ev) == 0, "an empty batch has no next");
    push_str(&q, "message_start", "{\"a\":1}");
    push_str(&q, "", "");
    push_str(&q, "ping", "{}");
    CHECK(q.count == 3 && q.bytes == 13 + 7 + 4 + 2, "count %zu, bytes %zu", q.count, q.bytes);
    CHECK(anth_evq_pending(&q), "pushed events are pending");
    CHECK(anth_evq_take(&q, 0) == 3, "take all gives 3");
    CHECK(q.count == 0 && q.bytes == 0, "the log is empty once all are taken");
    CHECK(anth_evq_pending(&q), "an unread batch is pending");
    expect_next(&q, "message_start", "{\"a\":1}", "first");
    expect_next(&q, "", "", "empty name and data");
    expect_next(&q, "ping", "{}", "third");
    CHECK(anth_evq_next(&q, &ev) == 0, "the batch ends after 3");
    CHECK(!anth_evq_pending(&q), "nothing pending once read");
    anth_evq_free(&q);
}

static void test_partial_takes(void)
{
    anth_event_queue q;
    anth_event ev;
    memset(&q, 0, sizeof q);
    push_str(&q, "e", "one");
    push_str(&q, "e", "two");
    push_str(&q, "e", "three");
    CHECK(anth_evq_take(&q, 2) == 2, "take 2 of 3");
    CHECK(q.count == 1 && q.bytes == 1 + 5, "one left queued: count %zu bytes %zu", q.count, q.bytes);
    expect_next(&q, "e", "one", "partial 1");
    expect_next(&q, "e", "two", "partial 2");
    CHECK(anth_evq_next(&q, &ev) == 0, "the partial batch holds 2");
    CHECK(anth_evq_take(&q, 5) == 1, "a max above the count takes the rest");
    expect_next(&q, "e", "three", "rest");
    CHECK(q.count == 0 && q.head == 0 && q.log.len == 0, "the log is rewound once drained");
    anth_evq_free(&q);
}

static void test_push_while_reading(void)
{
    anth_event_queue q;
    anth_event first;
    memset(&q, 0, sizeof q);
    push_str(&q, "a", "1");
    push_str(&q, "b", "2");
    CHECK(anth_evq_take(&q, 0) == 2, "take both");
    CHECK(anth_evq_next(&q, &first) == 1, "read the first");
    /* Enough pushes to grow the log several times: the batch must not move or change. */
    for (int i = 0; i < 5000; i++)
        push_str(&q, "later", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    CHECK(first.name_len == 1 && memcmp(first.name, "a", 1) == 0 && first.data[0] == '1',
          "an event read before the pushes is still intact");
    expect_next(&q, "b", "2", "the batch goes on after the pushes");
    CHECK(anth_evq_take(&q, 0) == 5000, "the pushes were queued, not added to the batch");
    expect_next(&q, "later", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "first later");
    anth_evq_free(&q);
}

static void test_interrupted_batch(void)
{
    anth_event_queue q;
    memset(&q, 0, sizeof q);
    push_str(&q, "e", "1");
    push_str(&q, "e", "2");
    push_str(&q, "e", "3");
    CHECK(anth_evq_take(&q, 0) == 3, "take 3");
    expect_next(&q, "e", "1", "read one, then stop");
    push_str(&q, "e", "4");
    CHECK(anth_evq_take(&q, 0) == 2, "the next take hands out the 2 unread first");
    expect_next(&q, "e", "2", "unread 2");
    expect_next(&q, "e", "3", "unread 3");
    CHECK(anth_evq_take(&q, 0) == 1, "then the newer one");
    expect_next(&q, "e", "4", "newer 4");
    anth_evq_free(&q);
}

static void test_reset_and_free(void)
{
    anth_event_queue q;
    size_t cap;
    memset(&q, 0, sizeof q);
    push_str(&q, "e", "1");
    push_str(&q, "e", "2");
    anth_evq_take(&q, 1);
    cap = q.log.cap;
    anth_evq_reset(&q);
    CHECK(!anth_evq_pending(&q) && q.count == 0 && q.bytes == 0, "reset drops queued and unread");
    CHECK(q.log.cap == cap && q.log.p != NULL, "reset keeps the buffer");
    push_str(&q, "e", "after");
    CHECK(anth_evq_take(&q, 0) == 1, "a reset queue works");
    expect_next(&q, "e", "after", "after reset");
    anth_evq_free(&q);
    CHECK(q.log.p == NULL && q.out.p == NULL && q.log.cap == 0 && !anth_evq_pending(&q), "free empties");
    push_str(&q, "e", "again");
    CHECK(anth_evq_take(&q, 0) == 1, "a freed queue is reusable");
    anth_evq_free(&q);
}

/* Reserves room for cap bytes under name and writes data there: 1, or 0 when out of memory. */
static int write_in_place(anth_event_queue *q, const char *name, size_t cap, const char *data)
{
    char *at = anth_evq_reserve(q, name, strlen(name), cap);
    if (at == NULL)
        return 0;
    memcpy(at, data, strlen(data) < cap ? strlen(data) : cap);
    return 1;
}

/* An event written in place: reserve room, write, commit the length used. A reservation never
 * committed leaves nothing behind; a commit longer than the room keeps to the room. */
static void test_reserve_commit(void)
{
    anth_event_queue q;
    memset(&q, 0, sizeof q);
    CHECK(write_in_place(&q, "chunk", 16, "decoded"), "room reserved");
    CHECK(!anth_evq_pending(&q) && q.count == 0, "nothing queued before the commit");
    anth_evq_commit(&q, 7);
    CHECK(q.count == 1 && q.bytes == 5 + 7, "the commit queues one event of 7 bytes (%zu)", q.bytes);
    CHECK(write_in_place(&q, "dropped", 32, "never queued"), "a second reservation");
    push_str(&q, "chunk:json", "{\"x\":1}");   /* the reservation is given up for this */
    CHECK(write_in_place(&q, "empty", 0, ""), "an empty reservation");
    anth_evq_commit(&q, 0);
    CHECK(write_in_place(&q, "clamped", 3, "abc"), "a small reservation");
    anth_evq_commit(&q, 10);
    CHECK(q.count == 4, "four events queued (%zu)", q.count);
    CHECK(anth_evq_take(&q, 0) == 4, "all four taken");
    expect_next(&q, "chunk", "decoded", "in place");
    expect_next(&q, "chunk:json", "{\"x\":1}", "pushed over an abandoned reservation");
    expect_next(&q, "empty", "", "an empty event in place");
    expect_next(&q, "clamped", "abc", "a commit past the room keeps to the room");
    CHECK(q.bytes == 0, "bytes back to 0 (%zu)", q.bytes);
    anth_evq_free(&q);
}

static void test_large_event(void)
{
    anth_event_queue q;
    anth_event ev;
    size_t n = 1u << 20;
    char *big = malloc(n);
    memset(&q, 0, sizeof q);
    if (big == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    push_str(&q, "small", "s");
    CHECK(anth_evq_push(&q, "big", 3, big, n) == 0, "a 1 MiB event is queued");
    CHECK(q.bytes == 6 + 3 + n, "bytes count the payload: %zu", q.bytes);
    CHECK(anth_evq_take(&q, 0) == 2, "both taken");
    expect_next(&q, "small", "s", "before the big one");
    CHECK(anth_evq_next(&q, &ev) == 1 && ev.data_len == n && memcmp(ev.data, big, n) == 0 &&
              ev.data[n] == '\0',
          "the big one is whole");
    free(big);
    anth_evq_free(&q);
}

/* xorshift64*: the same sequence on every run. */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

#define MODEL_MAX 200000

/* Events are numbered: event i's name is i % 8 letters and its data (i * 37) % 300 digits,
 * both starting from i, so any event out of place or changed is seen. */
static void make_event(size_t i, char *name, size_t *nl, char *data, size_t *dl)
{
    size_t k;
    *nl = i % 8;
    for (k = 0; k < *nl; k++)
        name[k] = (char)('A' + (i + k) % 26);
    *dl = (i * 37) % 300;
    for (k = 0; k < *dl; k++)
        data[k] = (char)('0' + (i + k) % 10);
}

/* Whether ev is event i of the numbering above, NUL-terminated. */
static int is_event(const anth_event *ev, size_t i)
{
    char name[16], data[512];
    size_t nl, dl;
    make_event(i, name, &nl, data, &dl);
    return ev->name_len == nl && memcmp(ev->name, name, nl) == 0 && ev->data_len == dl &&
           memcmp(ev->data, data, dl) == 0 && ev->name[nl] == '\0' && ev->data[dl] == '\0';
}

static void test_against_model(void)
{
    anth_event_queue q;
    size_t pushed = 0, read = 0, wrong = 0, steps;
    char name[16], data[512];
    memset(&q, 0, sizeof q);
    for (steps = 0; steps < 60000 && pushed < MODEL_MAX; steps++) {
        uint64_t r = next_rand();
        if (r % 3 != 0) {
            size_t nl, dl, k, burst = 1 + (r >> 8) % 6;
            for (k = 0; k < burst && pushed < MODEL_MAX; k++) {
                unsigned how = (unsigned)((r >> (30 + 3 * k)) % 4);
                make_event(pushed, name, &nl, data, &dl);
                if (how == 1) {          /* written in place, in more room than it needs */
                    char *at = anth_evq_reserve(&q, name, nl, dl + (r >> 48) % 700);
                    if (at == NULL) {
                        wrong++;
                    } else {
                        memcpy(at, data, dl);
                        anth_evq_commit(&q, dl);
                    }
                } else {
                    if (how == 2)        /* a reservation given up, as for a chunk:json */
                        anth_evq_reserve(&q, "x", 1, (r >> 48) % 700);
                    if (anth_evq_push(&q, name, nl, data, dl) != 0)
                        wrong++;
                }
                pushed++;
            }
        } else {
            size_t max = (r >> 8) % 4 == 0 ? 0 : 1 + (r >> 10) % 12;
            size_t got = anth_evq_take(&q, max), k, want_reads;
            anth_event ev;
            /* Sometimes stop half-way, as an interrupted reader would. */
            want_reads = (r >> 20) % 5 == 0 ? got / 2 : got;
            for (k = 0; k < want_reads && anth_evq_next(&q, &ev); k++)
                wrong += !is_event(&ev, read++);
        }
    }
    {
        anth_event ev;
        while (anth_evq_take(&q, 0) > 0) {
            while (anth_evq_next(&q, &ev))
                wrong += !is_event(&ev, read++);
        }
    }
    CHECK(wrong == 0, "random run: %zu events out of order or changed", wrong);
    CHECK(read == pushed, "random run: every event read once (%zu pushed, %zu read)", pushed, read);
    CHECK(q.count == 0 && q.bytes == 0 && !anth_evq_pending(&q), "random run: empty at the end");
    anth_evq_free(&q);
}

/* The payload count stays equal to the log's contents through partial takes. */
static void test_bytes_accounting(void)
{
    anth_event_queue q;
    size_t want = 0, i;
    int ok = 1;
    memset(&q, 0, sizeof q);
    for (i = 0; i < 1000; i++) {
        size_t nl = i % 5, dl = i % 50;
        char name[8] = "abcdefg", data[64];
        memset(data, 'd', sizeof data);
        anth_evq_push(&q, name, nl, data, dl);
        want += nl + dl;
        if (i % 7 == 6) {
            anth_event ev;
            size_t got = anth_evq_take(&q, 3);
            while (anth_evq_next(&q, &ev))
                want -= ev.name_len + ev.data_len;
            if (got != 3)
                ok = 0;
        }
        if (q.bytes != want)
            ok = 0;
    }
    CHECK(ok, "bytes is the payload left in the log after every push and take (%zu, want %zu)",
          q.bytes, want);
    anth_evq_free(&q);
}

int main(void)
{
    test_order_and_contents();
    test_partial_takes();
    test_push_while_reading();
    test_interrupted_batch();
    test_reset_and_free();
    test_reserve_commit();
    test_large_event();
    test_bytes_accounting();
    test_against_model();
    return anth_check_done();
}
