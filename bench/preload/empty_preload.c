/*
 * empty_preload.c — a library that does nothing, for spawn_bench's floor:
 * what loading any LD_PRELOAD library at all costs a short-lived process
 * (the loader opens, maps and relocates one more object).  No sanitizer
 * that works by preloading can cost a child less than this.
 */
__attribute__((constructor)) static void empty_preload_constructor(void)
{
}
