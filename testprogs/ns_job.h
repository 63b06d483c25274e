/*
 * ns_job.h — unshare and mount on different threads, in C: one
 * "container start" job in three steps,
 *   1. unshare(CLONE_NEWNS) and make / private (a namespace of its own),
 *   2. bind-mount the container's resolv.conf over the target file,
 *   3. run `cat` on the target (what the container would see).
 * Run by ns_offthread_pool (a thread pool, no affinity) and
 * ns_offthread_fixed (one dedicated thread).  Run it inside `unshare -m`
 * so that a mount that lands in the wrong namespace does not leak out: it
 * goes away with that namespace when the program ends, which is also why
 * the program never unmounts.  The files go to $NS_JOB_DIR if set (the
 * caller removes it), else to a new directory under /tmp.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static char job_dir[256] = "/tmp/ns_job.XXXXXX";
static char source_file[300], target_file[300];

static void job_prepare_files(void)
{
    const char *dir = getenv("NS_JOB_DIR");
    if (dir)
        snprintf(job_dir, sizeof job_dir, "%s", dir);
    else if (!mkdtemp(job_dir))
        exit(2);
    snprintf(source_file, sizeof source_file, "%s/container-resolv.conf", job_dir);
    snprintf(target_file, sizeof target_file, "%s/resolv.conf", job_dir);
    FILE *f = fopen(source_file, "w");
    fputs("nameserver 10.0.0.53 # the container's\n", f);
    fclose(f);
    f = fopen(target_file, "w");
    fputs("nameserver 192.0.2.1 # the host's\n", f);
    fclose(f);
}

static int step_unshare(void)
{
    if (unshare(CLONE_NEWNS) != 0)
        return -1;
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static int step_mount(void)
{
    return mount(source_file, target_file, NULL, MS_BIND, NULL);
}

static int step_exec(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("cat", "cat", target_file, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void job_cleanup(void)
{
    /* a bind mount may still cover the target here (EBUSY): then $NS_JOB_DIR's
     * owner removes the files once the namespace is gone */
    unlink(source_file);
    if (unlink(target_file) == 0 && !getenv("NS_JOB_DIR"))
        rmdir(job_dir);
}
