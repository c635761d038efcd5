// Where each instruction of a function's internal code came from in the module: what a
// trap's backtrace prints. Looked up only when a trap is built, so it is kept small
// rather than fast: about 2 bytes per instruction instead of the 8 of a plain
// (code index, byte offset) pair, which made it bigger than the internal code itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace weft::wasm {

class CodeLocations {
 public:
  // (code index, module byte offset) pairs, ascending by code index. An instruction's
  // location is that of the last pair at or before its code index.
  using Pair = std::pair<uint32_t, uint32_t>;
  CodeLocations() = default;
  explicit CodeLocations(std::span<const Pair> pairs);

  // The byte offset of the instruction at `code_index`; 0 before the first pair.
  uint32_t At(size_t code_index) const;
  size_t bytes() const { return deltas_.capacity() + checkpoints_.capacity() * sizeof(Checkpoint); }

 private:
  // Every kStride-th pair is also kept whole, with where its successor's deltas start, so
  // a lookup decodes at most kStride pairs. A function with fewer pairs has none.
  static constexpr size_t kStride = 64;
  struct Checkpoint {
    uint32_t code_index;
    uint32_t offset;
    uint32_t pos;  // in deltas_, of the next pair
  };
  // Each pair as two LEB128s: the code index's growth, then the byte offset's change
  // (zigzag: the compiler only ever moves forward, but nothing here depends on it).
  std::vector<uint8_t> deltas_;
  std::vector<Checkpoint> checkpoints_;
};

}  // namespace weft::wasm
