// The host clock behind each WASI clock id, and clock_time_get's fast path. Shared by
// Clocks (ctx.cc), the clock_time_get body and the binding. Stateless, thread-safe.
#pragma once

#include <time.h>

#include <bit>
#include <cstdint>
#include <cstring>

namespace weft::wasi {

// False for an unknown id. Real CPU-time clocks, as the WASI spec defines them
// (wasmtime's preview1 answers EBADF for them; a guest that measures its own CPU time
// is better served by the clock). The thread clock is the host thread running the
// guest, which is the guest's thread.
inline bool HostClockId(uint32_t id, clockid_t* out) {
  // Linux numbers these four as WASI does: the id is the host's (no table to read).
  static_assert(CLOCK_REALTIME == 0 && CLOCK_MONOTONIC == 1 && CLOCK_PROCESS_CPUTIME_ID == 2 &&
                CLOCK_THREAD_CPUTIME_ID == 3);
  if (id > 3) return false;
  *out = static_cast<clockid_t>(id);
  return true;
}

// clock_time_get's common case: a built-in clock (Ctx::host_clocks()), a known id, an
// aligned in-bounds result pointer. Stores the time (little-endian u64) at
// mem[time_out] and returns true; returns false, having changed nothing, whenever the
// general path must answer (errors, an overridden Clocks).
inline bool FastClockTimeGet(bool host_clocks, uint8_t* mem, uint64_t mem_size, uint32_t id,
                             uint32_t time_out) {
  clockid_t host_id;
  if (!host_clocks || !HostClockId(id, &host_id)) return false;
  if ((time_out & 7) != 0 || time_out > mem_size || mem_size - time_out < 8) return false;
  timespec ts;
  if (clock_gettime(host_id, &ts) != 0) return false;
  uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
                 static_cast<uint64_t>(ts.tv_nsec);
  static_assert(std::endian::native == std::endian::little, "the guest ABI is little-endian");
  std::memcpy(mem + time_out, &now, 8);
  return true;
}

}  // namespace weft::wasi
