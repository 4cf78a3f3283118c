/* rusage_exec: run a command and write its resource usage as one JSON line.
 *
 *   rusage_exec OUT.json program [args...]
 *
 * Why it exists: a child forked by the Python runner starts with the
 * runner's memory map, and Linux carries that map's peak RSS into the
 * child's ru_maxrss across exec, so wait4 in the runner would report at
 * least the runner's own ~15 MiB. Forked from this small program instead,
 * the command's ru_maxrss is its own (plus about 1 MiB of this launcher).
 *
 * It writes {"max_rss_kb":N,"user_s":U,"sys_s":S,"nvcsw":V,"nivcsw":I} (the
 * voluntary and involuntary context switches) to OUT.json after the
 * command ends, then ends the same way: the same exit code, or the same
 * signal re-raised (without a core dump of its own). The caller keeps
 * measuring wall time and enforcing time limits on the whole process group.
 * Exit 127 if the command cannot be started.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rusage_exec OUT.json program [args...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("rusage_exec: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "rusage_exec: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    signal(SIGINT, SIG_IGN); /* the caller decides; it kills the whole group */
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("rusage_exec: wait4");
            return 127;
        }
    }
    FILE *f = fopen(argv[1], "w");
    if (f) {
        fprintf(f, "{\"max_rss_kb\":%ld,\"user_s\":%.6f,\"sys_s\":%.6f,\"nvcsw\":%ld,\"nivcsw\":%ld}\n",
                ru.ru_maxrss, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
                ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_nvcsw, ru.ru_nivcsw);
        fclose(f);
    }
    if (WIFSIGNALED(status)) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    /* _exit: a preloaded allocator's exit handlers must not run here (hakmem's would
     * overwrite the command's statistics file with the launcher's). */
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}
