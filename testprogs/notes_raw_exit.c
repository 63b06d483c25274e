/*
 * notes_raw_exit MODE — processes that end where the shim's END record
 * cannot see them, for the analyzer's account of how each one ended:
 *   raw      a forked child leaves through the exit_group system call
 *            itself with status 3 (as every Go program does); its parent
 *            waits for it
 *   signal   a forked child dies of SIGKILL; its parent waits for it
 *   self     this process itself leaves through exit_group (status 3):
 *            its parent (the caller) has no log
 *   orphan   a forked child exits at once, and this process dies of
 *            SIGKILL before it could wait for it
 * Each process records a pool get and put first, so that it has a log
 * (logs are created at a process's first record).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bufpool.h"

static struct bufpool pool;

static void record(void)
{
    bufpool_put(&pool, bufpool_get(&pool));
}

/* The system call instruction itself: no libc wrapper, no hook. */
static __attribute__((noreturn)) void raw_exit_group(int code)
{
    __asm__ volatile("syscall" : : "a"(231), "D"(code) : "rcx", "r11", "memory");
    __builtin_unreachable();
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "raw";
    bufpool_init(&pool, 4096);
    record();
    if (!strcmp(mode, "self"))
        raw_exit_group(3);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        record();
        if (!strcmp(mode, "signal"))
            kill(getpid(), SIGKILL);
        if (!strcmp(mode, "orphan"))
            _exit(0);
        raw_exit_group(3);
    }
    if (!strcmp(mode, "orphan")) {
        usleep(50 * 1000); /* the child is a zombie by now */
        kill(getpid(), SIGKILL);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return 1;
    printf("child %s %d\n", WIFEXITED(status) ? "exited" : "killed",
           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}
