/*
 * crash_single — a single-threaded program that crashes three calls deep
 * without ever making a call the shim treats as a safe point (no threads,
 * no fork, no pool, no NSS): libguard has not loaded libunwind, so the crash
 * recorder writes the stack raw and the analyzer must unwind it.
 */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static void parse_header(char *dst, const char *src)
{
    strcpy(dst, src); /* dst is a bad pointer: SIGSEGV here */
}

__attribute__((noinline)) static void load_config(char *dst)
{
    parse_header(dst, "[section]");
    puts("not reached");
}

__attribute__((noinline)) void start_service(char *dst)
{
    load_config(dst);
    puts("not reached");
}

int main(int argc, char **argv)
{
    start_service(argc > 100 ? argv[0] : (char *)16);
    return 0;
}
