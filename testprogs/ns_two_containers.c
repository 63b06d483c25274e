/*
 * ns_two_containers — one thread per container, the correct pattern: two
 * threads each unshare(CLONE_NEWNS), make their mount tree private,
 * bind-mount their own resolv.conf over the shared target and run `cat` on
 * it.  A barrier holds both after their unshare, so that both namespaces
 * exist before either mounts.  Each thread must see its own file; then the
 * main thread, which never moved, runs `cat` for the host and must see the
 * host's.  No finding.  Run it inside `unshare -m`; the files go to
 * $NS_JOB_DIR if set (the caller removes it), else to a new directory
 * under /tmp, removed at the end.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char dir[256] = "/tmp/ns_two.XXXXXX";
static char target[300], source[2][300];
static const char *const content[2] = {"nameserver 10.0.1.53 # container 0\n",
                                       "nameserver 10.0.2.53 # container 1\n"};
static const char *const host_content = "nameserver 192.0.2.1 # the host's\n";
static pthread_barrier_t both_unshared;
static int ok[2];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        exit(2);
}

/* `cat path` in a child started from the calling thread: what it printed. */
static void cat(const char *path, char *out, size_t len)
{
    int p[2];
    out[0] = '\0';
    if (pipe(p) != 0)
        return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    char *argv[] = {"cat", (char *)path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "cat", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    size_t n = 0;
    ssize_t got;
    while (rc == 0 && n + 1 < len && (got = read(p[0], out + n, len - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = '\0';
    close(p[0]);
    if (rc == 0)
        waitpid(pid, NULL, 0);
}

static void *container(void *arg)
{
    int i = (int)(long)arg;
    char seen[128];
    int set_up = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
    pthread_barrier_wait(&both_unshared);
    if (!set_up || mount(source[i], target, NULL, MS_BIND, NULL) != 0) {
        perror("container set-up");
        return NULL;
    }
    cat(target, seen, sizeof seen);
    ok[i] = strcmp(seen, content[i]) == 0;
    printf("container %d sees: %s", i, seen);
    return NULL;
}

int main(void)
{
    const char *env = getenv("NS_JOB_DIR");
    if (env)
        snprintf(dir, sizeof dir, "%s", env);
    else if (!mkdtemp(dir))
        return 2;
    snprintf(target, sizeof target, "%s/resolv.conf", dir);
    write_file(target, host_content);
    for (int i = 0; i < 2; i++) {
        snprintf(source[i], sizeof source[i], "%s/container-%d.conf", dir, i);
        write_file(source[i], content[i]);
    }
    pthread_barrier_init(&both_unshared, NULL, 2);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, container, (void *)(long)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    char seen[128];
    cat(target, seen, sizeof seen);  /* the host's file: the mounts stayed in their namespaces */
    printf("the host sees: %s", seen);
    int host_ok = strcmp(seen, host_content) == 0;
    for (int i = 0; i < 2; i++)
        unlink(source[i]);
    unlink(target);
    if (!env)
        rmdir(dir);
    return ok[0] && ok[1] && host_ok ? 0 : 1;
}
