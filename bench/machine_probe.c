/* machine_probe: what this machine charges natively for the two things WASI host
 * calls are made of, so that ratios measured on different machines can be told
 * apart. Prints "syscall_ns N" (getppid(2), a system call that does no work: the
 * kernel entry and exit alone) and "clock_ns N" (clock_gettime(CLOCK_MONOTONIC),
 * answered by the vDSO without entering the kernel), each the median of 9 batches.
 *
 * Why it matters: a guest's host call adds a fixed amount of user-space work to
 * what the kernel does, so its ratio to native shrinks as system calls get dearer;
 * but a host call that needs one system call more than native (path_filestat_get
 * with its inotify check) grows towards 2x. Two machines of one kind here answered
 * fstat(2) natively in ~400 ns and ~1.3 us. Built natively by run.py. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double NowNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int CompareDoubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

enum { kBatches = 9 };

static double MedianNs(int syscalls, int per_batch) {
  double ns[kBatches];
  struct timespec sink;
  for (int b = 0; b < kBatches; ++b) {
    double start = NowNs();
    for (int i = 0; i < per_batch; ++i) {
      if (syscalls) {
        syscall(SYS_getppid);
      } else {
        clock_gettime(CLOCK_MONOTONIC, &sink);
      }
    }
    ns[b] = (NowNs() - start) / per_batch;
  }
  qsort(ns, kBatches, sizeof(ns[0]), CompareDoubles);
  return ns[kBatches / 2];
}

int main(void) {
  printf("syscall_ns %.0f\n", MedianNs(1, 20000));
  printf("clock_ns %.1f\n", MedianNs(0, 200000));
  return 0;
}
