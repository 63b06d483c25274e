/*
 * pool_uar_common.h — a buffer returned to its pool while a child's I/O
 * still uses it, in C.  A pool of 64 KiB buffers; a job takes
 * a buffer, starts a child process (gzip -c > /dev/null) and feeds it
 * through a pipe from a writer thread that writes out of the buffer.  Then
 * the job is cancelled.  The buggy program (POOL_UAR_FIXED undefined) puts
 * the buffer back at once, without joining the writer or waiting for the
 * child, exactly as "cancelling the context does not guarantee the command
 * is fully done"; the fixed one joins and waits first.
 *
 * Deterministic by construction: the child reads nothing until it is told
 * to go (a line on its fd 3), and the pipe holds one block, so the writer's
 * second block waits in write() until then.  The buggy program puts the
 * buffer back and only then lets the command go on: the writer's next copy
 * is always from the returned buffer, however the threads are scheduled.
 * The fixed one lets it go, joins the writer and waits for the child, then
 * puts the buffer back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bufpool.h"

#define BUF_SIZE (64 * 1024)
#define BLOCKS 64

struct job {
    int fd;                   /* write end of the child's stdin */
    int go;                   /* write end of the child's fd 3: a line lets it read */
    char *buf;
    pthread_mutex_t lock;
    pthread_cond_t started_cond;
    int started;
};

static void *writer_thread(void *arg)
{
    struct job *job = arg;
    for (int i = 0; i < BLOCKS; i++) {
        ssize_t n = write(job->fd, job->buf, BUF_SIZE); /* io.Copy into the child's stdin */
        if (n < 0 && errno != EINTR)
            break;
        if (i == 0) {
            pthread_mutex_lock(&job->lock);
            job->started = 1;
            pthread_cond_signal(&job->started_cond);
            pthread_mutex_unlock(&job->lock);
        }
    }
    close(job->fd);
    return NULL;
}

static pid_t start_child(int *stdin_fd, int *go_fd)
{
    int fds[2], go[2];
    if (pipe(fds) != 0 || pipe(go) != 0)
        return -1;
    fcntl(fds[1], F_SETPIPE_SZ, BUF_SIZE); /* one block: the second one waits */
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        close(go[1]);
        if (go[0] != 3) {
            dup2(go[0], 3);
            close(go[0]);
        }
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execlp("sh", "sh", "-c", "read go <&3; exec gzip -c", (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    close(go[0]);
    *stdin_fd = fds[1];
    *go_fd = go[1];
    return pid;
}

static void let_child_go(struct job *job)
{
    if (write(job->go, "\n", 1) != 1)
        perror("go");
    close(job->go);
}

static int run_job(struct bufpool *pool)
{
    struct job job = {.lock = PTHREAD_MUTEX_INITIALIZER, .started_cond = PTHREAD_COND_INITIALIZER};
    job.buf = bufpool_get(pool);
    memset(job.buf, 'x', BUF_SIZE);
    pid_t child = start_child(&job.fd, &job.go);
    if (child < 0)
        return 1;
    pthread_t writer;
    pthread_create(&writer, NULL, writer_thread, &job);

    /* the job is cancelled while the copy is under way */
    pthread_mutex_lock(&job.lock);
    while (!job.started)
        pthread_cond_wait(&job.started_cond, &job.lock);
    pthread_mutex_unlock(&job.lock);

    int status;
#ifdef POOL_UAR_FIXED
    let_child_go(&job);
    pthread_join(writer, NULL);      /* the copy is done ... */
    waitpid(child, &status, 0);      /* ... and so is the command */
    bufpool_put(pool, job.buf);
#else
    bufpool_put(pool, job.buf);      /* BUG: the writer still uses the buffer */
    let_child_go(&job);
    pthread_join(writer, NULL);
    waitpid(child, &status, 0);
#endif
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(void)
{
    struct bufpool pool;
    bufpool_init(&pool, BUF_SIZE);
    signal(SIGPIPE, SIG_IGN);
    int rc = run_job(&pool);
    /* the next job reuses the buffer */
    char *again = bufpool_get(&pool);
    bufpool_put(&pool, again);
    printf("job %s\n", rc == 0 ? "done" : "failed");
    return rc;
}
