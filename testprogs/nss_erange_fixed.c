/*
 * nss_erange_fixed — the same lookup, growing the buffer on ERANGE until it
 * fits, as getpwnam_r's manual says: no finding.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>

static int user_exists(const char *name)
{
    struct passwd pw, *res = NULL;
    size_t size = 8;
    char *buf = malloc(size);
    int rc;
    while ((rc = getpwnam_r(name, &pw, buf, size, &res)) == ERANGE) {
        size *= 2;
        buf = realloc(buf, size);
    }
    free(buf);
    return rc == 0 && res != NULL;
}

int main(void)
{
    printf("root %s\n", user_exists("root") ? "exists" : "does not exist");
    return 0;
}
