/* machine_probe: what this machine charges natively for the two things WASI host
 * calls are made of, so that ratios measured on different machines can be told
 * apart. Prints "syscall_ns N" (getppid(2), a system call that does no work: the
 * kernel entry and exit alone), "clock_ns N" (clock_gettime(CLOCK_MONOTONIC),
 * answered by the vDSO without entering the kernel) and "clock_wasi_ns N" (the same
 * read in the shape WASI imposes on it, still native: see ClockThroughWasiShape),
 * each the median of 9 batches.
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

/* clock_time_get hands the guest a u64 of nanoseconds through a pointer, and the
 * guest's libc divides it back into a timespec: the host's multiply-add and the
 * guest's division come after the clock read, which waits for all that came before
 * it (rdtscp). This is that work in native code, calls kept apart as in a runtime:
 * the floor under weft's ratio on the clock benchmark. */
__attribute__((noinline)) static int HostClockTimeGet(clockid_t id, unsigned long long* out) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return 28;
  *out = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
  return 0;
}
struct WasiTimespec {
  long long tv_sec;
  int tv_nsec;
};
__attribute__((noinline)) static int ClockThroughWasiShape(struct WasiTimespec* ts) {
  unsigned long long t;
  if (HostClockTimeGet(CLOCK_MONOTONIC, &t) != 0) return -1;
  ts->tv_sec = (long long)(t / 1000000000ull);
  ts->tv_nsec = (int)(t % 1000000000ull);
  return 0;
}

enum Probe { kSyscall, kClock, kClockWasi };

static double MedianNs(enum Probe probe, int per_batch) {
  double ns[kBatches];
  struct timespec sink;
  struct WasiTimespec wasi_sink;
  for (int b = 0; b < kBatches; ++b) {
    double start = NowNs();
    for (int i = 0; i < per_batch; ++i) {
      switch (probe) {
        case kSyscall: syscall(SYS_getppid); break;
        case kClock: clock_gettime(CLOCK_MONOTONIC, &sink); break;
        case kClockWasi: ClockThroughWasiShape(&wasi_sink); break;
      }
    }
    ns[b] = (NowNs() - start) / per_batch;
  }
  qsort(ns, kBatches, sizeof(ns[0]), CompareDoubles);
  return ns[kBatches / 2];
}

int main(void) {
  printf("syscall_ns %.0f\n", MedianNs(kSyscall, 20000));
  printf("clock_ns %.1f\n", MedianNs(kClock, 200000));
  printf("clock_wasi_ns %.1f\n", MedianNs(kClockWasi, 200000));
  return 0;
}
