// Byte counts of guest buffer lists, for the in-memory handles (MemFile, Channel ends).
// Internal to weft_wasi; stateless and thread-safe.
#pragma once

#include <cstddef>
#include <limits>
#include <span>

namespace weft::wasi::virt {

// The total length of `iovs` (IoVec or ConstIoVec), saturated at SIZE_MAX instead of
// wrapping around.
template <class V>
size_t TotalLen(std::span<V> iovs) {
  size_t total = 0;
  for (const auto& v : iovs) {
    if (v.len > std::numeric_limits<size_t>::max() - total) return std::numeric_limits<size_t>::max();
    total += v.len;
  }
  return total;
}

}  // namespace weft::wasi::virt
