/*
 * libnofallocate.so — a file system without fallocate (ext2, ext3, ext4
 * without extents, NFSv3), for a program preloaded with it before the
 * shim: fallocate() fails with EOPNOTSUPP, as it does there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>

int fallocate(int fd, int mode, off_t offset, off_t len)
{
    (void)fd, (void)mode, (void)offset, (void)len;
    errno = EOPNOTSUPP;
    return -1;
}
