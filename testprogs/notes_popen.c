/*
 * notes_popen [crash] — a popen() stream read and never pclose()d: the
 * child is never reaped (unreaped-child).  With "crash" the process dies
 * of a null write while the stream is open instead: the crash's links
 * name the child.  The popen SPAWN record has no pid: the report must name
 * the child by its command.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    FILE *p = popen("echo from-popen; sleep 0.05", "r");
    char line[64];
    if (!p || !fgets(line, sizeof line, p))
        return 1;
    fputs(line, stdout);
    fflush(stdout);
    if (argc > 1 && !strcmp(argv[1], "crash"))
        *(volatile int *)0 = 1; /* SIGSEGV with the child not reaped */
    return 0; /* BUG: never pclose(p) */
}
