/*
 * notes_popen — a popen() stream read and never pclose()d: the child is
 * never reaped (unreaped-child).  The popen SPAWN record has no pid: the
 * report must name the child by its command.
 */
#include <stdio.h>

int main(void)
{
    FILE *p = popen("echo from-popen; sleep 0.05", "r");
    char line[64];
    if (!p || !fgets(line, sizeof line, p))
        return 1;
    fputs(line, stdout);
    return 0; /* BUG: never pclose(p) */
}
