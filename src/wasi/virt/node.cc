// Shared helpers for in-memory inodes. See node.h.
#include "wasi/virt/node.h"

#include <time.h>

#include <atomic>

namespace weft::wasi::virt {

Timestamp NowRealtime() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec < 0) return 0;
  return static_cast<Timestamp>(ts.tv_sec) * 1000000000ull + static_cast<Timestamp>(ts.tv_nsec);
}

ErrnoOr<void> ApplyTimes(Timestamp atim, Timestamp mtim, Fstflags flags, Timestamp* out_atim,
                         Timestamp* out_mtim) {
  if (flags & ~(kFstAtim | kFstAtimNow | kFstMtim | kFstMtimNow)) return Err(Errno::kInval);
  if ((flags & kFstAtim) && (flags & kFstAtimNow)) return Err(Errno::kInval);
  if ((flags & kFstMtim) && (flags & kFstMtimNow)) return Err(Errno::kInval);
  Timestamp now = (flags & (kFstAtimNow | kFstMtimNow)) ? NowRealtime() : 0;
  if (flags & kFstAtim) *out_atim = atim;
  if (flags & kFstAtimNow) *out_atim = now;
  if (flags & kFstMtim) *out_mtim = mtim;
  if (flags & kFstMtimNow) *out_mtim = now;
  return {};
}

Inode NextInode() {
  static std::atomic<Inode> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

Device NextDevice() {
  // High bits mark weft's in-memory devices so they do not look like host devices.
  static std::atomic<Device> next{1};
  return (Device{0x77656674} << 32) | next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace weft::wasi::virt
