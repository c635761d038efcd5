// clock_res_get, clock_time_get (all four clocks), random_get, sched_yield, and the
// libc calls built on them (clock_gettime, time, getentropy, sched_yield).
//
// OUT: ok clock_res_get REALTIME
// OUT: ok clock_res_get MONOTONIC
// OUT: ok clock_time_get REALTIME is after 2020
// OUT: ok clock_time_get REALTIME close to libc time()
// OUT: ok clock_time_get MONOTONIC never goes back
// OUT: ok clock_time_get MONOTONIC advances
// OUT: ok clock PROCESS_CPUTIME
// OUT: ok clock THREAD_CPUTIME
// OUT: ok clock_res_get bad id EINVAL
// OUT: ok clock_time_get bad id EINVAL
// OUT: ok clock_gettime CLOCK_MONOTONIC
// OUT: ok random_get 4096 bytes
// OUT: ok random_get not all zero
// OUT: ok random_get twice differs
// OUT: ok random_get length 0
// OUT: ok random_get large buffer
// OUT: ok getentropy
// OUT: ok sched_yield
// OUT: ok libc sched_yield
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "wasi_test.h"

static void CheckCpuClock(__wasi_clockid_t id, const char* label) {
  // weft exposes both CPU-time clocks (wasmtime's preview1 answers EBADF instead): a
  // positive resolution, and a time that does not go back and advances with busy work.
  __wasi_timestamp_t res = 0, t1 = 0, t2 = 0;
  int e = __wasi_clock_res_get(id, &res);
  if (e != 0 || res == 0) FAIL(label, "res_get: %s res=%llu", ErrName(e), res);
  if (__wasi_clock_time_get(id, 1, &t1)) FAIL(label, "time_get failed");
  volatile unsigned long spin = 0;
  do {
    for (int i = 0; i < 100000; i++) spin += i;
    if (__wasi_clock_time_get(id, 1, &t2)) FAIL(label, "time_get failed");
    if (t2 < t1) FAIL(label, "went back %llu < %llu", t2, t1);
  } while (t2 - t1 < 1000000ull);  // 1 ms of CPU time
  OK(label);
}

int main(void) {
  __wasi_timestamp_t res = 0;
  EXPECT_OK(__wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res), "clock_res_get REALTIME");
  if (res == 0 || res > 1000000000ull) FAIL("res", "realtime resolution %llu", res);
  EXPECT_OK(__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res), "clock_res_get MONOTONIC");
  if (res == 0 || res > 1000000000ull) FAIL("res", "monotonic resolution %llu", res);

  __wasi_timestamp_t now = 0;
  if (__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now)) FAIL("realtime", "failed");
  CHECK(now > 1577836800ull * 1000000000ull, "clock_time_get REALTIME is after 2020");
  time_t t = time(NULL);
  long long diff = (long long)(now / 1000000000ull) - (long long)t;
  CHECK(diff >= -2 && diff <= 2, "clock_time_get REALTIME close to libc time()");

  __wasi_timestamp_t m1 = 0, m2 = 0;
  if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &m1)) FAIL("monotonic", "failed");
  for (int i = 0; i < 1000; i++) {
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &m2)) FAIL("monotonic", "failed");
    if (m2 < m1) FAIL("monotonic", "went back %llu < %llu", m2, m1);
  }
  OK("clock_time_get MONOTONIC never goes back");
  // A 5 ms sleep (poll_oneoff underneath) must show on the monotonic clock.
  struct timespec ts = {0, 5 * 1000 * 1000};
  nanosleep(&ts, NULL);
  if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &m2)) FAIL("monotonic", "failed");
  CHECK(m2 - m1 >= 5000000ull, "clock_time_get MONOTONIC advances");

  CheckCpuClock(__WASI_CLOCKID_PROCESS_CPUTIME_ID, "clock PROCESS_CPUTIME");
  CheckCpuClock(__WASI_CLOCKID_THREAD_CPUTIME_ID, "clock THREAD_CPUTIME");
  EXPECT_ERRNO(__wasi_clock_res_get(4, &res), __WASI_ERRNO_INVAL, "clock_res_get bad id EINVAL");
  EXPECT_ERRNO(__wasi_clock_time_get(99, 1, &now), __WASI_ERRNO_INVAL,
               "clock_time_get bad id EINVAL");

  struct timespec a, b;
  if (clock_gettime(CLOCK_MONOTONIC, &a) || clock_gettime(CLOCK_MONOTONIC, &b))
    FAIL("clock_gettime", "failed");
  CHECK(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec),
        "clock_gettime CLOCK_MONOTONIC");

  static uint8_t buf1[4096], buf2[4096];
  EXPECT_OK(__wasi_random_get(buf1, sizeof buf1), "random_get 4096 bytes");
  int nonzero = 0;
  for (size_t i = 0; i < sizeof buf1; i++) nonzero += buf1[i] != 0;
  // 4096 random bytes have ~4080 non-zero ones; a buffer left alone has none.
  CHECK(nonzero > 3900, "random_get not all zero");
  if (__wasi_random_get(buf2, sizeof buf2)) FAIL("random_get", "second call failed");
  CHECK(memcmp(buf1, buf2, sizeof buf1) != 0, "random_get twice differs");
  // A zero-length request at the very end of memory is fine: nothing is touched.
  EXPECT_OK(__wasi_random_get(buf1, 0), "random_get length 0");
  uint8_t* big = malloc(1 << 20);
  memset(big, 0, 1 << 20);
  if (__wasi_random_get(big, 1 << 20)) FAIL("random_get large buffer", "failed");
  nonzero = 0;
  for (size_t i = (1 << 20) - 4096; i < (1 << 20); i++) nonzero += big[i] != 0;
  CHECK(nonzero > 3900, "random_get large buffer");
  uint8_t ent[32] = {0};
  CHECK(getentropy(ent, sizeof ent) == 0, "getentropy");

  EXPECT_OK(__wasi_sched_yield(), "sched_yield");
  CHECK(sched_yield() == 0, "libc sched_yield");
  return 0;
}
