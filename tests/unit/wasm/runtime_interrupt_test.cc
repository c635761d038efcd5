// Interrupting a running guest from another thread.
#include <chrono>
#include <thread>

#include "runtime_wat.h"

namespace weft::wasm {
namespace {

using testing::Instantiate;

constexpr char kLoops[] = R"(
(module
  (func (export "spin") (loop (br 0)))
  (func $noop)
  (func $id (param i32) (result i32) local.get 0)
  ;; a loop whose body only calls: interrupted at the call or the back-edge
  (func (export "calls") (loop (call $noop) (br 0)))
  (func (export "ok") (result i32) i32.const 5 call $id))
)";

void InterruptSoon(Store& store) {
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  store.Interrupt();
}

TEST(RuntimeInterrupt, InfiniteLoopIsInterruptedFromAnotherThread) {
  Store store;
  Instance* inst = Instantiate(store, kLoops);
  ASSERT_NE(inst, nullptr);
  std::thread t(InterruptSoon, std::ref(store));
  auto r = Invoke(store, inst->GetFunc("spin"), {});
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kInterrupted);
  EXPECT_EQ(r.error().Message(), "interrupted");
}

TEST(RuntimeInterrupt, LoopOfCallsIsInterrupted) {
  Store store;
  Instance* inst = Instantiate(store, kLoops);
  ASSERT_NE(inst, nullptr);
  std::thread t(InterruptSoon, std::ref(store));
  auto r = Invoke(store, inst->GetFunc("calls"), {});
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kInterrupted);
}

TEST(RuntimeInterrupt, FlagStaysSetUntilCleared) {
  Store store;
  Instance* inst = Instantiate(store, kLoops);
  ASSERT_NE(inst, nullptr);
  store.Interrupt();
  auto r = Invoke(store, inst->GetFunc("ok"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kInterrupted);
  store.ClearInterrupt();
  auto ok = Invoke(store, inst->GetFunc("ok"), {});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].i32(), 5u);
}

}  // namespace
}  // namespace weft::wasm
