/*
 * ns_handoff.h — a worker thread sets up a container's mount namespace
 * (unshare(CLONE_NEWNS), make its tree private) and hands the job back to
 * the main thread, which starts the container's program, `cat` of the
 * file the container should see: with posix_spawn (ns_offthread_spawn) or
 * exec (ns_offthread_exec).  The main thread never entered the new
 * namespace, so the program starts in the host's and prints the host's
 * file: namespace-off-thread, on every run.  The worker stays parked, as
 * the thread a goroutine left would.  ns_offthread_spawn_fixed starts the
 * program on the worker, after bind-mounting the container's file there;
 * the main thread afterwards runs `cat` for the host, which must show the
 * host's file.  Run inside `unshare -m`; the files go to $NS_JOB_DIR if
 * set, else to a new directory under /tmp.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char dir[256] = "/tmp/ns_handoff.XXXXXX";
static char target[300], source[300];
static sem_t set_up __attribute__((unused)), job_done;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        exit(2);
}

static void prepare_files(void)
{
    const char *env = getenv("NS_JOB_DIR");
    if (env)
        snprintf(dir, sizeof dir, "%s", env);
    else if (!mkdtemp(dir))
        exit(2);
    snprintf(target, sizeof target, "%s/resolv.conf", dir);
    snprintf(source, sizeof source, "%s/container-resolv.conf", dir);
    write_file(target, "nameserver 192.0.2.1 # the host's\n");
    write_file(source, "nameserver 10.0.0.53 # the container's\n");
}

/* The container's program, started from the calling thread: 0 started. */
__attribute__((noinline, unused)) static int spawn_cat(pid_t *pid)
{
    char *argv[] = {"cat", target, NULL};
    return posix_spawnp(pid, "cat", NULL, NULL, argv, environ);
}

__attribute__((noinline, unused)) static int run_cat(void)
{
    pid_t pid;
    int status = 0;
    if (spawn_cat(&pid) != 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int setup_namespace(void)
{
    if (unshare(CLONE_NEWNS) != 0)
        return -1;
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}
