/*
 * child_zombie — forks a child that exits at once, and never waits for it:
 * the child stays a zombie until the parent exits.  unreaped-child.
 */
#include <stdio.h>
#include <unistd.h>

static pid_t start_helper(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    return pid;
}

int main(void)
{
    pid_t pid = start_helper(); /* BUG: nobody waits for it */
    usleep(300 * 1000);         /* it has exited by now: a zombie, and we go on */
    printf("started %d\n", (int)pid);
    return 0;
}
