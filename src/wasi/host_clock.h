// The host clock behind each WASI clock id. Shared by Clocks (ctx.cc) and the
// clock_time_get fast path (preview1/clock.cc). Stateless and thread-safe.
#pragma once

#include <time.h>

#include <cstdint>

namespace weft::wasi {

// False for an unknown id. Real CPU-time clocks, as the WASI spec defines them
// (wasmtime's preview1 answers EBADF for them; a guest that measures its own CPU time
// is better served by the clock). The thread clock is the host thread running the
// guest, which is the guest's thread.
inline bool HostClockId(uint32_t id, clockid_t* out) {
  static constexpr clockid_t kIds[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                       CLOCK_THREAD_CPUTIME_ID};
  if (id >= sizeof(kIds) / sizeof(kIds[0])) return false;
  *out = kIds[id];
  return true;
}

}  // namespace weft::wasi
