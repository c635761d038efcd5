/* rss_exec REPORT CMD [ARGS...]: runs CMD and writes
 * "<wall_ns> <maxrss_kib> <status> <cpu_ns>" to the file REPORT, where status
 * is "exit N" or "signal N" and cpu_ns is user+system CPU time of CMD (all its
 * threads); exits with CMD's status (128+N for a signal).
 *
 * Why a wrapper: a child's peak RSS (wait4 rusage) includes whatever its
 * process held before exec, so a child forked straight from python would
 * report python's RSS. Started from this small program it reports only its own
 * plus a constant ~1 MiB, the same for every runtime. Built natively by
 * run.py.
 *
 * Why posix_spawn and not fork: fork copies this process's page tables and
 * makes its pages copy-on-write, work the measured program never asked for.
 * On the PVM machines here that put ~0.7 ms of the wrapper's own cost into
 * every wall time (hello: 3.7 ms with fork, 3.0 ms spawned, same binary,
 * interleaved). posix_spawn shares this process's memory until the exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rss_exec REPORT CMD [ARGS...]\n");
    return 2;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid;
  int error = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
  if (error != 0) {
    fprintf(stderr, "rss_exec: cannot run %s: %s\n", argv[2], strerror(error));
    return 127;
  }
  int status = 0;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      perror("wait4");
      return 2;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
  long long cpu_ns = ((long long)usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL +
                     ((long long)usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
  FILE* f = fopen(argv[1], "w");
  if (f == NULL) {
    perror(argv[1]);
    return 2;
  }
  if (WIFSIGNALED(status)) {
    fprintf(f, "%lld %ld signal %d %lld\n", ns, usage.ru_maxrss, WTERMSIG(status), cpu_ns);
    fclose(f);
    return 128 + WTERMSIG(status);
  }
  fprintf(f, "%lld %ld exit %d %lld\n", ns, usage.ru_maxrss, WEXITSTATUS(status), cpu_ns);
  fclose(f);
  return WEXITSTATUS(status);
}
