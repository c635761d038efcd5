// Limits: call depth, slot stack (the store's or the embedder's), memory and table growth.
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "runtime_wat.h"

namespace weft::wasm {
namespace {

using testing::Instantiate;

constexpr char kRecursion[] = R"(
(module
  (func $down (export "down") (param i32) (result i32)
    local.get 0 i32.eqz
    if (result i32) i32.const 0
    else local.get 0 i32.const 1 i32.sub call $down i32.const 1 i32.add end)
  (func $forever (export "forever") (param i32) (result i32)
    local.get 0 call $forever)
  ;; a frame with many locals exhausts the slot stack before the depth limit
  (func $fat (export "fat") (param i32) (result i32)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    local.get 0 call $fat)
)
)";

TEST(RuntimeLimits, DeepRecursionWithinLimitSucceeds) {
  Store store;
  Instance* inst = Instantiate(store, kRecursion);
  ASSERT_NE(inst, nullptr);
  Value arg = Value::I32(15000);
  auto r = Invoke(store, inst->GetFunc("down"), {&arg, 1});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ((*r)[0].i32(), 15000u);
}

TEST(RuntimeLimits, InfiniteRecursionIsCallStackExhausted) {
  Store store;
  Instance* inst = Instantiate(store, kRecursion);
  ASSERT_NE(inst, nullptr);
  Value arg = Value::I32(1);
  auto r = Invoke(store, inst->GetFunc("forever"), {&arg, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kCallStackExhausted);
  EXPECT_EQ(r.error().Message(), "call stack exhausted");
  // The store is usable afterwards: the frame stack was unwound.
  arg = Value::I32(100);
  auto again = Invoke(store, inst->GetFunc("down"), {&arg, 1});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].i32(), 100u);
}

TEST(RuntimeLimits, SlotStackExhaustionIsATrapNotACrash) {
  Store store;
  Instance* inst = Instantiate(store, kRecursion);
  ASSERT_NE(inst, nullptr);
  Value arg = Value::I32(0);
  auto r = Invoke(store, inst->GetFunc("fat"), {&arg, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kCallStackExhausted);
}

// For a store with max_call_depth 50: 40 nested calls return, 60 are too deep.
void ExpectCallDepthLimitOf50(Store& store, Instance* inst) {
  Value arg = Value::I32(40);
  auto ok = Invoke(store, inst->GetFunc("down"), {&arg, 1});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].i32(), 40u);
  arg = Value::I32(60);
  auto deep = Invoke(store, inst->GetFunc("down"), {&arg, 1});
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().kind, TrapKind::kCallStackExhausted);
}

TEST(RuntimeLimits, MaxCallDepthIsConfigurable) {
  StoreLimits limits;
  limits.max_call_depth = 50;
  Store store(limits);
  Instance* inst = Instantiate(store, kRecursion);
  ASSERT_NE(inst, nullptr);
  ExpectCallDepthLimitOf50(store, inst);
}

// Stacks the embedder provides (Store::UseExecStacks): filled with a pattern, since they
// need not be zero; a call writes frames at the start and slots after the frame region.
struct ProvidedStacks {
  explicit ProvidedStacks(size_t bytes) : bytes(bytes) {
    memory = static_cast<uint8_t*>(std::aligned_alloc(4096, bytes));
    std::memset(memory, 0xAB, bytes);
  }
  ~ProvidedStacks() { std::free(memory); }
  bool Untouched(size_t from, size_t len) const {
    for (size_t i = from; i < from + len; ++i)
      if (memory[i] != 0xAB) return false;
    return true;
  }
  uint8_t* memory;
  size_t bytes;
};

TEST(RuntimeLimits, ProvidedStacksHoldTheFramesAndSlots) {
  StoreLimits limits;
  limits.max_call_depth = 50;
  ProvidedStacks stacks(ExecStackBytes(limits.max_call_depth));
  Store store(limits);
  store.UseExecStacks(stacks.memory, stacks.bytes);
  Instance* inst = Instantiate(store, kRecursion);
  ASSERT_NE(inst, nullptr);
  ExpectCallDepthLimitOf50(store, inst);  // as with the store's own stacks
  const size_t slots_at = ExecFrameRegionBytes(limits.max_call_depth);
  EXPECT_FALSE(stacks.Untouched(0, 40 * kExecFrameBytes));  // the nested calls' frames
  EXPECT_FALSE(stacks.Untouched(slots_at, 8));                // the argument slot
  Value arg = Value::I32(0);
  auto fat = Invoke(store, inst->GetFunc("fat"), {&arg, 1});
  ASSERT_FALSE(fat.ok());
  EXPECT_EQ(fat.error().kind, TrapKind::kCallStackExhausted);
}

TEST(RuntimeLimits, ProvidedStacksTooSmallOrTooLateAreNotUsed) {
  ProvidedStacks small(ExecStackBytes(StoreLimits{}.max_call_depth) - 4096);
  Store store;
  store.UseExecStacks(small.memory, small.bytes);
  Instance* inst = Instantiate(store, kRecursion);
  ASSERT_NE(inst, nullptr);
  Value arg = Value::I32(40);
  ASSERT_TRUE(Invoke(store, inst->GetFunc("down"), {&arg, 1}).ok());
  EXPECT_TRUE(small.Untouched(0, small.bytes));

  ProvidedStacks late(ExecStackBytes(StoreLimits{}.max_call_depth));
  store.UseExecStacks(late.memory, late.bytes);  // after the first call: its stacks stay
  ASSERT_TRUE(Invoke(store, inst->GetFunc("down"), {&arg, 1}).ok());
  EXPECT_TRUE(late.Untouched(0, late.bytes));
}

// A free range for Store::PlaceNextMemoryAt: mapped, then unmapped again.
uint8_t* FreeRange(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  munmap(p, bytes);
  return static_cast<uint8_t*>(p);
}

TEST(RuntimeLimits, NextMemoryGoesWhereAskedWhenFree) {
  uint8_t* free_at = FreeRange((9ull << 30));
  ASSERT_NE(free_at, nullptr);
  Store store;
  store.PlaceNextMemoryAt(free_at);
  MemInst* first = store.CreateMemory(MemoryType{Limits{1, 2}});
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->data, free_at);
  first->data[65535] = 7;  // committed as usual
  MemInst* second = store.CreateMemory(MemoryType{Limits{1, 2}});  // the request is used up
  ASSERT_NE(second, nullptr);
  EXPECT_NE(second->data, free_at);
}

TEST(RuntimeLimits, NextMemoryGoesElsewhereWhenTheRangeIsTaken) {
  void* taken = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(taken, MAP_FAILED);
  Store store;
  store.PlaceNextMemoryAt(taken);
  MemInst* m = store.CreateMemory(MemoryType{Limits{1, 2}});
  ASSERT_NE(m, nullptr);
  EXPECT_NE(m->data, taken);
  m->data[0] = 1;
  EXPECT_EQ(static_cast<uint8_t*>(taken)[0], 0);  // the existing mapping is left alone
  munmap(taken, 4096);
}

constexpr char kMemory[] = R"(
(module
  (memory (export "memory") 1 4)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
)
)";

int32_t CallI32(Store& store, Instance* inst, const char* name, std::vector<Value> args) {
  auto r = Invoke(store, inst->GetFunc(name), args);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() && !r->empty() ? static_cast<int32_t>((*r)[0].i32()) : -999;
}

TEST(RuntimeLimits, MemoryGrowRespectsModuleMax) {
  Store store;
  Instance* inst = Instantiate(store, kMemory);
  ASSERT_NE(inst, nullptr);
  MemInst* mem = inst->GetMemory("memory");
  uint8_t* data = mem->data;
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(2)}), 1);
  EXPECT_EQ(CallI32(store, inst, "size", {}), 3);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(2)}), -1);  // 5 > max 4
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(1)}), 3);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(0)}), 4);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(1)}), -1);
  EXPECT_EQ(mem->data, data);  // growing never moves memory
  EXPECT_EQ(mem->size, 4u * 65536);
  // The grown pages are usable, the byte past the end is not.
  CallI32(store, inst, "store", {Value::I32(4 * 65536 - 4), Value::I32(77)});
  EXPECT_EQ(CallI32(store, inst, "load", {Value::I32(4 * 65536 - 4)}), 77);
  Value a = Value::I32(4 * 65536 - 3);
  auto r = Invoke(store, inst->GetFunc("load"), {&a, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kMemoryOutOfBounds);
}

TEST(RuntimeLimits, MemoryGrowRespectsStoreLimit) {
  StoreLimits limits;
  limits.max_memory_pages = 2;
  Store store(limits);
  Instance* inst = Instantiate(store, R"(
    (module (memory 1) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))
  )");
  ASSERT_NE(inst, nullptr);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(1)}), 1);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(1)}), -1);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(70000)}), -1);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(-1)}), -1);
}

TEST(RuntimeLimits, TableGrowRespectsMaxAndStoreLimit) {
  StoreLimits limits;
  limits.max_table_elements = 5;
  Store store(limits);
  Instance* inst = Instantiate(store, R"(
    (module (table $t 1 10 funcref)
      (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow $t)
      (func (export "size") (result i32) table.size $t))
  )");
  ASSERT_NE(inst, nullptr);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(3)}), 1);
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(2)}), -1);  // 6 > store limit 5
  EXPECT_EQ(CallI32(store, inst, "grow", {Value::I32(1)}), 4);
  EXPECT_EQ(CallI32(store, inst, "size", {}), 5);
}

}  // namespace
}  // namespace weft::wasm
