#include "wasm/compile/code_locations.h"

#include <algorithm>

namespace weft::wasm {
namespace {

void PutLeb(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
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

CodeLocations::CodeLocations(std::span<const Pair> pairs) {
  deltas_.reserve(pairs.size() * 2 + 1);
  checkpoints_.reserve(pairs.size() / kStride);
  Pair prev{0, 0};
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Pair& p = pairs[i];
    PutLeb(deltas_, ZigZag(static_cast<int64_t>(p.first) - prev.first));
    PutLeb(deltas_, ZigZag(static_cast<int64_t>(p.second) - prev.second));
    prev = p;
    if ((i + 1) % kStride == 0)
      checkpoints_.push_back(Checkpoint{p.first, p.second, static_cast<uint32_t>(deltas_.size())});
  }
  deltas_.shrink_to_fit();
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
