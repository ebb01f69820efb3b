/* rlce's spawn helper: the set-up of an exec'd sandbox process, then its exec.
 *
 * Why: a compiled program's test used to start as a fork() of the Python
 * zygote whose child ran this set-up in Python and then exec'd: about 3 ms
 * and ~370 copy-on-write page faults per process, most of a C++ stdio
 * test's cost (bench/runtimes.py). The zygote now posix_spawn()s this small
 * static program instead (a vfork: no page tables copied) with the
 * descriptors it received (rlce_runner/spawn.py), and it does exactly what
 * zygote.child_main does for the "exec" role, in the same order:
 *
 *   spawn <n> <fd>*n <uid> <gid> <cwd> [<limit>=<value>]... [subreaper=1]
 *
 * 1. the n descriptors become 0..n-1 (stdin, stdout, stderr, the payload,
 *    "ready", then extras), every other one is closed;
 * 2. oom_score_adj 1000, umask 077, every rlimit but the address space; a
 *    judge is made a child subreaper (kept across execve: what it starts
 *    stays below it, so its CPU is the jury's);
 * 3. supplementary groups dropped, gid and uid set and checked (125 if not);
 * 4. chdir to cwd, as that uid;
 * 5. the payload (fd 3: spawn.py's format, argv and the env to add) read and
 *    argv[0] found on PATH: a tool the image lacks is our fault (126);
 * 6. extras moved out of the way, "R" written on fd 4 (set-up is over: from
 *    here every outcome is the program's), extras moved to 3.., the address
 *    space limit set, execve.
 * prefork.c (the JavaScript image's node) includes this file and runs the same
 * steps in a child it forks, starting node in that process instead of 6.'s
 * execve when argv[0] is node itself.
 * A failure before "ready" prints "rlce sandbox set-up failed: ..." and
 * exits 126, as the Python child does. The seccomp filter is the zygote's,
 * inherited; nothing here is reachable by the program before it runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FDS 16
#define MAX_PAYLOAD (16 << 20)
#define EXTRA_BASE 20

extern char **environ;

static void fail(const char *what, int err) {
    char buf[1024];
    int n = err ? snprintf(buf, sizeof buf, "rlce sandbox set-up failed: %s: %s\n", what, strerror(err))
                : snprintf(buf, sizeof buf, "rlce sandbox set-up failed: %s\n", what);
    if (n > 0) {
        ssize_t w = write(2, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
        (void)w;
    }
    _exit(126);
}

static long long number(const char *s, const char *what) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) fail(what, EINVAL);
    return v;
}

static void setlim(int which, long long value) {
    struct rlimit r = {(rlim_t)value, (rlim_t)value};
    if (setrlimit(which, &r) != 0) fail("setrlimit", errno);
}

static int limit_code(const char *name) {
    static const struct { const char *name; int which; } known[] = {
        {"cpu", RLIMIT_CPU},     {"fsize", RLIMIT_FSIZE}, {"nofile", RLIMIT_NOFILE},     {"core", RLIMIT_CORE},
        {"nproc", RLIMIT_NPROC}, {"stack", RLIMIT_STACK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"as", RLIMIT_AS},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].name, name) == 0) return known[i].which;
    fail("unknown limit", EINVAL);
    return -1;
}

static char *read_payload(size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) fail("payload", ENOMEM);
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_PAYLOAD) fail("payload too large", 0);
            cap *= 2;
            buf = realloc(buf, cap + 1);
            if (!buf) fail("payload", ENOMEM);
        }
        ssize_t r = read(3, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fail("payload", errno);
        if (r == 0) break;
        n += (size_t)r;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* argv[0] as execvp would find it on this process's PATH (shutil.which's rules). */
static char *resolve(const char *name) {
    if (strchr(name, '/')) return strdup(name);
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    size_t nl = strlen(name);
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t dl = end ? (size_t)(end - p) : strlen(p);
        char *full = malloc(dl + nl + 3);
        if (!full) fail("resolve", ENOMEM);
        if (dl == 0) snprintf(full, dl + nl + 3, "./%s", name);
        else snprintf(full, dl + nl + 3, "%.*s/%s", (int)dl, p, name);
        struct stat st;
        if (access(full, X_OK) == 0 && stat(full, &st) == 0 && !S_ISDIR(st.st_mode)) return full;
        free(full);
        if (!end) break;
        p = end;
    }
    return NULL;
}

/* Every descriptor from low up closed: close_range, or one by one as /proc/self/fd lists them
 * where the kernel or a seccomp profile refuses it (the fork server's start, spawn_main). */
static int close_from(int low) {
    if (syscall(SYS_close_range, (unsigned)low, ~0U, 0) == 0) return 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int open_fds[1024], k = 0, self = dirfd(d);
    for (struct dirent *e; (e = readdir(d)) && k < 1024;) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd >= low && fd != self) open_fds[k++] = fd;
    }
    closedir(d);
    for (int i = 0; i < k; i++) close(open_fds[i]);
    return k == 1024 ? close_from(low) : 0; /* more than one pass could list */
}

/* What may start the process instead of execve (prefork.c: node, already loaded):
 * returns only when it does not take this path. */
typedef void (*in_process_fn)(const char *path, char **argv, char **envp);

/* Steps 1-4 of the set-up (a process the zygote forks goes on in Python from here:
 * forkloop.c). Returns the descriptor count; the address-space limit asked for (-1:
 * none) is left to the caller, to be set once set-up is done. */
static int spawn_setup(int argc, char **argv, long long *address_space_out) {
    if (argc < 2) fail("usage: spawn <n> <fd>... <uid> <gid> <cwd> [<limit>=<value>]...", 0);
    long long n = number(argv[1], "fd count");
    if (n < 5 || n > MAX_FDS || argc < 2 + n + 3) fail("arguments", EINVAL);
    int fds[MAX_FDS], high[MAX_FDS];
    for (int i = 0; i < n; i++) fds[i] = (int)number(argv[2 + i], "fd");
    uid_t uid = (uid_t)number(argv[2 + n], "uid");
    gid_t gid = (gid_t)number(argv[3 + n], "gid");
    const char *cwd = argv[4 + n];
    long long address_space = -1;

    /* 1. descriptors: up out of the way first, so no target overwrites a source */
    for (int i = 0; i < n; i++) {
        high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
        if (high[i] < 0) fail("descriptors", errno);
    }
    for (int i = 0; i < n; i++)
        if (dup2(high[i], i) < 0) fail("descriptors", errno);
    if (close_from((int)n) != 0) fail("closing descriptors", errno);

    /* 2. */
    int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (oom >= 0) {
        ssize_t w = write(oom, "1000", 4);
        (void)w;
        close(oom);
    }
    umask(077);
    for (int i = 5 + n; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) fail("limit", EINVAL);
        *eq = 0;
        if (strcmp(argv[i], "subreaper") == 0) {
            if (number(eq + 1, "subreaper") && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) fail("prctl", errno);
            continue;
        }
        int which = limit_code(argv[i]);
        long long value = number(eq + 1, "limit value");
        if (which == RLIMIT_AS) address_space = value;
        else setlim(which, value);
    }

    /* 3. */
    if (setgroups(0, NULL) != 0) fail("setgroups", errno);
    if (setresgid(gid, gid, gid) != 0) fail("setresgid", errno);
    if (setresuid(uid, uid, uid) != 0) fail("setresuid", errno);
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg) || ru != uid || eu != uid || su != uid || rg != gid ||
        eg != gid || sg != gid)
        _exit(125);

    /* 4. */
    if (chdir(cwd) != 0) fail(cwd, errno);
    *address_space_out = address_space;
    return (int)n;
}

__attribute__((unused)) static int spawn_main(int argc, char **argv, in_process_fn in_process) {
    long long address_space;
    int n = spawn_setup(argc, argv, &address_space);

    /* 5. payload: "<argc>\0" then argc strings, then "KEY=VALUE" strings, each NUL-terminated */
    size_t len;
    char *payload = read_payload(&len);
    close(3);
    if (len == 0 || payload[len - 1] != 0) fail("malformed payload", 0);
    char *p = payload, *stop = payload + len;
    long long pargc = number(p, "payload argc");
    p += strlen(p) + 1;
    if (pargc < 1 || pargc > 65536) fail("malformed payload", 0);
    char **pargv = calloc((size_t)pargc + 1, sizeof(char *));
    if (!pargv) fail("payload", ENOMEM);
    for (long long i = 0; i < pargc; i++) {
        if (p >= stop) fail("malformed payload", 0);
        pargv[i] = p;
        p += strlen(p) + 1;
    }
    size_t added = 0, inherited = 0;
    for (char *q = p; q < stop; q += strlen(q) + 1) added++;
    for (char **e = environ; *e; e++) inherited++;
    char **envp = calloc(inherited + added + 1, sizeof(char *));
    if (!envp) fail("payload", ENOMEM);
    size_t k = 0;
    for (char **e = environ; *e; e++) {  /* the zygote's environment, less what the payload sets */
        size_t keylen = strcspn(*e, "=");
        int replaced = 0;
        for (char *q = p; q < stop && !replaced; q += strlen(q) + 1)
            replaced = strncmp(q, *e, keylen) == 0 && q[keylen] == '=';
        if (!replaced) envp[k++] = *e;
    }
    for (char *q = p; q < stop; q += strlen(q) + 1) {
        if (!strchr(q, '=')) fail("malformed payload", 0);
        envp[k++] = q;
    }
    char *path = resolve(pargv[0]);
    if (!path) {
        char what[512];
        snprintf(what, sizeof what, "FileNotFoundError: %.400s is not installed in this image", pargv[0]);
        fail(what, 0);
    }

    /* 6. */
    int extras = (int)n - 5;
    for (int i = 0; i < extras; i++) {
        if (dup3(5 + i, EXTRA_BASE + i, O_CLOEXEC) < 0) fail("descriptors", errno);
        close(5 + i);
    }
    ssize_t w = write(4, "R", 1);
    (void)w;
    close(4);
    for (int i = 0; i < extras; i++) {
        /* an exec'd program keeps them (its harness reads fd 3, writes fd 4) */
        if (dup2(EXTRA_BASE + i, 3 + i) < 0) _exit(126);
        close(EXTRA_BASE + i);
    }
    /* glibc's posix_spawn leaves its two internal signals (32, 33: cancellation
     * and setxid) ignored in the child, and an ignored signal stays ignored
     * across execve; a forked child had them at default. glibc's sigaction
     * refuses those numbers, so the raw call. */
    for (int sig = 32; sig <= 33; sig++) {
        struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } dfl = {0};
        dfl.handler = (void *)SIG_DFL;
        if (syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask) != 0) _exit(126);
    }
    if (address_space >= 0) {
        struct rlimit r = {(rlim_t)address_space, (rlim_t)address_space};
        if (setrlimit(RLIMIT_AS, &r) != 0) _exit(126);
    }
    if (in_process) in_process(path, pargv, envp);
    execve(path, pargv, envp);
    fail("execve", errno);
    return 126;
}

#ifndef SPAWN_NO_MAIN
int main(int argc, char **argv) { return spawn_main(argc, argv, NULL); }
#endif
