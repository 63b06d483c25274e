/*
 * transparency — hooked calls must return exactly what the real ones do,
 * with the same errno, under the shim and without it.  Exits 0 when every
 * expectation holds; prints the first one that does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bufpool.h"

#define EXPECT(cond)                                                   \
    do {                                                               \
        if (!(cond)) {                                                 \
            printf("FAILED: %s (line %d, errno %d)\n", #cond, __LINE__, errno); \
            return 1;                                                  \
        }                                                              \
    } while (0)

static void on_int(int sig) { (void)sig; }

/* an invalid address the compiler cannot see through */
static void *volatile bad_address = (void *)16;

int main(void)
{
    /* the lowest free descriptor: the program's next ones are base, base+1... */
    int base = open("/dev/null", O_RDONLY);
    EXPECT(base >= 0 && close(base) == 0);
    int fd[2];
    EXPECT(pipe(fd) == 0 && fd[0] == base && fd[1] == base + 1);
    /* EFAULT on a bad pointer that is no pool object: passed through */
    errno = 0;
    EXPECT(write(fd[1], bad_address, 10) == -1 && errno == EFAULT);
    errno = 0;
    EXPECT(read(-1, (char[4]){0}, 4) == -1 && errno == EBADF);
    struct iovec iov = {bad_address, 8};
    errno = 0;
    EXPECT(writev(fd[1], &iov, 1) == -1 && errno == EFAULT);
    EXPECT(write(fd[1], "abc", 3) == 3);
    char got[4] = {0};
    EXPECT(read(fd[0], got, 3) == 3 && memcmp(got, "abc", 3) == 0);
    errno = 0;
    EXPECT(send(fd[1], "x", 1, 0) == -1 && errno == ENOTSOCK);

    /* fork leaves errno alone, in the parent and in the child (the shim
     * loads its unwinder at the first fork and takes the fork's stack) */
    errno = 4242;
    pid_t child = fork();
    if (child == 0)
        _exit(errno == 4242 ? 0 : 1);
    EXPECT(child > 0 && errno == 4242);
    int status = 0;
    EXPECT(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* the pool API leaves errno alone */
    struct bufpool pool;
    bufpool_init(&pool, 4096);
    errno = 1234;
    char *b = bufpool_get(&pool);
    EXPECT(errno == 1234);
    bufpool_put(&pool, b);
    EXPECT(errno == 1234);

    /* signal dispositions read back as set, for SIGSEGV and others */
    EXPECT(signal(SIGINT, on_int) == SIG_DFL);
    EXPECT(signal(SIGINT, SIG_DFL) == on_int);
    EXPECT(signal(SIGSEGV, on_int) == SIG_DFL);
    EXPECT(signal(SIGSEGV, SIG_DFL) == on_int);
    struct sigaction old;
    EXPECT(sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_handler == SIG_DFL);
    errno = 0;
    EXPECT(sigaction(SIGKILL, &old, NULL) == -1 && errno == EINVAL);
    /* the shim holds no descriptor the program would have got next (its
     * log and libunwind's pipe sit high) */
    int next = open("/dev/null", O_RDONLY);
    EXPECT(next == base + 2);
    puts("transparent");
    return 0;
}
