#include "wasm/compile/code_locations.h"

#include <algorithm>
#include <bit>

namespace weft::wasm {
namespace {

size_t LebSize(uint64_t v) { return v < 0x80 ? 1 : 1 + (std::bit_width(v) - 1) / 7; }

uint8_t* PutLeb(uint8_t* out, uint64_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<uint8_t>(v);
  return out;
}

uint64_t GetLeb(const uint8_t*& p) {
  uint64_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) return v;
  }
}

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace

// Two passes, sizing then writing, so that deltas_ is allocated once at its final size
// (byte-by-byte push_back and a shrink_to_fit were ~12% of compiling hello.wasm back when
// every translation built its table; now only a trap does, see CodeOffsetAt).
CodeLocations::CodeLocations(std::span<const Pair> pairs) {
  auto delta = [](uint32_t now, uint32_t before) {
    return ZigZag(static_cast<int64_t>(now) - static_cast<int64_t>(before));
  };
  size_t size = 0;
  Pair prev{0, 0};
  for (const Pair& p : pairs) {
    size += LebSize(delta(p.first, prev.first)) + LebSize(delta(p.second, prev.second));
    prev = p;
  }
  deltas_.resize(size);
  checkpoints_.reserve(pairs.size() / kStride);
  uint8_t* out = deltas_.data();
  prev = {0, 0};
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Pair& p = pairs[i];
    out = PutLeb(out, delta(p.first, prev.first));
    out = PutLeb(out, delta(p.second, prev.second));
    prev = p;
    if ((i + 1) % kStride == 0)
      checkpoints_.push_back(
          Checkpoint{p.first, p.second, static_cast<uint32_t>(out - deltas_.data())});
  }
}

uint32_t CodeLocations::At(size_t code_index) const {
  // Start from the last checkpoint at or before code_index, else from the beginning.
  auto after = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), code_index,
                                [](size_t i, const Checkpoint& c) { return i < c.code_index; });
  uint64_t at = 0, offset = 0, result = 0;
  const uint8_t* p = deltas_.data();
  if (after != checkpoints_.begin()) {
    const Checkpoint& c = *(after - 1);
    at = c.code_index;
    offset = result = c.offset;
    p += c.pos;
  }
  const uint8_t* end = deltas_.data() + deltas_.size();
  while (p < end) {
    at += UnZigZag(GetLeb(p));
    offset += UnZigZag(GetLeb(p));
    if (at > code_index) break;
    result = offset;
  }
  return static_cast<uint32_t>(result);
}

}  // namespace weft::wasm
