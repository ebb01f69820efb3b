/* rlce's zygote loop in C: the Python zygote's parent side with no Python in it.
 *
 * Why: after each fork every page the zygote writes is a copy-on-write fault.
 * Its Python loop (recv, json, dict and int objects, the eval loop's
 * refcounts) wrote ~120 distinct pages per fork: ~250 faults and ~0.5 ms of
 * CPU per Python test of two forks (docs/PERFORMANCE.md, "2026-12-03 d").
 * This loop writes its own few pages. The zygote (rlce_runner/forkloop.py)
 * loads it with ctypes.PyDLL and calls rlce_forkloop_serve, which holds the
 * GIL and serves, without returning to Python:
 *
 * - a process of the zygote's image (script, program server, test driver,
 *   judge, session): forked as os.fork does (PyOS_BeforeFork, fork,
 *   PyOS_AfterFork_*); the child unblocks every signal, runs spawn.c's set-up
 *   (spawn_setup: descriptors, limits, groups and uids, working directory)
 *   from the request's first line, "<role> <id> <uid> <gid> <cwd>
 *   [<limit>=<value>]... [subreaper=1]" (zygote_client.request), and goes on
 *   in the Python callable it was given (zygote._forked_child, which never
 *   returns), called from here rather than through ctypes' return path,
 *   once it has read its payload, written "ready" and set its address-space
 *   backstop, all in C;
 * - an exec: through a fork server, as zygote._prefork_spawn does;
 * - every exit: SIGCHLD is blocked in the zygote and read here from a
 *   signalfd; every child is reaped and those it knows (forked or exec'd
 *   here, or tracked for Python's) reported.
 *
 * Its answers ({"spawned"}, {"spawn_failed"}, {"exited"} with the wait status
 * and rusage) are the Python loop's, word for word. It exits 0 when the
 * runner's socket closes and 1 when a fork server ends or stops answering
 * (zygote._start_prefork). It returns only in the zygote:
 *
 *   kind 1  with a request for Python to serve there (kill and wipe, which
 *           have no descriptors; an exec in an image without fork servers;
 *           a role or a first line it does not know);
 *   kind 2  when the seccomp listener has a denied call.
 *
 * Each pass serves the exits, at most one request and at most one denied
 * call, so neither can keep the other waiting.
 *
 * It runs only the zygote's own trusted code: nothing here reads a program's
 * output, and nothing of it runs in a child after the child's set-up.
 */
#define SPAWN_NO_MAIN
#include "spawn.c" /* its set-up (spawn_setup), run by every child forked here */

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* CPython's own, resolved from the interpreter that loads this library. */
void PyOS_BeforeFork(void);
void PyOS_AfterFork_Parent(void);
void PyOS_AfterFork_Child(void);
void *PyBytes_FromStringAndSize(const char *bytes, ssize_t size);
void *PyObject_CallFunctionObjArgs(void *callable, ...);
void *PyUnicode_DecodeUTF8(const char *bytes, ssize_t size, const char *errors);

#define MAX_CHILDREN 1024 /* well above any container's pids limit */
#define JOB_MAX 40
#define MSG_FDS 8
#define HEAD_MAX 4096
#define MAX_ARGS 64

static struct {
    int pid;
    char job[JOB_MAX];
} kids[MAX_CHILDREN];
static int ctl = -1, wake = -1, notify = -1, forker[2] = {-1, -1}, forker_sock[2] = {-1, -1};
static long long candidate_uid = -1;
static char helper[256];

/* SIGCHLD is blocked in the zygote (zygote.main) and read here from a signalfd. */
int rlce_forkloop_init(int ctl_fd, int notify_fd, int forker_a, int forker_b, int sock_a, int sock_b,
                       long long candidate, const char *helper_path) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, NULL) != 0)
        return -1;
    wake = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (wake < 0)
        return -1;
    ctl = ctl_fd;
    notify = notify_fd;
    forker[0] = forker_a;
    forker[1] = forker_b;
    forker_sock[0] = sock_a;
    forker_sock[1] = sock_b;
    candidate_uid = candidate;
    snprintf(helper, sizeof helper, "%s", helper_path);
    return 0;
}

static int slot_of(int pid) {
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (kids[i].pid == pid)
            return i;
    return -1;
}

static int valid_job(const char *job) {
    size_t n = strlen(job);
    if (n == 0 || n >= JOB_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((job[i] >= 'a' && job[i] <= 'z') || (job[i] >= 'A' && job[i] <= 'Z') || (job[i] >= '0' && job[i] <= '9')))
            return 0;
    return 1;
}

/* A process the zygote started in Python (an exec'd one): its exit is reported here. */
int rlce_forkloop_track(int pid, const char *job) {
    int i = slot_of(0);
    if (pid <= 0 || i < 0 || !valid_job(job))
        return -1;
    kids[i].pid = pid;
    snprintf(kids[i].job, JOB_MAX, "%s", job);
    return 0;
}

static void say(const char *buf, int n) {
    while (send(ctl, buf, (size_t)n, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR)
            _exit(0); /* the runner is gone: so is the sandbox (the Python loop died the same way) */
    }
}

static void reap(void) {
    char out[256];
    for (;;) {
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, WNOHANG, &ru);
        if (pid <= 0)
            return;
        if (pid == forker[0] || pid == forker[1])
            _exit(1);
        int i = slot_of(pid);
        if (i < 0)
            continue; /* an orphan this subreaper inherited: nobody waits for it */
        double cpu = ((double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6) +
                     ((double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6);
        int n = snprintf(out, sizeof out, "{\"exited\":\"%s\",\"pid\":%d,\"status\":%d,\"cpu_s\":%.17g,\"maxrss_kb\":%ld}",
                         kids[i].job, pid, status, cpu, ru.ru_maxrss);
        kids[i].pid = 0;
        say(out, n);
        explicit_bzero(out, sizeof out);
    }
}

static void drain(int fd) {
    struct signalfd_siginfo sink[8];
    while (read(fd, sink, sizeof sink) > 0) {
    }
}

static void close_all(const int *fds, int n) {
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* The role and id of a request's first line ("<role> <id> ..."): 0 when it is not one. */
static int header(const char *buf, int n, char *role, char *job) {
    const char *nl = memchr(buf, '\n', (size_t)(n < HEAD_MAX ? n : HEAD_MAX));
    if (nl == NULL)
        return 0;
    const char *sp = memchr(buf, ' ', (size_t)(nl - buf));
    if (sp == NULL || sp == buf || sp - buf >= 16)
        return 0;
    const char *end = memchr(sp + 1, ' ', (size_t)(nl - sp - 1));
    if (end == NULL)
        end = nl;
    if (end - sp - 1 >= JOB_MAX)
        return 0;
    memcpy(role, buf, (size_t)(sp - buf));
    role[sp - buf] = 0;
    memcpy(job, sp + 1, (size_t)(end - sp - 1));
    job[end - sp - 1] = 0;
    return valid_job(job);
}

/* Everything on fd 3 until end of file (a blocking pipe), as zygote's read_all. */
static char *read_all_fd3(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        fail("payload", ENOMEM);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *more = realloc(buf, cap);
            if (!more)
                fail("payload", ENOMEM);
            buf = more;
        }
        ssize_t r = read(3, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            fail("payload", errno);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

/* The address-space backstop on top of what the process maps now (zygote._limit_address_space). */
static void limit_address_space(long long budget) {
    if (budget <= 0)
        return;
    char text[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    ssize_t r = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0)
        close(fd);
    if (r <= 0)
        fail("statm", errno);
    text[r] = 0;
    long long pages = strtoll(text, NULL, 10);
    setlim(RLIMIT_AS, pages * sysconf(_SC_PAGESIZE) + budget);
}

/* The child: its set-up as zygote.child_main and _after_setup do it, in C (the same steps
 * as spawn.c's, from its spawn_setup), then on in Python: child(role, payload), which
 * never returns. The request's first line is "<role> <id> <uid> <gid> <cwd>
 * [<limit>=<value>]... [subreaper=1]": what spawn's argv says after its descriptors. */
static void in_child(void *child, char *buf, ssize_t n, const int *fds, int nfds) {
    char *nl = memchr(buf, '\n', (size_t)n);
    if (nl == NULL)
        fail("malformed request", 0);
    *nl = 0;
    char *args[MAX_ARGS + MSG_FDS + 2], fdtext[MSG_FDS][16], count[16];
    int argc = 0;
    args[argc++] = "spawn";
    snprintf(count, sizeof count, "%d", nfds);
    args[argc++] = count;
    for (int i = 0; i < nfds; i++) {
        snprintf(fdtext[i], sizeof fdtext[i], "%d", fds[i]);
        args[argc++] = fdtext[i];
    }
    char *save = NULL, *role = strtok_r(buf, " ", &save);
    if (role == NULL || strtok_r(NULL, " ", &save) == NULL) /* (the id) */
        fail("malformed request", 0);
    for (char *t; (t = strtok_r(NULL, " ", &save)) != NULL;) {
        if (argc == MAX_ARGS + MSG_FDS + 1)
            fail("malformed request", 0);
        args[argc++] = t;
    }
    args[argc] = NULL;
    if (setsid() < 0)
        fail("setsid", errno);
    long long address_space;
    int count_fds = spawn_setup(argc, args, &address_space);
    /* fd 3 carries the boot payload, fd 4 is the "ready" pipe, extras follow */
    size_t len;
    char *payload = read_all_fd3(&len);
    close(3);
    void *text = PyUnicode_DecodeUTF8(payload, (ssize_t)len, "surrogateescape");
    free(payload);
    void *role_obj = PyBytes_FromStringAndSize(role, (ssize_t)strlen(role));
    if (text == NULL || role_obj == NULL)
        fail("payload", ENOMEM);
    int extras = count_fds - 5;
    for (int i = 0; i < extras; i++) {
        if (dup3(5 + i, EXTRA_BASE + i, O_CLOEXEC) < 0)
            fail("descriptors", errno);
        close(5 + i);
    }
    /* the last step of set-up: from here on, every outcome is the program's */
    ssize_t w = write(4, "R", 1);
    (void)w;
    close(4);
    for (int i = 0; i < extras; i++) {
        if (dup3(EXTRA_BASE + i, 3 + i, O_CLOEXEC) < 0)
            _exit(126);
        close(EXTRA_BASE + i);
    }
    limit_address_space(address_space);
    PyObject_CallFunctionObjArgs(child, role_obj, text, NULL);
    _exit(126); /* (child never returns; a failure it met is reported by it) */
}

/* An exec through a fork server (zygote._prefork_spawn's way): the helper's argv
 * ("<helper> <n> <fd>... <uid> <gid> <cwd> ...", each NUL-terminated) and the
 * descriptors, the candidate's processes to one server and everyone else's to the
 * other; its answer (a pid, or -errno) comes at once, and none in 30 s is a stuck
 * server: the zygote ends, and its sandbox with it. Returns the pid or -errno. */
static int exec_through_forker(const char *args, const int *fds, int nfds) {
    char req[HEAD_MAX + 512], *w = req, *end = req + sizeof req;
    w += snprintf(w, (size_t)(end - w), "%s", helper) + 1;
    w += snprintf(w, (size_t)(end - w), "%d", nfds) + 1;
    for (int i = 0; i < nfds; i++)
        w += snprintf(w, (size_t)(end - w), "%d", fds[i]) + 1;
    size_t len = strlen(args);
    if (w + len + 1 > end)
        _exit(1);
    for (size_t i = 0; i <= len; i++) /* the set-up's words, space-separated here, NUL there */
        *w++ = args[i] == ' ' ? 0 : args[i];
    char *stop;
    long long uid = strtoll(args, &stop, 10);
    int which = uid == candidate_uid ? 0 : 1;
    char control[CMSG_SPACE(sizeof(int) * MSG_FDS)];
    memset(control, 0, sizeof control);
    struct iovec io = {.iov_base = req, .iov_len = (size_t)(w - req)};
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control,
                       .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    struct pollfd out = {.fd = forker_sock[which], .events = POLLOUT};
    while (sendmsg(forker_sock[which], &m, MSG_NOSIGNAL) < 0) { /* (the socket has Python's timeout: non-blocking) */
        if (errno == EAGAIN && poll(&out, 1, 30000) == 1)
            continue;
        if (errno != EINTR)
            _exit(1);
    }
    struct pollfd p = {.fd = forker_sock[which], .events = POLLIN};
    int answer;
    for (;;) {
        int r = poll(&p, 1, 30000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            _exit(1);
        ssize_t n = recv(forker_sock[which], &answer, sizeof answer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof answer)
            _exit(1);
        explicit_bzero(req, sizeof req); /* (the stack a later child's copy may still hold) */
        return answer;
    }
}

/* Roles of the zygote's image the loop forks and sets up (zygote._run_role); any other
 * request with descriptors is left to Python, which knows every role. */
static int forked_role(const char *role) {
    static const char *const known[] = {"script", "program", "driver", "pyjudge", "session"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(role, known[i]) == 0)
            return 1;
    return 0;
}

/* {"spawned"}, or {"spawn_failed"} with the error as Python words an OSError. */
static void report_spawn(const char *job, int err, pid_t pid) {
    char out[256];
    int n = err ? snprintf(out, sizeof out, "{\"spawn_failed\":\"%s\",\"error\":\"[Errno %d] %s\"}", job, err, strerror(err))
                : snprintf(out, sizeof out, "{\"spawned\":\"%s\",\"pid\":%d}", job, pid);
    say(out, n);
    explicit_bzero(out, sizeof out);
}

/* One request from the runner: -1 when served here, else its length (Python's to serve:
 * kind 1). */
static int serve_request(char *buf, int cap, int *fds, int *nfds, int max_fds, void *child) {
    char control[CMSG_SPACE(sizeof(int) * MSG_FDS)];
    struct iovec io = {.iov_base = buf, .iov_len = (size_t)cap};
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n = recvmsg(ctl, &m, 0);
    if (n < 0 && errno == EINTR)
        return -1;
    if (n <= 0)
        _exit(0);
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*nfds < max_fds)
                fds[(*nfds)++] = fd;
            else
                close(fd); /* (more than a request ever has: as recv_fds would not have kept them) */
        }
    }
    char role[16], job[JOB_MAX];
    int exec = 0;
    /* kill and wipe (no descriptors) are rare: Python's, as is an exec without fork servers */
    if (!header(buf, (int)n, role, job) || *nfds < 5 || !((exec = strcmp(role, "exec") == 0) ? forker_sock[0] >= 0 : forked_role(role)))
        return (int)n;
    int slot = slot_of(0);
    if (slot < 0) {
        close_all(fds, *nfds);
        memset(buf, 0, (size_t)n);
        char out[128];
        say(out, snprintf(out, sizeof out, "{\"spawn_failed\":\"%s\",\"error\":\"too many processes\"}", job));
        return -1;
    }
    pid_t pid;
    int err = 0;
    if (exec) {
        char *nl = memchr(buf, '\n', (size_t)n);
        *nl = 0;
        const char *args = buf + strlen(role) + 1 + strlen(job);
        pid = *args == ' ' ? exec_through_forker(args + 1, fds, *nfds) : -EINVAL;
        if (pid < 0)
            err = -pid;
    } else {
        PyOS_BeforeFork();
        pid = fork();
        err = pid < 0 ? errno : 0;
        if (pid == 0) {
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL); /* a new process's mask: nothing blocked */
            PyOS_AfterFork_Child();
            in_child(child, buf, n, fds, *nfds);
        }
        PyOS_AfterFork_Parent();
    }
    close_all(fds, *nfds);
    memset(buf, 0, (size_t)n); /* so that the next child's copy holds its own request only */
    if (!err) {
        kids[slot].pid = pid;
        memcpy(kids[slot].job, job, JOB_MAX);
    }
    /* EAGAIN under the pids limit: the runner retries */
    report_spawn(job, err, pid);
    return -1;
}

/* Fair to both: each pass serves the exits, at most one request and then at most one denied
 * call, so that a program making denied calls without end never keeps the runner's requests
 * (its own kill among them) waiting, nor the other way round. */
int rlce_forkloop_serve(char *buf, int cap, int *fds, int *nfds, int max_fds, int *kind, void *child) {
    struct pollfd p[3];
    int np = 0;
    p[np++] = (struct pollfd){.fd = ctl, .events = POLLIN};
    p[np++] = (struct pollfd){.fd = wake, .events = POLLIN};
    if (notify >= 0)
        p[np++] = (struct pollfd){.fd = notify, .events = POLLIN};
    reap(); /* what ended while Python had the loop */
    for (;;) {
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        int denied = np == 3 && p[2].revents;
        if (p[1].revents) {
            drain(wake);
            reap();
        }
        if (p[0].revents) {
            int n = serve_request(buf, cap, fds, nfds, max_fds, child);
            if (n >= 0) {
                *kind = 1; /* (a denied call waiting is answered at the next pass: poll says so again) */
                return n;
            }
        }
        if (denied) {
            *kind = 2;
            return 0;
        }
    }
}
