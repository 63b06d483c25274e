/* crash_overflow_thread — see crash_overflow_common.h. */
#include "crash_overflow_common.h"

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, overflow, NULL);
    pthread_join(t, NULL);
    return 0;
}
