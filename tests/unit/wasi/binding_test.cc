// The engine binding: wasm signatures of every import, guest memory through Caller,
// traps and exit codes coming back through the engine, and contexts/tables shared by
// instances running on several threads.
#include "weft/wasi/binding.h"

#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "../wasm/runtime_wat.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/pipe.h"
#include "weft/wasi/preview1.h"
#include "weft/wasi/virtual_fs.h"

namespace weft::wasi {
namespace {

using wasm::ValType;
using wasm::testing::Instantiate;

std::shared_ptr<Ctx> MakeCtx(std::shared_ptr<WritePipe> out, std::shared_ptr<wasi::Table> table = nullptr) {
  CtxBuilder b;
  b.Stdout(out).Arg("m.wasm");
  if (table) b.Table(table);
  auto ctx = b.Build();
  EXPECT_TRUE(ctx.ok());
  return *ctx;
}

TEST(BindingTest, EveryFunctionIsDefinedWithItsWasmType) {
  wasm::Store store;
  wasm::Linker linker;
  AddToLinker(linker, store, MakeCtx(std::make_shared<WritePipe>()));
  for (const Preview1Function& f : Preview1Functions()) {
    auto ext = linker.Get("wasi_snapshot_preview1", f.name);
    ASSERT_TRUE(ext.has_value()) << f.name;
    ASSERT_NE(ext->func(), nullptr) << f.name;
  }
  auto type = [&](const char* name) { return *linker.Get("wasi_snapshot_preview1", name)->func()->type; };
  using V = std::vector<ValType>;
  const ValType I = ValType::kI32, L = ValType::kI64;
  EXPECT_EQ(type("fd_seek"), (wasm::FuncType{V{I, L, I, I}, V{I}}));
  EXPECT_EQ(type("proc_exit"), (wasm::FuncType{V{I}, V{}}));
  EXPECT_EQ(type("path_open"), (wasm::FuncType{V{I, I, I, I, I, L, L, I, I}, V{I}}));
  EXPECT_EQ(type("clock_time_get"), (wasm::FuncType{V{I, L, I}, V{I}}));
  EXPECT_EQ(type("fd_filestat_set_times"), (wasm::FuncType{V{I, L, L, I}, V{I}}));
  EXPECT_EQ(type("path_filestat_set_times"), (wasm::FuncType{V{I, I, I, I, L, L, I}, V{I}}));
  EXPECT_EQ(type("fd_pwrite"), (wasm::FuncType{V{I, I, I, L, I}, V{I}}));
  EXPECT_EQ(type("sched_yield"), (wasm::FuncType{V{}, V{I}}));
}

constexpr const char* kHelloWat = R"(
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (func (export "hello") (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func (export "nwritten") (result i32) (i32.load (i32.const 8)))
  (func (export "wild") (result i32)
    (i32.store (i32.const 0) (i32.const 65534))
    (i32.store (i32.const 4) (i32.const 3))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func $deep (param i32)
    (if (i32.eqz (local.get 0)) (then (call $proc_exit (i32.const 42))))
    (call $deep (i32.sub (local.get 0) (i32.const 1))))
  (func (export "exit_deep") (call $deep (i32.const 10)))
  (func (export "seek_stdout") (result i32)
    (call $fd_seek (i32.const 1) (i64.const -1) (i32.const 0) (i32.const 24))))
)";

TEST(BindingTest, CallsReachTheContextThroughTheCallersMemory) {
  wasm::Store store;
  wasm::Linker linker;
  auto out = std::make_shared<WritePipe>();
  AddToLinker(linker, store, MakeCtx(out));
  wasm::Instance* inst = Instantiate(store, kHelloWat, linker);
  ASSERT_NE(inst, nullptr);
  auto r = wasm::Invoke(store, inst->GetFunc("hello"), {});
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ((*r)[0].i32(), 0u);
  EXPECT_EQ(out->Contents(), "hi\n");
  EXPECT_EQ((*wasm::Invoke(store, inst->GetFunc("nwritten"), {}))[0].i32(), 3u);
  // An i64 argument arrives intact (and stdout, a pipe here, cannot seek).
  EXPECT_EQ((*wasm::Invoke(store, inst->GetFunc("seek_stdout"), {}))[0].i32(),
            static_cast<uint32_t>(Errno::kSpipe));
}

TEST(BindingTest, WildPointerTrapsAndProcExitUnwinds) {
  wasm::Store store;
  wasm::Linker linker;
  auto out = std::make_shared<WritePipe>();
  auto ctx = MakeCtx(out);
  AddToLinker(linker, store, ctx);
  wasm::Instance* inst = Instantiate(store, kHelloWat, linker);
  ASSERT_NE(inst, nullptr);
  auto r = wasm::Invoke(store, inst->GetFunc("wild"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, wasm::TrapKind::kHost);
  EXPECT_EQ(r.error().detail.rfind("fd_write: out of bounds", 0), 0u) << r.error().detail;
  EXPECT_EQ(out->Contents(), "");
  auto e = wasm::Invoke(store, inst->GetFunc("exit_deep"), {});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, wasm::TrapKind::kExit);
  EXPECT_EQ(e.error().exit_code, 42);
  EXPECT_EQ(ctx->exit_code(), 42);
}

TEST(BindingTest, ModuleWithoutMemoryTrapsOnPointers) {
  wasm::Store store;
  wasm::Linker linker;
  AddToLinker(linker, store, MakeCtx(std::make_shared<WritePipe>()));
  wasm::Instance* inst = Instantiate(store, R"(
    (module
      (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
      (func (export "f") (result i32) (call $r (i32.const 0) (i32.const 4))))
  )", linker);
  ASSERT_NE(inst, nullptr);
  auto r = wasm::Invoke(store, inst->GetFunc("f"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail.rfind("random_get: out of bounds", 0), 0u);
}

constexpr const char* kClockWat = R"(
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $t (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "now") (param $id i32) (param $ptr i32) (result i32)
    (call $t (local.get $id) (i64.const 1) (local.get $ptr)))
  (func (export "at") (param $ptr i32) (result i64) (i64.load (local.get $ptr)))
  ;; n calls from one loop (native code once hot); the sum of their errnos
  (func (export "now_loop") (param $id i32) (param $ptr i32) (param $n i32) (result i32)
    (local $sum i32)
    (block $done (loop $l
      local.get $n i32.eqz br_if $done
      (local.set $sum (i32.add (local.get $sum)
                               (call $t (local.get $id) (i64.const 1) (local.get $ptr))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      br $l))
    local.get $sum))
)";

class FixedRealtime : public Clocks {
 public:
  ErrnoOr<Timestamp> Now(Clockid id) override {
    if (id == Clockid::kRealtime) return Timestamp{1234567890123456789ull};
    return Clocks::Now(id);
  }
};

// clock_time_get has its own host function (a fast path); every case it does not take
// must still answer as the generic path does.
TEST(BindingTest, ClockTimeGetFastAndGeneralPaths) {
  auto run = [](std::shared_ptr<Ctx> ctx, auto check) {
    wasm::Store store;
    wasm::Linker linker;
    AddToLinker(linker, store, ctx);
    wasm::Instance* inst = Instantiate(store, kClockWat, linker);
    ASSERT_NE(inst, nullptr);
    auto now = [&](uint32_t id, uint32_t ptr) {
      std::vector<wasm::Value> args{wasm::Value::I32(id), wasm::Value::I32(ptr)};
      return wasm::Invoke(store, inst->GetFunc("now"), args);
    };
    auto at = [&](uint32_t ptr) {
      std::vector<wasm::Value> args{wasm::Value::I32(ptr)};
      return (*wasm::Invoke(store, inst->GetFunc("at"), args))[0].i64();
    };
    check(now, at);
  };
  auto out = std::make_shared<WritePipe>();
  run(MakeCtx(out), [](auto now, auto at) {
    timespec before;
    clock_gettime(CLOCK_MONOTONIC, &before);
    auto r = now(1, 64);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].i32(), 0u);
    uint64_t b = static_cast<uint64_t>(before.tv_sec) * 1000000000ull + before.tv_nsec;
    EXPECT_GE(at(64), b);
    EXPECT_LT(at(64), b + 60ull * 1000000000ull);
    EXPECT_EQ((*now(4, 64))[0].i32(), static_cast<uint32_t>(Errno::kInval));
    auto mis = now(1, 68);
    ASSERT_FALSE(mis.ok());
    EXPECT_EQ(mis.error().detail.rfind("clock_time_get: misaligned", 0), 0u) << mis.error().detail;
    auto oob = now(1, 65536);
    ASSERT_FALSE(oob.ok());
    EXPECT_EQ(oob.error().detail.rfind("clock_time_get: out of bounds", 0), 0u)
        << oob.error().Message();
    EXPECT_EQ((*now(1, 65536 - 8))[0].i32(), 0u);  // the last 8 bytes are in bounds
  });
  // An overridden Clocks is asked.
  auto custom = CtxBuilder().Clocks(std::make_shared<FixedRealtime>()).Build();
  ASSERT_TRUE(custom.ok());
  run(*custom, [](auto now, auto at) {
    EXPECT_EQ((*now(0, 8))[0].i32(), 0u);
    EXPECT_EQ(at(8), 1234567890123456789ull);
  });
  // Tracing sees the call.
  std::vector<std::string> lines;
  auto traced = CtxBuilder().Trace([&](std::string_view l) { lines.emplace_back(l); }).Build();
  ASSERT_TRUE(traced.ok());
  run(*traced, [](auto now, auto) { EXPECT_EQ((*now(1, 16))[0].i32(), 0u); });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "clock_time_get(0x1, 1, 0x10) -> 0");
}

// The same paths from native code, which calls the leaf form first (HostLeafPtr): it
// answers the common case, and declines while tracing, for an overridden Clocks and for a
// bad pointer, so the full call answers those exactly as it does for the interpreter.
TEST(BindingTest, ClockTimeGetFromNativeCodeTakesTheSamePaths) {
  auto run_loop = [](std::shared_ptr<Ctx> ctx, uint32_t id, uint32_t ptr, uint32_t n,
                     uint64_t* stored) {
    wasm::Store store;
    wasm::Linker linker;
    AddToLinker(linker, store, ctx);
    wasm::Instance* inst = Instantiate(store, kClockWat, linker);
    EXPECT_NE(inst, nullptr);
    std::vector<wasm::Value> args{wasm::Value::I32(id), wasm::Value::I32(ptr), wasm::Value::I32(n)};
    auto r = wasm::Invoke(store, inst->GetFunc("now_loop"), args);
    if (stored != nullptr && ptr + 8 <= 65536) {
      std::memcpy(stored, inst->memories[0]->data + ptr, 8);
    }
    return r;
  };
  constexpr uint32_t kCalls = 400;  // past the JIT's threshold (100 back-edges)
  auto out = std::make_shared<WritePipe>();
  timespec before;
  clock_gettime(CLOCK_MONOTONIC, &before);
  uint64_t t = 0;
  auto r = run_loop(MakeCtx(out), 1, 64, kCalls, &t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), 0u);
  EXPECT_GE(t, static_cast<uint64_t>(before.tv_sec) * 1000000000ull + before.tv_nsec);
  // EINVAL for an unknown clock, from every call.
  r = run_loop(MakeCtx(out), 4, 64, kCalls, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), kCalls * static_cast<uint32_t>(Errno::kInval));
  // An overridden Clocks answers every call.
  auto custom = CtxBuilder().Clocks(std::make_shared<FixedRealtime>()).Build();
  ASSERT_TRUE(custom.ok());
  r = run_loop(*custom, 0, 8, kCalls, &t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(t, 1234567890123456789ull);
  // A bad pointer traps with the general path's message.
  r = run_loop(MakeCtx(out), 1, 68, kCalls, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail.rfind("clock_time_get: misaligned", 0), 0u) << r.error().detail;
  // Tracing sees every call, native ones included.
  std::vector<std::string> lines;
  auto traced = CtxBuilder().Trace([&](std::string_view l) { lines.emplace_back(l); }).Build();
  ASSERT_TRUE(traced.ok());
  r = run_loop(*traced, 1, 16, kCalls, nullptr);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(lines.size(), kCalls);
  EXPECT_EQ(lines.back(), "clock_time_get(0x1, 1, 0x10) -> 0");
}

// Two contexts sharing one table, each driving its own store on its own thread: both
// see the handle the host pushed, and writes from both land in the shared pipe.
TEST(BindingTest, TwoInstancesOnTwoThreadsShareOneTable) {
  auto table = std::make_shared<wasi::Table>();
  auto out = std::make_shared<WritePipe>();
  auto ctx1 = MakeCtx(out, table);
  auto ctx2 = MakeCtx(out, table);
  auto shared = std::make_shared<WritePipe>();
  Fd fd = *table->Push(Entry::For(shared));
  std::string wat = R"(
    (module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "x")
      (func (export "run") (param i32 i32) (result i32)
        (local $i i32) (local $err i32)
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 1))
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get 1)))
          (local.set $err (i32.or (local.get $err)
            (call $w (local.get 0) (i32.const 0) (i32.const 1) (i32.const 8))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (local.get $err)))
  )";
  auto run = [&](std::shared_ptr<Ctx> ctx, uint32_t* result) {
    wasm::Store store;
    wasm::Linker linker;
    AddToLinker(linker, store, ctx);
    wasm::Instance* inst = Instantiate(store, wat, linker);
    ASSERT_NE(inst, nullptr);
    wasm::Value args[2] = {wasm::Value::I32(fd), wasm::Value::I32(500)};
    auto r = wasm::Invoke(store, inst->GetFunc("run"), args);
    ASSERT_TRUE(r.ok());
    *result = (*r)[0].i32();
  };
  uint32_t r1 = 99, r2 = 99;
  std::thread t1(run, ctx1, &r1), t2(run, ctx2, &r2);
  t1.join();
  t2.join();
  EXPECT_EQ(r1, 0u);
  EXPECT_EQ(r2, 0u);
  EXPECT_EQ(shared->Contents(), std::string(1000, 'x'));
}

TEST(BindingTest, InterruptStopsAGuestBlockedInPollOneoff) {
  wasm::Store store;
  wasm::Linker linker;
  auto ctx = MakeCtx(std::make_shared<WritePipe>());
  AddToLinker(linker, store, ctx);
  // Sleeps 60 s on the monotonic clock.
  wasm::Instance* inst = Instantiate(store, R"(
    (module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $p (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "sleep") (result i32)
        (i32.store8 (i32.const 8) (i32.const 0))
        (i32.store (i32.const 16) (i32.const 1))
        (i64.store (i32.const 24) (i64.const 60000000000))
        (call $p (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))))
  )", linker);
  ASSERT_NE(inst, nullptr);
  auto start = std::chrono::steady_clock::now();
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ctx->Interrupt();
  });
  auto r = wasm::Invoke(store, inst->GetFunc("sleep"), {});
  waker.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, wasm::TrapKind::kInterrupted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace weft::wasi
