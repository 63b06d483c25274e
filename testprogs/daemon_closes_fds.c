/*
 * daemon_closes_fds — a daemon closes every descriptor above 2 (ours too),
 * opens a file of its own, which gets the number our log had, and keeps
 * working.  The shim must never write into the program's file, and must
 * keep logging (it reopens its log by path).  argv[1]: the program's file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"

static char objects[4000][64];

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    int mine = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (mine < 0 || write(mine, "mine\n", 5) != 5)
        return 2;
    /* enough events to need new log chunks after the close */
    for (int i = 0; i < 4000; i++) {
        guard_pool_get(objects, objects[i], sizeof objects[i]);
        guard_pool_put(objects, objects[i], sizeof objects[i]);
    }
    guard_pool_put(objects, objects[0], sizeof objects[0]); /* one double-put to find */
    printf("fd %d\n", mine);
    return 0;
}
