/*
 * crash_after_uar — a use-after-return that goes unseen at the time (run it
 * with pool_protect=0: the object is only poisoned) and the crash it causes
 * later: a request keeps a pointer to a pooled buffer descriptor after
 * returning it, and follows the descriptor's data pointer, which the poison
 * has overwritten with 0xa5a5a5a5a5a5a5a5.  The crash report must tie the
 * crash to the returned object.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"

struct buffer {
    char *data;
    size_t len;
    char storage[240];
};

static struct buffer slots[2];

static struct buffer *buffer_get(void)
{
    guard_pool_get(slots, &slots[0], sizeof slots[0]);
    slots[0].data = slots[0].storage;
    return &slots[0];
}

static void buffer_put(struct buffer *b)
{
    guard_pool_put(slots, b, sizeof *b);
}

static size_t checksum(const struct buffer *b)
{
    size_t sum = 0;
    for (size_t i = 0; i < 16; i++)
        sum += (unsigned char)b->data[i]; /* crashes: data is poison now */
    return sum;
}

int main(void)
{
    struct buffer *b = buffer_get();
    strcpy(b->data, "request payload");
    b->len = 15;
    buffer_put(b);                 /* BUG: the request still uses b */
    printf("%zu\n", checksum(b));
    return 0;
}
