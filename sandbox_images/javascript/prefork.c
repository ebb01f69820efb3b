/* The JavaScript image's node, pre-linked: /opt/rlce/runtime/node.
 *
 * Why: Debian's node is a 30 kB front end to libnode.so (47 MB of C++), and
 * the dynamic linker resolving libnode's ~55,000 symbol relocations is about
 * a third of a node start's CPU (perf: 21% of the samples of a loop of
 * snapshot starts in ld.so against 18% in libnode). A split assertion test
 * starts two nodes (the program's, the test's); the bare run one.
 *
 * Two ways to run this binary:
 *
 *   node [node's arguments]        as node: loads libnode, then node::Start.
 *   node --rlce-prefork-serve      the zygote's resident fork server (root,
 *                                  its socket on fd 3): libnode is loaded
 *                                  and relocated once, here.
 *
 * The zygote keeps two servers, one for the candidate's processes and one for
 * everyone else's, so that a program learns from its own memory map nothing of
 * where a test's process has its libraries.
 *
 * The server is spawn/forkserver.c's (included below): one request per
 * datagram, a CLONE_PARENT child that runs spawn.c's set-up; here, when
 * argv[0] is this binary, that child starts node in-process (node::Start, as
 * node's own main does) instead of execve. Any other program is exec'd as
 * spawn.c would.
 *
 * The child is what an execve would have made it: refused over its uid's process
 * limit, dumpable, named "node"; only /proc/<pid>/cmdline still shows the server's
 * command line (the kernel's record of the exec'd argv), process.argv is node's.
 *
 * What a program could see of the server: nothing but libnode's and libc's
 * loaded state (the server holds no data of any job, and never runs any
 * JavaScript); its socket is closed by the set-up before any program code.
 * The server runs under the zygote's seccomp filter (it is spawned after the
 * filter is installed) and ends when the zygote's end of its socket closes.
 * The zygote ends if the server does (rlce_runner/zygote.py).
 *
 * `--rlce-serve <mb> <program.js>` (as node, either way) is the program side
 * of a split test: the V8 startup snapshot built for that heap limit when the
 * image has one, else split.js (a snapshot loads only under the V8 flags it
 * was built with).
 */
#define _GNU_SOURCE
#define FORKSERVER_NO_MAIN
#include "forkserver.c"

#include <dlfcn.h>
#include <limits.h>
#include <sys/wait.h>

#ifndef LIBNODE
#define LIBNODE "libnode.so.108"
#endif
#define RUNTIME "/opt/rlce/runtime"

typedef int (*node_start_fn)(int, char **);

static node_start_fn node_start;
static char self_path[PATH_MAX];

static void load_node(void) {
    void *lib = dlopen(LIBNODE, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        fprintf(stderr, "rlce node: %s\n", dlerror());
        _exit(126);
    }
    node_start = (node_start_fn)dlsym(lib, "_ZN4node5StartEiPPc"); /* node::Start(int, char**) */
    if (!node_start) {
        fprintf(stderr, "rlce node: no node::Start in %s\n", LIBNODE);
        _exit(126);
    }
}

/* node's own main (src/node_main.cc) on Linux, around node::Start. */
static int run_node(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--rlce-serve") == 0) {
        char blob[PATH_MAX];
        long long mb = number(argv[2], "heap megabytes");
        snprintf(blob, sizeof blob, RUNTIME "/serve-%lld.blob", mb);
        /* one block of NUL-separated strings, as the kernel lays out argv: libuv takes the
         * span from argv[0] to the last one's end as the room process.title may write */
        size_t room = strlen(argv[0]) + strlen(argv[3]) + 2 * PATH_MAX + 128;
        char *block = malloc(room), *at = block;
        char **serve = calloc(8, sizeof(char *));
        if (!block || !serve) fail("memory", ENOMEM);
        int k = 0;
#define ARG(...) (serve[k++] = at, at += snprintf(at, room - (size_t)(at - block), __VA_ARGS__) + 1)
        ARG("%s", argv[0]);
        if (access(blob, R_OK) == 0) {
            ARG("--snapshot-blob");
            ARG("%s", blob);
            ARG("--max-old-space-size=%lld", mb);
            ARG("--no-warnings");
        } else {
            ARG("--max-old-space-size=%lld", mb);
            ARG(RUNTIME "/split.js");
        }
        ARG("serve");
        ARG("%s", argv[3]);
#undef ARG
        argc = k;
        argv = serve;
    }
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    return node_start(argc, argv);
}

/* Whether the kernel marked this process as over its uid's RLIMIT_NPROC when it took
 * that uid (PF_NPROC_EXCEEDED, the flags of /proc/self/stat): an execve would fail. */
static int nproc_exceeded(void) {
    char stat[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    ssize_t n = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0) return 1;
    stat[n] = 0;
    char *p = strrchr(stat, ')');
    unsigned long flags = 0;
    /* after "pid (comm)": state ppid pgrp session tty_nr tpgid flags */
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1) return 1;
    return (flags & 0x00001000UL) != 0;
}

/* spawn.c's last step, when the program is this binary: node, without execve. What an
 * execve would have done to this process is done here: refused over the uid's process
 * limit, dumpable again (its memory is its own request and libnode), named after its
 * file. */
static void start_in_process(const char *path, char **argv, char **envp) {
    char real[PATH_MAX];
    if (!realpath(path, real) || strcmp(real, self_path) != 0) return;
    if (nproc_exceeded()) fail("execve", EAGAIN);
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) fail("prctl", errno);
    const char *name = strrchr(real, '/');
    prctl(PR_SET_NAME, name ? name + 1 : real, 0, 0, 0);
    environ = envp;
    int argc = 0;
    while (argv[argc]) argc++;
    exit(run_node(argc, argv));
}

int main(int argc, char **argv) {
    if (!realpath("/proc/self/exe", self_path)) {
        perror("rlce node: /proc/self/exe");
        return 126;
    }
    load_node();
    if (argc == 2 && strcmp(argv[1], "--rlce-prefork-serve") == 0) return forkserver_serve(start_in_process);
    return run_node(argc, argv);
}
