/* rlce's fork server: spawn.c's set-up and exec, in a child of a resident
 * process instead of in an exec'd helper.
 *
 * Why: the zygote used to posix_spawn the static helper (spawn.c) for every
 * exec'd process, and the helper then exec'd the program: two execs per
 * process. Measured in the C++ image on a small stdio program, a fork-and-exec
 * loop costs 1.0-1.1 ms of CPU per run, the same through the helper 1.5-1.7
 * ms, and through a fork of a resident process that runs the helper's code
 * in-process 1.0-1.2 ms: the helper's own exec is about a third of a C++
 * stdio test's process cost (docs/PERFORMANCE.md, 2026-12-03 b).
 *
 *   forkserver --rlce-prefork-serve   the zygote's resident fork server (root,
 *                                     its socket on fd 3)
 *
 * Every image has one at /usr/lib/rlce/prefork (rlce_runner/spawn.py); the
 * JavaScript image's is its node (javascript/prefork.c includes this file and
 * starts node in the child instead of exec'ing it). The zygote keeps two
 * servers, one for the candidate's processes and one for everyone else's.
 *
 * The server reads one request per datagram: spawn.c's argv (with the n
 * descriptors' numbers as the zygote had them) and those n descriptors
 * (SCM_RIGHTS). It forks with CLONE_PARENT, so the child is the zygote's
 * own (the zygote waits for it and reads its rusage as for any process it
 * spawned), answers the child's pid (or -errno), and closes its copies of
 * the descriptors. The child does exactly spawn.c's set-up (the same code,
 * included: descriptors, limits, uid, working directory, payload, "ready")
 * in a new session, with the signal state the zygote's posix_spawn gives the
 * helper (the server's own), and then execs the program as the helper would.
 * The exec replaces the child's copy of the server: the program starts from
 * its binary alone, with a layout of its own.
 *
 * What a process could see of the server before its exec: nothing a program
 * can reach (no program code runs before the exec), and the server holds no
 * data of any job: its request buffer is cleared after each fork, and its
 * socket is closed by the set-up. The server runs under the zygote's seccomp
 * filter (it is spawned after the filter is installed), non-dumpable, and
 * ends when the zygote's end of its socket closes. The zygote ends if the
 * server does (rlce_runner/zygote.py).
 */
#define _GNU_SOURCE
#define SPAWN_NO_MAIN
#include "spawn.c"

#include <sched.h>
#include <sys/socket.h>

#define MAX_REQUEST 65536

/* What starts a process instead of execve (prefork.c's node), or NULL: exec it. */
static in_process_fn served_in_process;

/* The server's signal state is the helper's (both posix_spawn'd by the zygote with the same
 * attributes: its ignored signals, the three it resets, no mask) and it never changes it, so
 * the child inherits exactly what a helper would start with; only the session is new. */
static void child(int nargs, char **args) {
    if (setsid() < 0) fail("setsid", errno);
    spawn_main(nargs, args, served_in_process);
    _exit(126);
}

/* One request: spawn.c's argv as NUL-terminated strings, its descriptors attached. */
static void serve_one(int sock) {
    static char buf[MAX_REQUEST + 1];
    char control[CMSG_SPACE(MAX_FDS * sizeof(int))];
    struct iovec iov = {buf, MAX_REQUEST};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t len = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (len <= 0) _exit(0); /* the zygote is gone */
    int fds[MAX_FDS], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int got = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < got && nfds < MAX_FDS; i++) memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    int answer = -EINVAL;
    char *args[64 + MAX_FDS];
    char numbers[MAX_FDS][16];
    int nargs = 0;
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 && len > 0 && buf[len - 1] == 0) {
        for (char *p = buf; p < buf + len && nargs < 63 + MAX_FDS; p += strlen(p) + 1) args[nargs++] = p;
        args[nargs] = NULL;
        /* spawn <n> <fd>*n ...: the numbers become this process's copies */
        if (nargs >= 2 && atoi(args[1]) == nfds && nargs >= 2 + nfds) {
            for (int i = 0; i < nfds; i++) {
                snprintf(numbers[i], sizeof numbers[i], "%d", fds[i]);
                args[2 + i] = numbers[i];
            }
            pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
            if (pid == 0) child(nargs, args);
            answer = pid > 0 ? pid : -errno;
        }
    }
    for (int i = 0; i < nfds; i++) close(fds[i]);
    memset(buf, 0, (size_t)len); /* the next child's copy holds its own request only */
    if (send(sock, &answer, sizeof answer, MSG_NOSIGNAL) != (ssize_t)sizeof answer) _exit(0);
}

/* The server's loop on fd 3, for the zygote only (root: it sets up other uids). */
static int forkserver_serve(in_process_fn in_process) {
    if (geteuid() != 0) return 126;
    if (close_from(4) != 0) return 126; /* anything but the socket */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return 126; /* as the zygote: no uid reads its memory */
    served_in_process = in_process;
    for (;;) serve_one(3);
}

#ifndef FORKSERVER_NO_MAIN
int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--rlce-prefork-serve") == 0) return forkserver_serve(NULL);
    fail("usage: forkserver --rlce-prefork-serve (the zygote's, its socket on fd 3)", 0);
    return 126;
}
#endif
