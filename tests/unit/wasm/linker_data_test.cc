// Active data segments of 8 KiB and more have their pages populated before the copy
// (base/populate.h, start-up): the bytes must land exactly where the segment says, the
// bytes around them stay zero, and an out-of-bounds segment still traps after the
// earlier segments were written.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime_wat.h"
#include "wasm/runtime/store_impl.h"

namespace weft::wasm {
namespace {

using testing::ParseWat;

uint8_t PatternByte(size_t i) { return static_cast<uint8_t>(i * 7 + 3); }

// `(data (i32.const OFFSET) "...")` of `size` pattern bytes.
std::string DataSegment(uint32_t offset, size_t size) {
  static const char kHex[] = "0123456789abcdef";
  std::string s = "(data (i32.const " + std::to_string(offset) + ") \"";
  for (size_t i = 0; i < size; ++i) {
    uint8_t b = PatternByte(i);
    s += '\\';
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s + "\")";
}

// Instantiates `wat` in `store` with an empty linker.
Result<Instance*, InstantiateError> InstantiateWat(Store& store, const std::string& wat) {
  auto m = ParseWat(wat);
  if (m == nullptr) {
    InstantiateError e;
    e.link = Diag{0, "the test's WAT did not parse"};
    return Err(std::move(e));
  }
  return Linker().Instantiate(store, m);
}

TEST(LinkerDataSegments, LargeSegmentsLandExactly) {
  // 20,000 bytes from offset 4,000 (across six pages, neither end page-aligned), then a
  // small one, then one ending at the memory's last byte.
  constexpr uint32_t kMemBytes = 2 * 65536;
  std::string wat = "(module (memory (export \"memory\") 2) " + DataSegment(4000, 20000) +
                    DataSegment(30000, 10) + DataSegment(kMemBytes - 9000, 9000) + ")";
  Store store;
  auto inst = InstantiateWat(store, wat);
  ASSERT_TRUE(inst.ok());
  MemInst* mem = (*inst)->GetMemory("memory");
  ASSERT_NE(mem, nullptr);
  ASSERT_EQ(mem->size, kMemBytes);
  std::vector<uint8_t> want(kMemBytes, 0);
  for (size_t i = 0; i < 20000; ++i) want[4000 + i] = PatternByte(i);
  for (size_t i = 0; i < 10; ++i) want[30000 + i] = PatternByte(i);
  for (size_t i = 0; i < 9000; ++i) want[kMemBytes - 9000 + i] = PatternByte(i);
  size_t mismatches = 0, first = kMemBytes;
  for (size_t i = 0; i < kMemBytes; ++i) {
    if (mem->data[i] != want[i]) {
      ++mismatches;
      if (first == kMemBytes) first = i;
    }
  }
  EXPECT_EQ(mismatches, 0u) << "first differing byte at " << first;
}

TEST(LinkerDataSegments, OutOfBoundsLargeSegmentTrapsAfterEarlierWrites) {
  // The second segment runs one byte past the end of the one-page memory.
  std::string wat = "(module (memory (export \"memory\") 1) " + DataSegment(0, 12000) +
                    DataSegment(65536 - 9999, 10000) + ")";
  Store store;
  auto inst = InstantiateWat(store, wat);
  ASSERT_FALSE(inst.ok());
  ASSERT_EQ(inst.error().kind, InstantiateError::Kind::kTrap);
  EXPECT_EQ(inst.error().trap.kind, TrapKind::kMemoryOutOfBounds);
  // The memory outlives the failed instantiation in the store, with the first segment
  // written and nothing of the second (spec 4.5.4: earlier writes stay).
  ASSERT_EQ(store.objects().memories.size(), 1u);
  const MemInst& mem = *store.objects().memories[0];
  for (size_t i = 0; i < 12000; ++i) ASSERT_EQ(mem.data[i], PatternByte(i)) << "at " << i;
  for (size_t i = 12000; i < 65536; ++i) ASSERT_EQ(mem.data[i], 0) << "at " << i;
}

}  // namespace
}  // namespace weft::wasm
