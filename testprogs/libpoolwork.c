/*
 * libpoolwork.so — loaded with dlopen by dlopen_uar.  Its function reads a
 * buffer that its caller has already put back, so the faulting frame lies
 * in a library that was not loaded at start-up: the module map must have
 * been re-recorded for the analyzer to name it.
 */
#include <stddef.h>

long poolwork_sum(const unsigned char *buf, size_t len)
{
    long sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += buf[i];   /* BUG (for dlopen_uar): reads a returned buffer */
    return sum;
}
