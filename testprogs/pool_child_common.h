/*
 * pool_child_common.h — pool_uar's shape without the writer thread: a
 * buffer is taken, a child is started and fed from it, and the buffer goes
 * back to the pool before the child has been waited for
 * (put-while-child-running).  The fixed twin waits first.  The check fires
 * on every run of the buggy version, whether or not the child was still
 * reading at that moment.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bufpool.h"

int main(void)
{
    struct bufpool pool;
    bufpool_init(&pool, 16384);
    char *buf = bufpool_get(&pool);
    memset(buf, 'a', 16384);
    int fds[2];
    if (pipe(fds) != 0)
        return 2;
    pid_t child = fork();
    if (child == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        execlp("wc", "wc", "-c", (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    if (write(fds[1], buf, 16384) != 16384)
        return 2;
    close(fds[1]);
    int status;
#ifdef POOL_CHILD_FIXED
    waitpid(child, &status, 0);
    bufpool_put(&pool, buf);
#else
    bufpool_put(&pool, buf);     /* BUG: the command may not be done */
    waitpid(child, &status, 0);
#endif
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
