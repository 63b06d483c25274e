/*
 * nss_erange — getpwnam_r with a buffer too small for the entry: it fails
 * with ERANGE and *result is NULL; the caller takes that for "no such
 * user" and never retries (nss-erange-not-retried).
 */
#include <pwd.h>
#include <stdio.h>

static int user_exists(const char *name)
{
    struct passwd pw, *res = NULL;
    char buf[8];                       /* BUG: far too small, and ERANGE is ignored */
    getpwnam_r(name, &pw, buf, sizeof buf, &res);
    return res != NULL;
}

int main(void)
{
    printf("root %s\n", user_exists("root") ? "exists" : "does not exist");
    return 0;
}
