/*
 * nss_doors.c — every public door into NSS that the shim hooks, called
 * with lookups that work offline (/etc/hosts' localhost, /etc/services,
 * /etc/protocols, /etc/rpc, /etc/networks, users root and nobody).
 *
 *   nss_doors print     call each door once and print what it returned,
 *                       errno and h_errno: the same output natively and
 *                       under the shim (the hooks are transparent)
 *   nss_doors fork      a multithreaded parent forks and its child calls
 *                       every door before exec: a fork-unsafe-call each
 *   nss_doors threads   two threads call every function with a static
 *                       result, one after the other: an
 *                       nss-nonreentrant-threads each (the second thread's)
 */
#define _GNU_SOURCE
#include <aliases.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <gshadow.h>
#include <netdb.h>
#include <netinet/ether.h>
#include <pthread.h>
#include <pwd.h>
#include <shadow.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

#include "idle_thread.h"

extern int __getlogin_r_chk(char *, size_t, size_t);

static FILE *out;
static char buf[16384];

/* Before each call errno and h_errno are cleared; after it both are
 * printed with the result, so any difference the shim made shows. */
#define CLEAR() (errno = 0, h_errno = 0, herr = 0)
#define SHOW(name, fmt, ...)                                                                   \
    fprintf(out, "%-18s " fmt " errno=%d h_errno=%d\n", name, __VA_ARGS__, errno, h_errno)

static int herr; /* the _r functions' h_errno */

static const char *s(const char *p) { return p ? p : "(null)"; }

static const char *pw(const struct passwd *p) { return p ? p->pw_name : "(none)"; }
static const char *gr(const struct group *g) { return g ? g->gr_name : "(none)"; }
static const char *sp(const struct spwd *p) { return p ? p->sp_namp : "(none)"; }
static const char *sg(const struct sgrp *g) { return g ? g->sg_namp : "(none)"; }
static const char *he(const struct hostent *h) { return h ? h->h_name : "(none)"; }
static const char *ne(const struct netent *n) { return n ? n->n_name : "(none)"; }
static const char *pe(const struct protoent *p) { return p ? p->p_name : "(none)"; }
static const char *se(const struct servent *e) { return e ? e->s_name : "(none)"; }
static const char *re(const struct rpcent *r) { return r ? r->r_name : "(none)"; }
static const char *ae(const struct aliasent *a) { return a ? a->alias_name : "(none)"; }

/* The functions with a static result, one call each. */
static void call_static(void)
{
    struct in_addr lo = {htonl(INADDR_LOOPBACK)};
    char *h = NULL, *u = NULL, *d = NULL;
    CLEAR(); SHOW("getpwuid", "%s", pw(getpwuid(0)));
    CLEAR(); SHOW("getpwnam", "%s", pw(getpwnam("nobody")));
    CLEAR(); SHOW("getpwent", "%s", pw(getpwent()));
    CLEAR(); SHOW("getgrgid", "%s", gr(getgrgid(0)));
    CLEAR(); SHOW("getgrnam", "%s", gr(getgrnam("root")));
    CLEAR(); SHOW("getgrent", "%s", gr(getgrent()));
    CLEAR(); SHOW("getspnam", "%s", sp(getspnam("root")));
    CLEAR(); SHOW("getspent", "%s", sp(getspent()));
    CLEAR(); SHOW("getsgnam", "%s", sg(getsgnam("root")));
    CLEAR(); SHOW("getsgent", "%s", sg(getsgent()));
    CLEAR(); SHOW("gethostbyname", "%s", he(gethostbyname("localhost")));
    CLEAR(); SHOW("gethostbyname2", "%s", he(gethostbyname2("localhost", AF_INET)));
    CLEAR(); SHOW("gethostbyaddr", "%s", he(gethostbyaddr(&lo, sizeof lo, AF_INET)));
    CLEAR(); SHOW("gethostent", "%s", he(gethostent()));
    CLEAR(); SHOW("getnetbyname", "%s", ne(getnetbyname("loopback")));
    CLEAR(); SHOW("getnetbyaddr", "%s", ne(getnetbyaddr(127u << 24, AF_INET)));
    CLEAR(); SHOW("getnetent", "%s", ne(getnetent()));
    CLEAR(); SHOW("getprotobyname", "%s", pe(getprotobyname("tcp")));
    CLEAR(); SHOW("getprotobynumber", "%s", pe(getprotobynumber(17)));
    CLEAR(); SHOW("getprotoent", "%s", pe(getprotoent()));
    CLEAR(); SHOW("getservbyname", "%s", se(getservbyname("ssh", "tcp")));
    CLEAR(); SHOW("getservbyport", "%s", se(getservbyport(htons(80), "tcp")));
    CLEAR(); SHOW("getservent", "%s", se(getservent()));
    CLEAR(); SHOW("getrpcbyname", "%s", re(getrpcbyname("portmapper")));
    CLEAR(); SHOW("getrpcbynumber", "%s", re(getrpcbynumber(100000)));
    CLEAR(); SHOW("getrpcent", "%s", re(getrpcent()));
    CLEAR(); SHOW("getaliasbyname", "%s", ae(getaliasbyname("root")));
    CLEAR(); SHOW("getaliasent", "%s", ae(getaliasent()));
    CLEAR(); int rc = getnetgrent(&h, &u, &d);
    SHOW("getnetgrent", "%d %s", rc, s(h));
    CLEAR(); SHOW("getlogin", "%s", s(getlogin()));
    CLEAR(); SHOW("cuserid", "%s", s(cuserid(NULL)));
}

/* Every other door. */
static void call_reentrant(void)
{
    struct in_addr lo = {htonl(INADDR_LOOPBACK)};
    int rc;
    struct passwd pwb, *pwp;
    struct group grb, *grp;
    struct spwd spb, *spp;
    struct sgrp sgb, *sgp;
    struct hostent heb, *hep;
    struct netent neb, *nep;
    struct protoent peb, *pep;
    struct servent seb, *sep;
    struct rpcent reb, *rep;
    struct aliasent aeb, *aep;
    CLEAR(); setpwent(); SHOW("setpwent", "%s", "-");
    CLEAR(); rc = getpwent_r(&pwb, buf, sizeof buf, &pwp); SHOW("getpwent_r", "%d %s", rc, pw(pwp));
    CLEAR(); endpwent(); SHOW("endpwent", "%s", "-");
    CLEAR(); rc = getpwuid_r(0, &pwb, buf, sizeof buf, &pwp); SHOW("getpwuid_r", "%d %s", rc, pw(pwp));
    CLEAR(); rc = getpwnam_r("nobody", &pwb, buf, sizeof buf, &pwp);
    SHOW("getpwnam_r", "%d %s", rc, pw(pwp));
    /* through dlsym: a direct reference makes the linker warn that getpw is
     * dangerous (it is: no buffer size), which is not news here */
    int (*getpw_fn)(uid_t, char *) = (int (*)(uid_t, char *))dlsym(RTLD_DEFAULT, "getpw");
    CLEAR(); rc = getpw_fn(0, buf); SHOW("getpw", "%d %s", rc, rc == 0 ? buf : "-");
    CLEAR(); setgrent(); SHOW("setgrent", "%s", "-");
    CLEAR(); rc = getgrent_r(&grb, buf, sizeof buf, &grp); SHOW("getgrent_r", "%d %s", rc, gr(grp));
    CLEAR(); endgrent(); SHOW("endgrent", "%s", "-");
    CLEAR(); rc = getgrgid_r(0, &grb, buf, sizeof buf, &grp); SHOW("getgrgid_r", "%d %s", rc, gr(grp));
    CLEAR(); rc = getgrnam_r("root", &grb, buf, sizeof buf, &grp); SHOW("getgrnam_r", "%d %s", rc, gr(grp));
    gid_t groups[64];
    int ngroups = 64;
    CLEAR(); rc = getgrouplist("root", 0, groups, &ngroups);
    SHOW("getgrouplist", "%d %d", rc, ngroups);
    CLEAR(); rc = initgroups("root", 0); SHOW("initgroups", "%d", rc);
    CLEAR(); setspent(); SHOW("setspent", "%s", "-");
    CLEAR(); rc = getspent_r(&spb, buf, sizeof buf, &spp); SHOW("getspent_r", "%d %s", rc, sp(spp));
    CLEAR(); endspent(); SHOW("endspent", "%s", "-");
    CLEAR(); rc = getspnam_r("root", &spb, buf, sizeof buf, &spp); SHOW("getspnam_r", "%d %s", rc, sp(spp));
    CLEAR(); setsgent(); SHOW("setsgent", "%s", "-");
    CLEAR(); rc = getsgent_r(&sgb, buf, sizeof buf, &sgp); SHOW("getsgent_r", "%d %s", rc, sg(sgp));
    CLEAR(); endsgent(); SHOW("endsgent", "%s", "-");
    CLEAR(); rc = getsgnam_r("root", &sgb, buf, sizeof buf, &sgp); SHOW("getsgnam_r", "%d %s", rc, sg(sgp));
    CLEAR(); sethostent(0); SHOW("sethostent", "%s", "-");
    CLEAR(); rc = gethostent_r(&heb, buf, sizeof buf, &hep, &herr);
    SHOW("gethostent_r", "%d %s %d", rc, he(hep), herr);
    CLEAR(); endhostent(); SHOW("endhostent", "%s", "-");
    CLEAR(); rc = gethostbyname_r("localhost", &heb, buf, sizeof buf, &hep, &herr);
    SHOW("gethostbyname_r", "%d %s %d", rc, he(hep), herr);
    CLEAR(); rc = gethostbyname2_r("localhost", AF_INET, &heb, buf, sizeof buf, &hep, &herr);
    SHOW("gethostbyname2_r", "%d %s %d", rc, he(hep), herr);
    CLEAR(); rc = gethostbyaddr_r(&lo, sizeof lo, AF_INET, &heb, buf, sizeof buf, &hep, &herr);
    SHOW("gethostbyaddr_r", "%d %s %d", rc, he(hep), herr);
    /* a lookup that fails: its h_errno must come through too */
    CLEAR(); rc = gethostbyname_r("no-such-host.invalid.", &heb, buf, 8, &hep, &herr);
    SHOW("gethostbyname_r", "%d %s %d", rc, he(hep), herr);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    CLEAR(); rc = getaddrinfo("localhost", "ssh", &hints, &ai);
    SHOW("getaddrinfo", "%d %d", rc, ai ? ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port) : -1);
    if (ai)
        freeaddrinfo(ai);
    struct gaicb req = {.ar_name = "localhost", .ar_service = "http", .ar_request = &hints};
    struct gaicb *list[1] = {&req};
    CLEAR(); rc = getaddrinfo_a(GAI_WAIT, list, 1, NULL);
    SHOW("getaddrinfo_a", "%d %d", rc, gai_error(&req));
    if (req.ar_result)
        freeaddrinfo(req.ar_result);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(22), .sin_addr = lo};
    char host[256], serv[64];
    CLEAR(); rc = getnameinfo((struct sockaddr *)&sin, sizeof sin, host, sizeof host, serv, sizeof serv, 0);
    SHOW("getnameinfo", "%d %s %s", rc, rc ? "-" : host, rc ? "-" : serv);
    CLEAR(); long id = gethostid(); SHOW("gethostid", "%lx", (unsigned long)id);
    CLEAR(); setnetent(0); SHOW("setnetent", "%s", "-");
    CLEAR(); rc = getnetent_r(&neb, buf, sizeof buf, &nep, &herr); SHOW("getnetent_r", "%d %s", rc, ne(nep));
    CLEAR(); endnetent(); SHOW("endnetent", "%s", "-");
    CLEAR(); rc = getnetbyname_r("loopback", &neb, buf, sizeof buf, &nep, &herr);
    SHOW("getnetbyname_r", "%d %s %d", rc, ne(nep), herr);
    CLEAR(); rc = getnetbyaddr_r(127u << 24, AF_INET, &neb, buf, sizeof buf, &nep, &herr);
    SHOW("getnetbyaddr_r", "%d %s %d", rc, ne(nep), herr);
    CLEAR(); setprotoent(0); SHOW("setprotoent", "%s", "-");
    CLEAR(); rc = getprotoent_r(&peb, buf, sizeof buf, &pep); SHOW("getprotoent_r", "%d %s", rc, pe(pep));
    CLEAR(); endprotoent(); SHOW("endprotoent", "%s", "-");
    CLEAR(); rc = getprotobyname_r("tcp", &peb, buf, sizeof buf, &pep); SHOW("getprotobyname_r", "%d %s", rc, pe(pep));
    CLEAR(); rc = getprotobynumber_r(6, &peb, buf, sizeof buf, &pep); SHOW("getprotobynumber_r", "%d %s", rc, pe(pep));
    CLEAR(); setservent(0); SHOW("setservent", "%s", "-");
    CLEAR(); rc = getservent_r(&seb, buf, sizeof buf, &sep); SHOW("getservent_r", "%d %s", rc, se(sep));
    CLEAR(); endservent(); SHOW("endservent", "%s", "-");
    CLEAR(); rc = getservbyname_r("http", "tcp", &seb, buf, sizeof buf, &sep);
    SHOW("getservbyname_r", "%d %s", rc, se(sep));
    CLEAR(); rc = getservbyport_r(htons(22), "tcp", &seb, buf, sizeof buf, &sep);
    SHOW("getservbyport_r", "%d %s", rc, se(sep));
    CLEAR(); setrpcent(0); SHOW("setrpcent", "%s", "-");
    CLEAR(); rc = getrpcent_r(&reb, buf, sizeof buf, &rep); SHOW("getrpcent_r", "%d %s", rc, re(rep));
    CLEAR(); endrpcent(); SHOW("endrpcent", "%s", "-");
    CLEAR(); rc = getrpcbyname_r("portmapper", &reb, buf, sizeof buf, &rep); SHOW("getrpcbyname_r", "%d %s", rc, re(rep));
    CLEAR(); rc = getrpcbynumber_r(100000, &reb, buf, sizeof buf, &rep); SHOW("getrpcbynumber_r", "%d %s", rc, re(rep));
    struct ether_addr ea;
    memset(&ea, 0, sizeof ea);
    CLEAR(); rc = ether_hostton("localhost", &ea); SHOW("ether_hostton", "%d", rc);
    CLEAR(); rc = ether_ntohost(host, &ea); SHOW("ether_ntohost", "%d", rc);
    CLEAR(); setaliasent(); SHOW("setaliasent", "%s", "-");
    CLEAR(); rc = getaliasent_r(&aeb, buf, sizeof buf, &aep); SHOW("getaliasent_r", "%d %s", rc, ae(aep));
    CLEAR(); endaliasent(); SHOW("endaliasent", "%s", "-");
    CLEAR(); rc = getaliasbyname_r("root", &aeb, buf, sizeof buf, &aep); SHOW("getaliasbyname_r", "%d %s", rc, ae(aep));
    char *h = NULL, *u = NULL, *d = NULL;
    CLEAR(); rc = setnetgrent("trusted"); SHOW("setnetgrent", "%d", rc);
    CLEAR(); rc = getnetgrent_r(&h, &u, &d, buf, sizeof buf); SHOW("getnetgrent_r", "%d %s", rc, s(h));
    CLEAR(); endnetgrent(); SHOW("endnetgrent", "%s", "-");
    CLEAR(); rc = innetgr("trusted", "localhost", NULL, NULL); SHOW("innetgr", "%d", rc);
    char name[64];
    CLEAR(); rc = getlogin_r(name, sizeof name); SHOW("getlogin_r", "%d %s", rc, rc ? "-" : name);
    CLEAR(); rc = __getlogin_r_chk(name, sizeof name, sizeof name);
    SHOW("__getlogin_r_chk", "%d %s", rc, rc ? "-" : name);
    char cu[L_cuserid];
    CLEAR(); SHOW("cuserid", "%s", s(cuserid(cu)));
    wordexp_t we;
    CLEAR(); rc = wordexp("~root", &we, WRDE_NOCMD);
    SHOW("wordexp", "%d %s", rc, rc ? "-" : we.we_wordv[0]);
    if (rc == 0)
        wordfree(&we);
    /* The remote-shell family, failing before any network traffic: a NULL
     * host with AI_CANONNAME is refused by getaddrinfo at once, and an
     * address family they do not know by the functions themselves. */
    char *nohost = NULL;
    CLEAR(); rc = rcmd(&nohost, htons(514), "root", "root", "true", NULL); SHOW("rcmd", "%d", rc);
    CLEAR(); rc = rcmd_af(&nohost, htons(514), "root", "root", "true", NULL, AF_UNIX);
    SHOW("rcmd_af", "%d", rc);
    CLEAR(); rc = rexec(&nohost, htons(512), "root", "x", "true", NULL); SHOW("rexec", "%d", rc);
    CLEAR(); rc = rexec_af(&nohost, htons(512), "root", "x", "true", NULL, AF_UNIX);
    SHOW("rexec_af", "%d", rc);
    CLEAR(); rc = ruserok("localhost", 0, "nobody", "nobody"); SHOW("ruserok", "%d", rc);
    CLEAR(); rc = ruserok_af("localhost", 0, "nobody", "nobody", AF_INET); SHOW("ruserok_af", "%d", rc);
    CLEAR(); rc = iruserok(lo.s_addr, 0, "nobody", "nobody"); SHOW("iruserok", "%d", rc);
    CLEAR(); rc = iruserok_af(&lo, 0, "nobody", "nobody", AF_INET); SHOW("iruserok_af", "%d", rc);
}


static void *static_calls(void *arg)
{
    (void)arg;
    call_static();
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "print";
    out = stdout;
    if (!strcmp(mode, "print")) {
        call_static();
        call_reentrant();
        return 0;
    }
    out = fopen("/dev/null", "w");
    if (!out)
        return 2;
    pthread_t t;
    if (!strcmp(mode, "fork")) {
        t = idle_start(); /* the parent is multithreaded from here */
        pid_t pid = fork();
        if (pid == 0) {
            call_static();   /* BUG: none of these is async-signal-safe */
            call_reentrant();
            fflush(out);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        idle_stop(t);
        printf("child status %d\n", WEXITSTATUS(status));
        return 0;
    }
    if (!strcmp(mode, "threads")) {
        pthread_t a, b;
        t = idle_start(); /* both lookups run while another thread lives */
        pthread_create(&a, NULL, static_calls, NULL);
        pthread_join(a, NULL);
        pthread_create(&b, NULL, static_calls, NULL); /* BUG: the second thread's */
        pthread_join(b, NULL);
        idle_stop(t);
        puts("looked up from two threads");
        return 0;
    }
    return 2;
}
