// The x86-64 JIT: instruction encodings, and behaviour that depends on native code and
// the interpreter handing over to each other (exits, re-entry, traps, deep recursion).
// The spec suite runs with the JIT on (spec.*) and off (spec_interp.*) besides.
#include <pthread.h>

#include <bit>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime_wat.h"
#include "wasm/jit/jit.h"
#include "wasm/jit/x64_assembler.h"
#include "wasm/runtime/store_impl.h"

namespace weft::wasm {
namespace {

using testing::Instantiate;
using Bytes = std::vector<uint8_t>;

// ---- encodings (checked against objdump) ----
template <class F>
Bytes Encode(F f) {
  jit::Assembler a;
  f(a);
  return a.bytes();
}

TEST(JitAssembler, MemoryOperandsWithR12R13BasesAndIndex) {
  using namespace jit;
  // mov rax, [r12 + rax + 0]: r12 as a base needs a SIB byte
  EXPECT_EQ(Encode([](Assembler& a) { a.Load64(RAX, Mem{R12, 0, RAX, 0}); }),
            (Bytes{0x49, 0x8B, 0x44, 0x04, 0x00}));
  // mov eax, [r13 + 0]: r13 as a base needs an explicit displacement
  EXPECT_EQ(Encode([](Assembler& a) { a.Load32(RAX, Mem{R13, 0}); }),
            (Bytes{0x41, 0x8B, 0x45, 0x00}));
  // mov [rsp + 0], rax
  EXPECT_EQ(Encode([](Assembler& a) { a.Store64(Mem{RSP, 0}, RAX); }),
            (Bytes{0x48, 0x89, 0x44, 0x24, 0x00}));
  // mov [rbx + 0x100], r9 (32-bit displacement)
  EXPECT_EQ(Encode([](Assembler& a) { a.Store64(Mem{RBX, 0x100}, R9); }),
            (Bytes{0x4C, 0x89, 0x8B, 0x00, 0x01, 0x00, 0x00}));
  // lea rdx, [rbx + rdx*8 + 16]
  EXPECT_EQ(Encode([](Assembler& a) { a.Lea(RDX, Mem{RBX, 16, RDX, 3}); }),
            (Bytes{0x48, 0x8D, 0x54, 0xD3, 0x10}));
  // lea eax, [r9 + 4] (i32.add of a constant); lea rax, [rsi - 16]
  EXPECT_EQ(Encode([](Assembler& a) { a.Lea32(RAX, Mem{R9, 4}); }), (Bytes{0x41, 0x8D, 0x41, 0x04}));
  EXPECT_EQ(Encode([](Assembler& a) { a.Lea(RAX, Mem{RSI, -16}); }), (Bytes{0x48, 0x8D, 0x46, 0xF0}));
  // mov [r12 + r9 + 4], eax and movzx edx, byte [r12 + r15 + 0]: indexed by a pool register
  EXPECT_EQ(Encode([](Assembler& a) { a.Store32(Mem{R12, 4, R9, 0}, RAX); }),
            (Bytes{0x43, 0x89, 0x44, 0x0C, 0x04}));
  EXPECT_EQ(Encode([](Assembler& a) { a.Load8U(RDX, Mem{R12, 0, R15, 0}); }),
            (Bytes{0x43, 0x0F, 0xB6, 0x54, 0x3C, 0x00}));
}

TEST(JitAssembler, ByteRegistersAndImmediates) {
  using namespace jit;
  // mov [rbx + 8], sil: needs an empty REX prefix, else it would be dh
  EXPECT_EQ(Encode([](Assembler& a) { a.Store8(Mem{RBX, 8}, RSI); }),
            (Bytes{0x40, 0x88, 0x73, 0x08}));
  // setne dil
  EXPECT_EQ(Encode([](Assembler& a) { a.Setcc(kNE, RDI); }), (Bytes{0x40, 0x0F, 0x95, 0xC7}));
  // ror r8d, 7
  EXPECT_EQ(Encode([](Assembler& a) { a.ShiftImm(1, false, R8, 7); }),
            (Bytes{0x41, 0xC1, 0xC8, 0x07}));
  // mov rax, 0x123456789 (64-bit immediate) and mov ecx, 5 (32-bit, zero-extending)
  EXPECT_EQ(Encode([](Assembler& a) { a.MovImm64(RAX, 0x123456789); }),
            (Bytes{0x48, 0xB8, 0x89, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00}));
  EXPECT_EQ(Encode([](Assembler& a) { a.MovImm64(RCX, 5); }), (Bytes{0xB9, 0x05, 0x00, 0x00, 0x00}));
  // sub rsp, 8; add r15, 24; cmp eax, 1000
  EXPECT_EQ(Encode([](Assembler& a) { a.AluRI(5, true, RSP, 8); }), (Bytes{0x48, 0x83, 0xEC, 0x08}));
  EXPECT_EQ(Encode([](Assembler& a) { a.AluRI(0, true, R15, 24); }), (Bytes{0x49, 0x83, 0xC7, 0x18}));
  EXPECT_EQ(Encode([](Assembler& a) { a.AluRI(7, false, RAX, 1000); }),
            (Bytes{0x81, 0xF8, 0xE8, 0x03, 0x00, 0x00}));
  // push r15; pop rbx
  EXPECT_EQ(Encode([](Assembler& a) { a.Push(R15); a.Pop(RBX); }), (Bytes{0x41, 0x57, 0x5B}));
}

TEST(JitAssembler, SseScalarForms) {
  using namespace jit;
  // movsd xmm0, [rbx + 8]; addsd xmm0, [rbx + 16]; movss [rbx + 8], xmm0
  EXPECT_EQ(Encode([](Assembler& a) { a.MovsdLoad(XMM0, Mem{RBX, 8}, true); }),
            (Bytes{0xF2, 0x0F, 0x10, 0x43, 0x08}));
  EXPECT_EQ(Encode([](Assembler& a) { a.SseRM(0x58, XMM0, Mem{RBX, 16}, true); }),
            (Bytes{0xF2, 0x0F, 0x58, 0x43, 0x10}));
  EXPECT_EQ(Encode([](Assembler& a) { a.MovsdStore(Mem{RBX, 8}, XMM0, false); }),
            (Bytes{0xF3, 0x0F, 0x11, 0x43, 0x08}));
  // movq xmm0, rax (an f64 loaded or built in rax, handed to the next float op)
  EXPECT_EQ(Encode([](Assembler& a) { a.MovqToXmm(XMM0, RAX); }), (Bytes{0x66, 0x48, 0x0F, 0x6E, 0xC0}));
  // The float pool's register forms: movapd xmm2, xmm0; movapd xmm9, xmm0;
  // mulsd xmm0, xmm10; ucomisd xmm0, xmm11; addss xmm0, xmm1
  EXPECT_EQ(Encode([](Assembler& a) { a.MovapdRR(XMM2, XMM0); }), (Bytes{0x66, 0x0F, 0x28, 0xD0}));
  EXPECT_EQ(Encode([](Assembler& a) { a.MovapdRR(XMM9, XMM0); }), (Bytes{0x66, 0x44, 0x0F, 0x28, 0xC8}));
  EXPECT_EQ(Encode([](Assembler& a) { a.SseRR(0x59, XMM0, XMM10, true); }), (Bytes{0xF2, 0x41, 0x0F, 0x59, 0xC2}));
  EXPECT_EQ(Encode([](Assembler& a) { a.UcomisRR(XMM0, XMM11, true); }), (Bytes{0x66, 0x41, 0x0F, 0x2E, 0xC3}));
  EXPECT_EQ(Encode([](Assembler& a) { a.SseRR(0x58, XMM0, XMM1, false); }), (Bytes{0xF3, 0x0F, 0x58, 0xC1}));
}

TEST(JitAssembler, StoresOfImmediates) {
  using namespace jit;
  // movb $0x1, 0x0(%r12,%r15,1); movw $0x1234, 0x0(%r12,%r15,1); movl $-2, 0x8(%rbx)
  EXPECT_EQ(Encode([](Assembler& a) { a.StoreImm8(Mem{R12, 0, R15, 0}, 1); }),
            (Bytes{0x43, 0xC6, 0x44, 0x3C, 0x00, 0x01}));
  EXPECT_EQ(Encode([](Assembler& a) { a.StoreImm16(Mem{R12, 0, R15, 0}, 0x1234); }),
            (Bytes{0x66, 0x43, 0xC7, 0x44, 0x3C, 0x00, 0x34, 0x12}));
  EXPECT_EQ(Encode([](Assembler& a) { a.StoreImm32(Mem{RBX, 8}, -2, false); }),
            (Bytes{0xC7, 0x43, 0x08, 0xFE, 0xFF, 0xFF, 0xFF}));
}

// ---- native code and the interpreter together ----
bool HasNative(Instance* inst, const char* name) {
  FuncInst* f = inst->GetFunc(name);
  return f && f->compiled && static_cast<CompiledFunc*>(f->compiled)->native != nullptr;
}

auto InvokeByName(Store& store, Instance* inst, const char* name, std::vector<Value> args) {
  return Invoke(store, inst->GetFunc(name), args);
}

uint32_t CallI32(Store& store, Instance* inst, const char* name, std::vector<Value> args) {
  auto r = InvokeByName(store, inst, name, args);
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().Message());
  return r.ok() && !r->empty() ? (*r)[0].i32() : 0xDEADBEEF;
}

constexpr char kModule[] = R"(
(module
  (import "host" "add" (func $host_add (param i32 i32) (result i32)))
  (memory 1)
  (table 3 funcref)
  (type $ii (func (param i32) (result i32)))
  (elem (i32.const 0) $double $triple)
  (func $double (type $ii) local.get 0 i32.const 2 i32.mul)
  (func $triple (type $ii) local.get 0 i32.const 3 i32.mul)
  ;; sum of host_add over a loop: every iteration exits to the interpreter and comes back
  (func (export "host_loop") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $l
      local.get $n i32.eqz br_if $done
      local.get $acc local.get $n call $host_add local.set $acc
      local.get $n i32.const 1 i32.sub local.set $n
      br $l))
    local.get $acc)
  ;; grows memory in the loop (an exit), then stores and loads above the old size
  (func (export "grow_loop") (param $n i32) (result i32) (local $i i32) (local $sum i32)
    (loop $l
      i32.const 1 memory.grow drop
      memory.size i32.const 1 i32.sub i32.const 65536 i32.mul local.get $i i32.store
      memory.size i32.const 1 i32.sub i32.const 65536 i32.mul i32.load local.get $sum i32.add local.set $sum
      local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u br_if $l)
    local.get $sum)
  (func (export "indirect") (param $i i32) (param $x i32) (result i32)
    local.get $x local.get $i call_indirect (type $ii))
  (func $inner (param i32) (result i32) local.get 0 i32.load)
  (func $middle (param i32) (result i32) local.get 0 call $inner i32.const 1 i32.add)
  (func (export "outer") (param i32) (result i32) local.get 0 call $middle)
  (func $down (export "down") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $down)
  (func (export "div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
  (func (export "switch") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (block $d (block $c (block $b (block $a
        local.get $i i32.const 3 i32.and br_table $a $b $c $d)
        local.get $acc i32.const 1 i32.add local.set $acc br $d)
        local.get $acc i32.const 10 i32.add local.set $acc br $d)
        local.get $acc i32.const 100 i32.add local.set $acc br $d)
      local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u br_if $l)
    local.get $acc))
)";

// Functions are translated once hot (jit::HotThreshold() calls and back-edges): run
// `name` often enough that it and what it calls are native code.
void Warm(Store& store, Instance* inst, const char* name, std::vector<Value> args) {
  for (uint32_t i = 0; i <= jit::HotThreshold(); ++i) ASSERT_TRUE(InvokeByName(store, inst, name, args).ok());
}

struct JitFixture : ::testing::Test {
  void SetUp() override {
    Linker linker;
    linker.DefineHostFunc(store, "host", "add", FuncType{{ValType::kI32, ValType::kI32}, {ValType::kI32}},
                          [](Caller&, const Value* args, Value* results) -> std::optional<Trap> {
                            results[0] = Value::I32(args[0].i32() + args[1].i32());
                            return std::nullopt;
                          });
    inst = Instantiate(store, kModule, linker);
    ASSERT_NE(inst, nullptr);
  }
  Store store;
  Instance* inst = nullptr;
};

TEST_F(JitFixture, FunctionsRunAsNativeCode) {
  if (!jit::Enabled()) GTEST_SKIP() << "no JIT on this platform or WEFT_JIT=0";
  EXPECT_EQ(CallI32(store, inst, "switch", {Value::I32(8)}), 2u * (1 + 10 + 100));
  // Its loop makes it hot within one call.
  EXPECT_EQ(CallI32(store, inst, "switch", {Value::I32(400)}), 100u * (1 + 10 + 100));
  EXPECT_TRUE(HasNative(inst, "switch"));
  EXPECT_FALSE(HasNative(inst, "div_s"));  // called once: still interpreted
}

TEST_F(JitFixture, HostCallsInANativeLoop) {
  EXPECT_EQ(CallI32(store, inst, "host_loop", {Value::I32(1000)}), 500500u);
}

TEST_F(JitFixture, MemoryGrownByTheInterpreterIsSeenByNativeCode) {
  // Pages 2..11 are written and read back after each grow: sum of 0..9.
  EXPECT_EQ(CallI32(store, inst, "grow_loop", {Value::I32(10)}), 45u);
  EXPECT_EQ(inst->memories[0]->pages(), 11u);
}

TEST_F(JitFixture, CallIndirectAndItsTraps) {
  Warm(store, inst, "indirect", {Value::I32(0), Value::I32(7)});
  Warm(store, inst, "indirect", {Value::I32(1), Value::I32(7)});
  EXPECT_EQ(CallI32(store, inst, "indirect", {Value::I32(0), Value::I32(7)}), 14u);
  EXPECT_EQ(CallI32(store, inst, "indirect", {Value::I32(1), Value::I32(7)}), 21u);
  auto null_elem = InvokeByName(store, inst, "indirect", {Value::I32(2), Value::I32(7)});
  ASSERT_FALSE(null_elem.ok());
  EXPECT_EQ(null_elem.error().kind, TrapKind::kUninitializedElement);
  auto out_of_table = InvokeByName(store, inst, "indirect", {Value::I32(3), Value::I32(7)});
  ASSERT_FALSE(out_of_table.ok());
  EXPECT_EQ(out_of_table.error().kind, TrapKind::kUndefinedElement);
}

TEST_F(JitFixture, TrapInNestedNativeCallsHasTheWholeBacktrace) {
  Warm(store, inst, "outer", {Value::I32(0)});
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "outer"));
  }
  EXPECT_EQ(CallI32(store, inst, "outer", {Value::I32(0)}), 1u);
  auto r = InvokeByName(store, inst, "outer", {Value::I32(65535)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kMemoryOutOfBounds);
  ASSERT_GE(r.error().backtrace.size(), 3u);
  EXPECT_EQ(r.error().backtrace[0].func_name, "inner");
  EXPECT_EQ(r.error().backtrace[1].func_name, "middle");
  EXPECT_EQ(r.error().backtrace[2].func_name, "");  // the export has no name-section name
  // The store is usable afterwards, in native code again.
  EXPECT_EQ(CallI32(store, inst, "outer", {Value::I32(0)}), 1u);
}

TEST_F(JitFixture, RunawayRecursionIsCallStackExhaustedNotACrash) {
  auto r = InvokeByName(store, inst, "down", {Value::I32(0)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kCallStackExhausted);
  EXPECT_EQ(CallI32(store, inst, "switch", {Value::I32(4)}), 111u);
}

// Native calls push no Frames; the machine stack stands for them. A host function that
// native code calls may call back into wasm: the re-entrant activation sees the native
// callers (their Frames are written first), in its backtrace and in its depth.
TEST(JitFrames, ReentrantCallFromAHostFunctionSeesTheNativeCallers) {
  Store store;
  Linker linker;
  Instance* self = nullptr;
  linker.DefineHostFunc(store, "host", "cb", FuncType{{ValType::kI32}, {ValType::kI32}},
      [&self](Caller& c, const Value* args, Value* results) -> std::optional<Trap> {
        return Call(c.store, self->GetFunc("leaf"), {args, 1}, {results, 1});
      });
  self = Instantiate(store, R"(
    (module
      (import "host" "cb" (func $cb (param i32) (result i32)))
      (func $leaf (export "leaf") (param i32) (result i32) i32.const 100 local.get 0 i32.div_u)
      (func $mid (param i32) (result i32) local.get 0 call $cb i32.const 1 i32.add)
      (func $top (export "top") (param i32) (result i32) local.get 0 call $mid i32.const 1 i32.add))
  )", linker);
  ASSERT_NE(self, nullptr);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(CallI32(store, self, "top", {Value::I32(5)}), 22u);
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(self, "top"));
  }
  auto r = InvokeByName(store, self, "top", {Value::I32(0)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kIntegerDivideByZero);
  ASSERT_EQ(r.error().backtrace.size(), 3u);
  EXPECT_EQ(r.error().backtrace[0].func_name, "leaf");
  EXPECT_EQ(r.error().backtrace[1].func_name, "mid");
  EXPECT_EQ(r.error().backtrace[2].func_name, "top");
  EXPECT_EQ(CallI32(store, self, "top", {Value::I32(4)}), 27u);  // and it goes on
}

// The call-depth limit is the interpreter's, to the frame, when native code recurses:
// down(n) makes n nested calls, each one Frame.
TEST(JitFrames, CallDepthLimitIsExactInNativeCode) {
  StoreLimits limits;
  limits.max_call_depth = 1000;
  Store store(limits);
  Instance* inst = Instantiate(store, R"(
    (module
      (func $down (export "down") (param i32) (result i32)
        local.get 0 i32.eqz
        if (result i32) i32.const 0
        else local.get 0 i32.const 1 i32.sub call $down i32.const 1 i32.add end))
  )");
  ASSERT_NE(inst, nullptr);
  EXPECT_EQ(CallI32(store, inst, "down", {Value::I32(150)}), 150u);  // hot from here on
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "down"));
  }
  EXPECT_EQ(CallI32(store, inst, "down", {Value::I32(1000)}), 1000u);
  auto deep = InvokeByName(store, inst, "down", {Value::I32(1001)});
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().kind, TrapKind::kCallStackExhausted);
  EXPECT_EQ(CallI32(store, inst, "down", {Value::I32(1000)}), 1000u);
}

// Native calls use 16 bytes of machine stack a level; past a budget they hand the call
// back to the interpreter, so deep recursion fits a thread with a small stack.
TEST(JitStack, DeepRecursionOnASmallThreadStack) {
  // Parsed here: the small-stack thread only instantiates and runs.
  auto module = testing::ParseWat(R"(
    (module (func $down (export "down") (param i32) (result i32)
      local.get 0 i32.const 1 i32.add call $down)))");
  ASSERT_NE(module, nullptr);
  struct Job {
    std::shared_ptr<const Module> module;
    bool exhausted = false;
  } job{module};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 2 * 1024 * 1024);
  pthread_t thread;
  auto body = [](void* p) -> void* {
    auto* j = static_cast<Job*>(p);
    StoreLimits limits;
    limits.max_call_depth = 400000;  // 6.4 MB of native frames if nothing stopped them
    Store store(limits);
    auto inst = Linker().Instantiate(store, j->module);
    if (!inst.ok()) return nullptr;
    for (uint32_t i = 0; i <= 2; ++i) {  // the first call makes it hot; later ones run native
      auto r = Invoke(store, (*inst)->GetFunc("down"), std::vector<Value>{Value::I32(0)});
      j->exhausted = !r.ok() && r.error().kind == TrapKind::kCallStackExhausted;
      if (!j->exhausted) break;
    }
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, body, &job), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(job.exhausted);
}

TEST_F(JitFixture, DivisionEdgeCases) {
  Warm(store, inst, "div_s", {Value::I32(9), Value::I32(3)});
  Warm(store, inst, "rem_s", {Value::I32(9), Value::I32(3)});
  EXPECT_EQ(CallI32(store, inst, "div_s", {Value::I32(static_cast<uint32_t>(-7)), Value::I32(2)}),
            static_cast<uint32_t>(-3));
  EXPECT_EQ(CallI32(store, inst, "div_s", {Value::I32(7), Value::I32(0xFFFFFFFF)}),
            static_cast<uint32_t>(-7));
  EXPECT_EQ(CallI32(store, inst, "rem_s", {Value::I32(0x80000000), Value::I32(0xFFFFFFFF)}), 0u);
  auto overflow = InvokeByName(store, inst, "div_s", {Value::I32(0x80000000), Value::I32(0xFFFFFFFF)});
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().kind, TrapKind::kIntegerOverflow);
  auto by_zero = InvokeByName(store, inst, "rem_s", {Value::I32(1), Value::I32(0)});
  ASSERT_FALSE(by_zero.ok());
  EXPECT_EQ(by_zero.error().kind, TrapKind::kIntegerDivideByZero);
}

}  // namespace
}  // namespace weft::wasm

namespace weft::wasm {
namespace {

// Unsigned division and remainder by a constant are multiplications in native code:
// compare every (constant, dividend) pair with the C++ operators, in 32 and 64 bits.
TEST(JitDivision, UnsignedByConstantMatchesDivisionForEveryDividendKind) {
  if (!jit::Enabled()) GTEST_SKIP() << "no JIT on this platform or WEFT_JIT=0";
  const std::vector<uint64_t> divisors = {
      1, 2, 3, 5, 6, 7, 10, 12, 14, 16, 25, 28, 60, 100, 641, 1000, 4096, 1000000,
      24u << 20, 1000000000, 0x7FFFFFFE, 0x7FFFFFFF, 0x80000000, 10000000000ull, 3ull << 40,
      0xFFFFFFFE, 0xFFFFFFFF, 0x100000000, 0x100000001, 1000000000000000000ull,
      0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, 0x8000000000000001ull,
      0xFFFFFFFFFFFFFFFFull};
  std::string wat = "(module\n";
  for (size_t i = 0; i < divisors.size(); ++i) {
    uint64_t d = divisors[i];
    std::string k = std::to_string(i);
    if (d <= 0xFFFFFFFF) {
      std::string c = std::to_string(d);
      wat += "(func (export \"d32_" + k + "\") (param i32) (result i32) local.get 0 i32.const " + c + " i32.div_u)\n";
      wat += "(func (export \"r32_" + k + "\") (param i32) (result i32) local.get 0 i32.const " + c + " i32.rem_u)\n";
    }
    std::string c = std::to_string(static_cast<int64_t>(d));
    wat += "(func (export \"d64_" + k + "\") (param i64) (result i64) local.get 0 i64.const " + c + " i64.div_u)\n";
    wat += "(func (export \"r64_" + k + "\") (param i64) (result i64) local.get 0 i64.const " + c + " i64.rem_u)\n";
  }
  wat += ")";
  Store store;
  Linker linker;
  Instance* inst = Instantiate(store, wat.c_str(), linker);
  ASSERT_NE(inst, nullptr);

  uint64_t lcg = 12345;
  auto next = [&] { return lcg = lcg * 6364136223846793005ull + 1442695040888963407ull; };
  for (size_t i = 0; i < divisors.size(); ++i) {
    const uint64_t d = divisors[i];
    const std::string k = std::to_string(i);
    std::vector<uint64_t> ns = {0, 1, 2, d - 1, d, d + 1, 2 * d - 1, 2 * d, 3 * d + 1,
                                0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000,
                                0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull,
                                0xFFFFFFFFFFFFFFFEull, 0xFFFFFFFFFFFFFFFFull};
    for (int r = 0; r < 150; ++r) ns.push_back(next() >> (r % 64));
    for (const char* kind : {"d32_", "r32_", "d64_", "r64_"}) {
      const bool w = kind[1] == '6';
      const bool rem = kind[0] == 'r';
      if (!w && d > 0xFFFFFFFF) continue;
      std::string name = kind + k;
      FuncInst* f = inst->GetFunc(name);
      ASSERT_NE(f, nullptr) << name;
      for (uint64_t n : ns) {  // the first HotThreshold() calls run in the interpreter
        uint64_t a = w ? n : static_cast<uint32_t>(n);
        uint64_t want = rem ? a % d : a / d;
        std::vector<Value> args = {w ? Value::I64(a) : Value::I32(static_cast<uint32_t>(a))};
        auto got = Invoke(store, f, args);
        ASSERT_TRUE(got.ok()) << name;
        uint64_t v = w ? (*got)[0].i64() : (*got)[0].i32();
        ASSERT_EQ(v, want) << name << " n=" << a << " d=" << d;
      }
      EXPECT_TRUE(HasNative(inst, name.c_str())) << name;
    }
  }
}

}  // namespace
}  // namespace weft::wasm

namespace weft::wasm {
namespace {

// A computed address that only the load or store reads is not stored to its slot in
// native code; when the access is out of bounds the exit must write it back, or the
// interpreter would re-execute the access with a stale (in-bounds) address and not trap.
TEST(JitDeadStores, OutOfBoundsAccessAtAComputedAddressStillTraps) {
  if (!jit::Enabled()) GTEST_SKIP() << "no JIT on this platform or WEFT_JIT=0";
  Store store;
  Linker linker;
  Instance* inst = Instantiate(store, R"(
    (module
      (memory 1)
      (func (export "load") (param i32) (result i32)
        local.get 0 i32.const 16 i32.add i32.load)
      (func (export "store") (param i32) (param i32)
        local.get 0 i32.const 16 i32.add
        local.get 1 i32.const 3 i32.mul
        i32.store)
      (func (export "fsum") (param f64 f64 f64) (result f64)
        local.get 0 local.get 1 f64.mul local.get 2 f64.add local.get 0 f64.sub))
  )", linker);
  ASSERT_NE(inst, nullptr);
  Warm(store, inst, "store", {Value::I32(0), Value::I32(5)});
  Warm(store, inst, "load", {Value::I32(0)});
  Warm(store, inst, "fsum", {Value::F64(1.5), Value::F64(2.0), Value::F64(0.25)});
  ASSERT_TRUE(HasNative(inst, "load"));
  ASSERT_TRUE(HasNative(inst, "store"));
  EXPECT_EQ(CallI32(store, inst, "load", {Value::I32(0)}), 15u);
  for (uint32_t base : {65536u - 16u, 65536u - 17u, 0xFFFFFFE0u}) {
    auto load = InvokeByName(store, inst, "load", {Value::I32(base)});
    ASSERT_FALSE(load.ok()) << base;
    EXPECT_EQ(load.error().kind, TrapKind::kMemoryOutOfBounds);
    auto st = InvokeByName(store, inst, "store", {Value::I32(base), Value::I32(1)});
    ASSERT_FALSE(st.ok()) << base;
    EXPECT_EQ(st.error().kind, TrapKind::kMemoryOutOfBounds);
  }
  // In bounds right up to the end, and the value (3 * 7) lands where it should.
  ASSERT_TRUE(InvokeByName(store, inst, "store", {Value::I32(65536 - 20), Value::I32(7)}).ok());
  EXPECT_EQ(CallI32(store, inst, "load", {Value::I32(65536 - 20)}), 21u);
  // Float results handed on in xmm0: (x*y + z) - x.
  auto f = InvokeByName(store, inst, "fsum", {Value::F64(3.0), Value::F64(0.5), Value::F64(10.0)});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)[0].f64(), 3.0 * 0.5 + 10.0 - 3.0);
}

// Operands that native code keeps in registers (locals pinned through a loop, recent
// results in the pool) are used there: as the index of a load or store, as a store's
// value (a byte store from a pool register), and as the base of the lea that adds a
// constant (which must wrap as i32.add does).
TEST(JitOperandsInRegisters, ArithmeticLoadsAndStoresMatchTheInterpreter) {
  if (!jit::Enabled()) GTEST_SKIP() << "no JIT on this platform or WEFT_JIT=0";
  Store store;
  Linker linker;
  Instance* inst = Instantiate(store, R"(
    (module
      (memory 1)
      (func (export "wrap") (param $n i32) (result i64)
        (local $i i32) (local $x i32) (local $y i32) (local $z i64)
        (local.set $x (i32.const 0x7ffffff0))
        (loop $l
          (local.set $x (i32.add (local.get $x) (i32.const 0x7fffffff)))
          (local.set $y (i32.sub (local.get $y) (i32.const 5)))
          (local.set $z (i64.add (local.get $z) (i64.const -3)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (i64.xor (i64.or (i64.extend_i32_u (local.get $x))
                         (i64.shl (i64.extend_i32_u (local.get $y)) (i64.const 32)))
                 (local.get $z)))
      (func (export "copy") (param $dst i32) (param $src i32) (param $n i32)
        (loop $l
          (i32.store offset=4 (local.get $dst) (i32.load offset=8 (local.get $src)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $src (i32.add (local.get $src) (i32.const 4)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $l (local.get $n))))
      (func (export "byte") (param $p i32) (param $x i32) (result i32)
        (local $v i32)
        (local.set $v (i32.add (local.get $x) (i32.const 0x100)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (i32.store8 offset=2 (local.get $p) (local.get $v))
        (i32.load8_u offset=2 (local.get $p)))
      (func (export "peek") (param i32) (result i32) local.get 0 i32.load))
  )", linker);
  ASSERT_NE(inst, nullptr);
  // wrap(n): the interpreter's answer for small n, native code's once the loop is hot.
  auto expected_wrap = [](uint32_t n) {
    uint32_t x = 0x7ffffff0u, y = 0, i = 0;
    uint64_t z = 0;
    do {
      x += 0x7fffffffu;
      y -= 5;
      z -= 3;
    } while (++i < n);
    return (uint64_t{x} | (uint64_t{y} << 32)) ^ z;
  };
  for (uint32_t n : {1u, 3u, 1000u, 1001u}) {
    auto r = InvokeByName(store, inst, "wrap", {Value::I32(n)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].i64(), static_cast<int64_t>(expected_wrap(n))) << n;
  }
  EXPECT_TRUE(HasNative(inst, "wrap"));
  // copy: words from src+8.. to dst+4.., through the loop's registers.
  for (uint32_t k = 0; k < 64; ++k) {
    std::memcpy(inst->memories[0]->data + 1000 + 4 * k, &k, 4);
  }
  ASSERT_TRUE(InvokeByName(store, inst, "copy", {Value::I32(4000), Value::I32(992), Value::I32(500)}).ok());
  EXPECT_TRUE(HasNative(inst, "copy"));
  for (uint32_t k = 0; k < 64; ++k) {
    EXPECT_EQ(CallI32(store, inst, "peek", {Value::I32(4004 + 4 * k)}), k) << k;
  }
  // A store that runs off the end traps; the words before it were written.
  auto off_end = InvokeByName(store, inst, "copy", {Value::I32(65536 - 4 - 8), Value::I32(1000), Value::I32(3)});
  ASSERT_FALSE(off_end.ok());
  EXPECT_EQ(off_end.error().kind, TrapKind::kMemoryOutOfBounds);
  EXPECT_EQ(CallI32(store, inst, "peek", {Value::I32(65536 - 8)}), 2u);
  EXPECT_EQ(CallI32(store, inst, "peek", {Value::I32(65536 - 4)}), 3u);
  // byte: the low byte of x lands at p+3.
  Warm(store, inst, "byte", {Value::I32(100), Value::I32(0)});
  ASSERT_TRUE(HasNative(inst, "byte"));
  for (uint32_t x : {0x12u, 0xABu, 0x1FFu}) {
    EXPECT_EQ(CallI32(store, inst, "byte", {Value::I32(200), Value::I32(x)}), x & 0xFF) << x;
    EXPECT_EQ(inst->memories[0]->data[203], x & 0xFF) << x;
  }
  auto byte_off_end = InvokeByName(store, inst, "byte", {Value::I32(65536 - 3), Value::I32(1)});
  ASSERT_FALSE(byte_off_end.ok());
  EXPECT_EQ(byte_off_end.error().kind, TrapKind::kMemoryOutOfBounds);
}

// global.set takes its value from the register the subtraction left it in (its slot is
// not written), as a function restoring its stack pointer does.
// Interrupts `store` after `seconds` unless destroyed first: a test whose mistake would
// make a guest loop forever fails with an interrupted trap instead of hanging.
class Watchdog {
 public:
  Watchdog(Store& store, int seconds)
      : thread_([this, &store, seconds] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return done_; })) store.Interrupt();
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Inside an innermost loop, pinned locals live only in their registers: every way out of
// the loop (a forward branch, a br_table entry, a return, the fall-through), every call
// and every exit to the interpreter (memory.grow here) must write them back first.
TEST(JitPinnedLocals, WrittenBackOnEveryWayOutOfTheLoop) {
  if (!jit::Enabled()) GTEST_SKIP() << "no JIT on this platform or WEFT_JIT=0";
  Store store;
  Linker linker;
  Instance* inst = Instantiate(store, R"(
    (module
      (memory 1)
      (func $mix (param i32 i32) (result i32)
        (i32.xor (i32.mul (local.get 0) (i32.const 33)) (local.get 1)))
      ;; Leaves the loop by a forward br_if at i == stop; the code after reads a, b, i.
      (func (export "early") (param $n i32) (param $stop i32) (result i32)
        (local $i i32) (local $a i32) (local $b i32)
        (block $out
          (loop $l
            (local.set $a (i32.add (local.get $a) (i32.const 3)))
            (local.set $b (i32.xor (local.get $b) (i32.add (local.get $a) (local.get $i))))
            (br_if $out (i32.eq (local.get $i) (local.get $stop)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
        (i32.add (i32.mul (local.get $a) (i32.const 31))
                 (i32.add (local.get $b) (i32.mul (local.get $i) (i32.const 1000003)))))
      ;; memory.grow exits to the interpreter, which finishes the iteration from the slots;
      ;; $mix is a call (to the interpreter until it is hot); popcnt a C helper.
      (func (export "calls") (param $n i32) (result i32)
        (local $i i32) (local $s i32) (local $t i32)
        (loop $l
          (local.set $s (i32.add (local.get $s) (local.get $i)))
          (if (i32.eq (i32.and (local.get $i) (i32.const 63)) (i32.const 40))
            (then (drop (memory.grow (i32.const 0)))))
          (local.set $s (i32.xor (local.get $s) (i32.shl (local.get $i) (i32.const 3))))
          (local.set $t (i32.add (local.get $t) (i32.popcnt (local.get $s))))
          (local.set $s (call $mix (local.get $s) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (i32.add (local.get $s) (i32.mul (local.get $t) (i32.const 7))))
      ;; Returns from inside the loop: the result goes to slot 0, which is $x's.
      (func (export "ret") (param $x i32) (param $n i32) (result i32)
        (local $i i32)
        (loop $l
          (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 5)) (i32.const 1)))
          (if (i32.ge_u (local.get $i) (local.get $n))
            (then (return (i32.add (local.get $i) (local.get $x)))))
          (local.set $x (i32.xor (local.get $x) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l))
        (unreachable))
      ;; br_table leaves the loop at entry 1; entry 0 stays in it.
      (func (export "table") (param $n i32) (result i32)
        (local $i i32) (local $a i32)
        (block $out
          (loop $l
            (local.set $a (i32.add (local.get $a) (i32.add (local.get $i) (i32.const 7))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_table $l $out (i32.ge_u (local.get $i) (local.get $n)))))
        (i32.sub (local.get $a) (local.get $i))))
  )", linker);
  ASSERT_NE(inst, nullptr);
  auto early = [](uint32_t n, uint32_t stop) {
    uint32_t i = 0, a = 0, b = 0;
    for (;;) {
      a += 3;
      b ^= a + i;
      if (i == stop) break;
      if (++i >= n) break;
    }
    return a * 31 + b + i * 1000003u;
  };
  auto calls = [](uint32_t n) {
    uint32_t i = 0, s = 0, t = 0;
    do {
      s += i;
      s ^= i << 3;
      t += static_cast<uint32_t>(std::popcount(s));
      s = (s * 33) ^ i;
    } while (++i < n);
    return s + t * 7;
  };
  auto ret = [](uint32_t x, uint32_t n) {
    for (uint32_t i = 0;; ++i) {
      x = x * 5 + 1;
      if (i >= n) return i + x;
      x ^= i;
    }
  };
  auto table = [](uint32_t n) {
    uint32_t i = 0, a = 0;
    do {
      a += i + 7;
      ++i;
    } while (i < n);
    return a - i;
  };
  // Each first call runs long enough to enter native code at the loop head; later calls
  // run native from the start.
  // A stale loop counter (a register not written back) can loop forever.
  Watchdog watchdog(store, 60);
  for (int round = 0; round < 3; ++round) {
    for (uint32_t stop : {5u, 700u, 5000u}) {
      EXPECT_EQ(CallI32(store, inst, "early", {Value::I32(3000), Value::I32(stop)}), early(3000, stop)) << stop;
    }
    EXPECT_EQ(CallI32(store, inst, "calls", {Value::I32(2000)}), calls(2000));
    EXPECT_EQ(CallI32(store, inst, "ret", {Value::I32(9), Value::I32(1500)}), ret(9, 1500));
    EXPECT_EQ(CallI32(store, inst, "table", {Value::I32(1200)}), table(1200));
  }
  for (const char* name : {"early", "calls", "ret", "table"}) EXPECT_TRUE(HasNative(inst, name)) << name;
  EXPECT_EQ(inst->memories[0]->size, 65536u);  // memory.grow 0 changed nothing
}

// A temporary read two or three instructions after it is computed is not stored when
// it stays in its pool register until then. In a loop with six pinned locals the pool
// has one register, so a temporary defined in between must make the first one stored.
TEST(JitDeadStores, TemporaryReadAFewInstructionsLaterKeepsItsValue) {
  if (!jit::Enabled()) GTEST_SKIP() << "no JIT on this platform or WEFT_JIT=0";
  Store store;
  Linker linker;
  Instance* inst = Instantiate(store, R"(
    (module
      (func (export "mix") (param $n i32) (result i32)
        (local $i i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32)
        (local.set $b (i32.const 7)) (local.set $c (i32.const 11)) (local.set $d (i32.const 13))
        (loop $l
          ;; shl's result is read by the last add, after mul's (which takes the pool
          ;; register: add reads it two instructions later) and xor's.
          (local.set $a (i32.add (i32.shl (local.get $a) (i32.const 3))
                                 (i32.add (i32.mul (local.get $b) (local.get $c))
                                          (i32.xor (local.get $d) (local.get $e)))))
          ;; sub's result is read two instructions later, past shr_u's (read at once).
          (local.set $e (i32.or (i32.sub (local.get $e) (local.get $a))
                                (i32.shr_u (local.get $b) (i32.const 1))))
          (local.set $b (i32.add (local.get $b) (local.get $i)))
          (local.set $c (i32.xor (local.get $c) (local.get $a)))
          (local.set $d (i32.add (local.get $d) (local.get $b)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (i32.xor (local.get $a) (i32.add (local.get $e) (i32.mul (local.get $c) (local.get $d))))))
  )", linker);
  ASSERT_NE(inst, nullptr);
  auto mix = [](uint32_t n) {
    uint32_t i = 0, a = 0, b = 7, c = 11, d = 13, e = 0;
    do {
      a = (a << 3) + (b * c + (d ^ e));
      e = (e - a) | (b >> 1);
      b += i;
      c ^= a;
      d += b;
    } while (++i < n);
    return a ^ (e + c * d);
  };
  for (uint32_t n : {1u, 50u, 3000u, 3001u}) EXPECT_EQ(CallI32(store, inst, "mix", {Value::I32(n)}), mix(n)) << n;
  EXPECT_TRUE(HasNative(inst, "mix"));
}

TEST(JitDeadStores, GlobalSetOfAFreshResult) {
  if (!jit::Enabled()) GTEST_SKIP() << "no JIT on this platform or WEFT_JIT=0";
  Store store;
  Linker linker;
  Instance* inst = Instantiate(store, R"(
    (module
      (global $sp (mut i32) (i32.const 1000))
      (func (export "bump") (param i32) (result i32)
        global.get $sp local.get 0 i32.sub global.set $sp global.get $sp))
  )", linker);
  ASSERT_NE(inst, nullptr);
  Warm(store, inst, "bump", {Value::I32(1)});
  ASSERT_TRUE(HasNative(inst, "bump"));
  const uint32_t after_warm = 1000 - (jit::HotThreshold() + 1);
  EXPECT_EQ(CallI32(store, inst, "bump", {Value::I32(7)}), after_warm - 7);
  EXPECT_EQ(CallI32(store, inst, "bump", {Value::I32(0)}), after_warm - 7);
}

}  // namespace
}  // namespace weft::wasm

namespace weft::wasm {
namespace {

// Native code uses constants as immediates, and a native caller enters through a block
// that stores the callee's constant slots only when an instruction reads one from memory
// (float operands, sign extensions). Each $body here reads a constant operand so, in
// either position, and its exported wrapper calls it natively right after "clobber"
// filled the same slots with ones: if that read were not seen, the operand would be
// garbage. (The interpreter stores constants itself when it calls a function, so the
// calls must come from native code.)
TEST(JitConstants, ConstantOperandsReadFromTheirSlots) {
  if (!jit::Enabled()) GTEST_SKIP() << "no JIT on this platform or WEFT_JIT=0";
  struct Body {
    const char* name;
    const char* type;  // parameter type
    const char* result;
    const char* code;
  };
  const Body bodies[] = {
      {"f64_sub", "f64", "f64", "f64.const 10.5 local.get 0 f64.sub"},
      {"f64_div", "f64", "f64", "local.get 0 f64.const 4 f64.div"},
      {"f64_lt", "f64", "i32", "f64.const 1 local.get 0 f64.lt"},
      {"f64_ge", "f64", "i32", "local.get 0 f64.const 1 f64.ge"},
      {"f64_eq", "f64", "i32", "local.get 0 f64.const 2.5 f64.eq"},
      {"f64_ne", "f64", "i32", "f64.const 2.5 local.get 0 f64.ne"},
      {"f64_sqrt", "f64", "f64", "f64.const 16 f64.sqrt local.get 0 f64.add"},
      {"f64_conv", "f64", "f64", "i32.const -7 f64.convert_i32_s local.get 0 f64.mul"},
      {"f32_sub", "f32", "f32", "f32.const 10.5 local.get 0 f32.sub"},
      {"f32_mul", "f32", "f32", "local.get 0 f32.const 3 f32.mul"},
      {"i64_ext", "i64", "i64", "i32.const -5 i64.extend_i32_s local.get 0 i64.add"},
      {"i32_ext8", "i32", "i32", "i32.const 0x1ff i32.extend8_s local.get 0 i32.add"},
      // Uses its constants only as immediates, so its entry stores none, but memory.grow
      // exits to the interpreter, which reads both constants from their slots: the exit
      // must store them.
      {"grow_sub", "i32", "i32", "i32.const 0 memory.grow drop i32.const 1000 local.get 0 i32.sub"},
  };
  std::string wat = R"((module
    (memory 1)
    (func $clobber (local i64 i64 i64 i64 i64 i64 i64 i64)
      (local.set 0 (i64.const -1)) (local.set 1 (i64.const -1)) (local.set 2 (i64.const -1))
      (local.set 3 (i64.const -1)) (local.set 4 (i64.const -1)) (local.set 5 (i64.const -1))
      (local.set 6 (i64.const -1)) (local.set 7 (i64.const -1)))
)";
  for (const Body& b : bodies) {
    std::string sig = std::string("(param ") + b.type + ") (result " + b.result + ")";
    wat += std::string("(func $") + b.name + " " + sig + " " + b.code + ")\n";
    wat += std::string("(func (export \"") + b.name + "\") " + sig + " call $clobber local.get 0 call $" +
           b.name + ")\n";
  }
  wat += ")";
  Store store;
  Linker linker;
  Instance* inst = Instantiate(store, wat.c_str(), linker);
  ASSERT_NE(inst, nullptr);
  auto f64 = [&](const char* name, double x) {
    auto r = InvokeByName(store, inst, name, {Value::F64(x)});
    EXPECT_TRUE(r.ok()) << name;
    return r.ok() ? (*r)[0] : Value::I64(0);
  };
  auto f32 = [&](const char* name, float x) {
    auto r = InvokeByName(store, inst, name, {Value::F32(x)});
    EXPECT_TRUE(r.ok()) << name;
    return r.ok() ? (*r)[0] : Value::I64(0);
  };
  // The first HotThreshold() rounds run in the interpreter, the rest natively; every
  // round must give the same answers.
  for (uint32_t round = 0; round <= jit::HotThreshold() + 3; ++round) {
    const double x = 2.5 + (round % 3);  // 2.5, 3.5, 4.5
    ASSERT_EQ(f64("f64_sub", x).f64(), 10.5 - x) << round;
    ASSERT_EQ(f64("f64_div", x).f64(), x / 4) << round;
    ASSERT_EQ(f64("f64_lt", x).i32(), 1u) << round;
    ASSERT_EQ(f64("f64_lt", 0.5).i32(), 0u) << round;
    ASSERT_EQ(f64("f64_ge", x).i32(), 1u) << round;
    ASSERT_EQ(f64("f64_ge", 0.5).i32(), 0u) << round;
    ASSERT_EQ(f64("f64_eq", x).i32(), x == 2.5 ? 1u : 0u) << round;
    ASSERT_EQ(f64("f64_ne", x).i32(), x == 2.5 ? 0u : 1u) << round;
    ASSERT_EQ(f64("f64_sqrt", x).f64(), 4 + x) << round;
    ASSERT_EQ(f64("f64_conv", x).f64(), -7 * x) << round;
    ASSERT_EQ(f32("f32_sub", static_cast<float>(x)).f32(), 10.5f - static_cast<float>(x)) << round;
    ASSERT_EQ(f32("f32_mul", static_cast<float>(x)).f32(), static_cast<float>(x) * 3) << round;
    auto e = InvokeByName(store, inst, "i64_ext", {Value::I64(round)});
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(static_cast<int64_t>((*e)[0].i64()), static_cast<int64_t>(round) - 5) << round;
    auto e8 = InvokeByName(store, inst, "i32_ext8", {Value::I32(round)});
    ASSERT_TRUE(e8.ok());
    ASSERT_EQ(static_cast<int32_t>((*e8)[0].i32()), static_cast<int32_t>(round) - 1) << round;
    auto g = InvokeByName(store, inst, "grow_sub", {Value::I32(round)});
    ASSERT_TRUE(g.ok());
    ASSERT_EQ((*g)[0].i32(), 1000u - round) << round;
  }
  for (const char* name : {"f64_sub", "f64_div", "f64_lt", "f64_ge", "f64_eq", "f64_ne",
                           "f64_sqrt", "f64_conv", "f32_sub", "f32_mul", "i64_ext", "i32_ext8",
                           "grow_sub"}) {
    EXPECT_TRUE(HasNative(inst, name)) << name;
  }
}

}  // namespace
}  // namespace weft::wasm

namespace weft::wasm {
namespace {

// A host function with a leaf form (HostLeafPtr): native code calls the leaf bare, the
// interpreter calls the fast form. "bump" adds v to the i32 at mem[addr] and returns the
// sum. Its leaf declines v == 7 (the fast form must then answer, exactly once) and traps
// on v == 13; the fast form does the same work and never sees 13 from native code.
struct BumpCounts {
  int fast = 0;
  int leaf = 0;
  int declined = 0;
};
uint32_t Bump(uint8_t* mem, const Value* io) {
  uint32_t addr = io[0].i32(), v;
  std::memcpy(&v, mem + addr, 4);
  v += io[1].i32();
  std::memcpy(mem + addr, &v, 4);
  return v;
}
std::optional<Trap> BumpFast(Caller& caller, Value* io) {
  static_cast<BumpCounts*>(caller.user_data)->fast++;
  if (io[1].i32() == 13) return Trap::Make(TrapKind::kHost, "thirteen");
  io[0] = Value::I32(Bump(caller.memory()->data, io));
  return std::nullopt;
}
int BumpLeaf(void* user_data, uint8_t* mem, uint64_t mem_size, Value* io,
             std::optional<Trap>* trap) {
  auto* counts = static_cast<BumpCounts*>(user_data);
  counts->leaf++;
  EXPECT_EQ(mem_size, 65536u);
  if (io[1].i32() == 7) {
    counts->declined++;
    return kHostLeafDeclined;
  }
  if (io[1].i32() == 13) {
    *trap = Trap::Make(TrapKind::kHost, "thirteen");
    return kHostLeafTrapped;
  }
  io[0] = Value::I32(Bump(mem, io));
  return kHostLeafDone;
}

TEST(JitHostLeaf, NativeCodeCallsTheLeafAndFallsBackWhenItDeclines) {
  Store store;
  Linker linker;
  BumpCounts counts;
  linker.DefineHostFunc(store, "host", "bump", FuncType{{ValType::kI32, ValType::kI32}, {ValType::kI32}},
                        &BumpFast, &counts, {}, &BumpLeaf);
  Instance* inst = Instantiate(store, R"(
    (module
      (import "host" "bump" (func $bump (param i32 i32) (result i32)))
      (memory 1)
      ;; n calls of bump(16, 1); returns the last sum
      (func (export "loop") (param $n i32) (result i32) (local $r i32)
        (block $done (loop $l
          local.get $n i32.eqz br_if $done
          i32.const 16 i32.const 1 call $bump local.set $r
          local.get $n i32.const 1 i32.sub local.set $n
          br $l))
        local.get $r)
      (func $caller (export "once") (param i32) (result i32)
        i32.const 16 local.get 0 call $bump i32.const 1000 i32.add))
  )", linker);
  ASSERT_NE(inst, nullptr);
  EXPECT_EQ(CallI32(store, inst, "loop", {Value::I32(1000)}), 1000u);
  EXPECT_EQ(counts.fast + counts.leaf, 1000);
  if (!jit::Enabled()) {
    EXPECT_EQ(counts.leaf, 0);
    return;
  }
  EXPECT_GT(counts.leaf, 800);  // the loop turns native after 100 back-edges

  // "once" made native: each call goes to the leaf only.
  Warm(store, inst, "once", {Value::I32(0)});
  ASSERT_TRUE(HasNative(inst, "once"));
  counts = {};
  EXPECT_EQ(CallI32(store, inst, "once", {Value::I32(5)}), 1005u + 1000u);
  EXPECT_EQ(counts.leaf, 1);
  EXPECT_EQ(counts.fast, 0);

  // Declined: the fast form answers, and the guest sees one bump, not two.
  EXPECT_EQ(CallI32(store, inst, "once", {Value::I32(7)}), 1012u + 1000u);
  EXPECT_EQ(counts.declined, 1);
  EXPECT_EQ(counts.fast, 1);

  // A trap from the leaf stops the guest like the fast form's, with the native caller in
  // its backtrace, and native code goes on afterwards.
  auto r = InvokeByName(store, inst, "once", {Value::I32(13)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kHost);
  EXPECT_EQ(r.error().detail, "thirteen");
  EXPECT_EQ(counts.fast, 1);  // the leaf's trap, not the fast form's
  ASSERT_GE(r.error().backtrace.size(), 1u);
  EXPECT_EQ(r.error().backtrace[0].func_name, "caller");
  EXPECT_EQ(CallI32(store, inst, "once", {Value::I32(1)}), 1013u + 1000u);
}

// With the interrupt flag set, a host call still runs (it cannot loop by itself); the
// next call of a wasm function traps. The same in the interpreter and in native code.
std::optional<Trap> InterruptOwnStore(Caller& caller, Value* io) {  // (x) -> x; interrupts if x == 1
  if (io[0].i32() == 1) static_cast<Store*>(caller.user_data)->Interrupt();
  return std::nullopt;
}
TEST(JitHostLeaf, HostCallsDoNotCheckTheInterruptFlag) {
  Store store;
  Linker linker;
  BumpCounts counts;
  linker.DefineHostFunc(store, "host", "bump", FuncType{{ValType::kI32, ValType::kI32}, {ValType::kI32}},
                        &BumpFast, &counts, {}, &BumpLeaf);
  linker.DefineHostFunc(store, "host", "interrupt", FuncType{{ValType::kI32}, {ValType::kI32}},
                        &InterruptOwnStore, &store, {}, nullptr);
  Instance* inst = Instantiate(store, R"(
    (module
      (import "host" "bump" (func $bump (param i32 i32) (result i32)))
      (import "host" "interrupt" (func $interrupt (param i32) (result i32)))
      (memory 1)
      (func $id (param i32) (result i32) local.get 0)
      ;; bump(16, x) after interrupting when x is 1, then a wasm call
      (func (export "bump_then_call") (param $x i32) (result i32)
        (call $id (call $bump (i32.const 16) (call $interrupt (local.get $x))))))
  )", linker);
  ASSERT_NE(inst, nullptr);
  for (int tier = 0; tier < 2; ++tier) {  // the interpreter, then native code
    if (tier == 1) {
      if (!jit::Enabled()) break;
      Warm(store, inst, "bump_then_call", {Value::I32(0)});
      ASSERT_TRUE(HasNative(inst, "bump_then_call"));
    }
    counts = {};
    uint32_t before;
    std::memcpy(&before, inst->memories[0]->data + 16, 4);
    auto r = InvokeByName(store, inst, "bump_then_call", {Value::I32(1)});
    store.ClearInterrupt();
    ASSERT_FALSE(r.ok()) << "tier " << tier;
    EXPECT_EQ(r.error().kind, TrapKind::kInterrupted) << "tier " << tier;
    EXPECT_EQ(counts.fast + counts.leaf, 1) << "tier " << tier;
    if (tier == 1) {
      EXPECT_EQ(counts.leaf, 1) << "native code made the host call, no exit first";
    }
    uint32_t after;
    std::memcpy(&after, inst->memories[0]->data + 16, 4);
    EXPECT_EQ(after, before + 1) << "tier " << tier;
  }
}

// eqz followed by a br_if or br_unless on its result is one test-and-jump (the result is
// never stored). Forward it must pick the right way; backward, an interrupt exit at the
// branch must hand the interpreter the eqz result the taken branch implies, or the
// interpreter would fall out of the loop instead of raising the interrupt.
TEST(JitEqzBranch, ForwardBranchesAndInterruptedBackEdges) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      ;; counts the zeros among i * k mod 7 for i < n
      (func (export "zeros") (param $n i64) (param $k i64) (result i32) (local $z i32)
        (loop $l
          (block $skip
            local.get $n local.get $k i64.mul i64.const 7 i64.rem_u
            i64.eqz i32.eqz br_if $skip
            local.get $z i32.const 1 i32.add local.set $z)
          local.get $n i64.const 1 i64.sub local.tee $n
          i64.eqz i32.eqz br_if $l)
        local.get $z)
      ;; loops while x is 0 (br_if back on eqz = 1), or while x is not 0 (br_unless)
      (func (export "while_zero") (param $x i64) (result i32)
        (loop $l local.get $x i64.eqz br_if $l) i32.const 11)
      (func (export "while_nonzero") (param $x i64) (result i32)
        (loop $l local.get $x i64.eqz i32.eqz br_if $l) i32.const 22))
  )");
  ASSERT_NE(inst, nullptr);
  // n = 700: 100 of 1..700 are multiples of 7 (k = 3 is coprime to 7).
  EXPECT_EQ(CallI32(store, inst, "zeros", {Value::I64(700), Value::I64(3)}), 100u);
  EXPECT_EQ(CallI32(store, inst, "zeros", {Value::I64(700), Value::I64(7)}), 700u);
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "zeros"));
  }
  // Each returns at once when its condition fails...
  EXPECT_EQ(CallI32(store, inst, "while_zero", {Value::I64(5)}), 11u);
  EXPECT_EQ(CallI32(store, inst, "while_nonzero", {Value::I64(0)}), 22u);
  // ...and spins natively until interrupted when it holds.
  for (const char* name : {"while_zero", "while_nonzero"}) {
    std::thread stopper([&store] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      store.Interrupt();
    });
    auto r = InvokeByName(store, inst, name, {Value::I64(std::string_view(name) == "while_zero" ? 0 : 9)});
    stopper.join();
    store.ClearInterrupt();
    ASSERT_FALSE(r.ok()) << name << " returned instead of being interrupted";
    EXPECT_EQ(r.error().kind, TrapKind::kInterrupted) << name;
    if (jit::Enabled()) {
      EXPECT_TRUE(HasNative(inst, name)) << name;
    }
  }
}

// The native entry zeroes only the locals that may be read before they are written, but
// every local still reads as zero until set, whatever an earlier call left in its slot.
TEST(JitPrologue, LocalsReadBeforeSetAreZeroWhateverTheSlotHeld) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      ;; leaves 77 in the slots of its locals
      (func $dirty (local i64 i64 i64 i64) i64.const 77 local.set 0 i64.const 77 local.set 1
        i64.const 77 local.set 2 i64.const 77 local.set 3)
      ;; a and c are set before any read; b is read first (0); d is read only on one path
      (func $fresh (export "fresh") (param $p i32) (result i64) (local $a i64) (local $b i64) (local $c i64) (local $d i64)
        i64.const 5 local.set $a
        local.get $a i64.const 1 i64.add local.set $c
        local.get $b local.get $c i64.add local.set $b
        (if (local.get $p) (then i64.const 1000 local.set $d))
        local.get $b local.get $d i64.add local.get $a i64.add)
      (func (export "run") (param $p i32) (result i64) call $dirty local.get $p call $fresh))
  )");
  ASSERT_NE(inst, nullptr);
  for (uint32_t i = 0; i <= jit::HotThreshold() + 2; ++i) {
    auto r0 = InvokeByName(store, inst, "run", {Value::I32(0)});
    ASSERT_TRUE(r0.ok());
    EXPECT_EQ((*r0)[0].i64(), 6 + 5) << "round " << i;
    auto r1 = InvokeByName(store, inst, "run", {Value::I32(1)});
    ASSERT_TRUE(r1.ok());
    EXPECT_EQ((*r1)[0].i64(), 6 + 1000 + 5) << "round " << i;
  }
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "fresh"));
  }
}

// A function made native translates the functions it calls that are warm (run half the
// hot threshold) first, so it calls them directly.
TEST(JitCalls, WarmCalleesAreTranslatedWithTheirCaller) {
  if (!jit::Enabled() || jit::HotThreshold() < 4) GTEST_SKIP() << "needs the JIT with a hot threshold";
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      (func $warm (export "warm") (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
      (func $cold (export "cold") (param i32) (result i32) local.get 0 i32.const 5 i32.mul)
      ;; loops n times; calls warm in the first w iterations, cold in the first one only
      (func (export "loop") (param $n i32) (param $w i32) (result i32) (local $i i32) (local $s i32)
        (loop $l
          (if (i32.lt_u (local.get $i) (local.get $w))
            (then (local.set $s (i32.add (local.get $s) (call $warm (local.get $i))))))
          (if (i32.eqz (local.get $i))
            (then (local.set $s (i32.add (local.get $s) (call $cold (i32.const 7))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        local.get $s))
  )");
  ASSERT_NE(inst, nullptr);
  const uint32_t w = jit::HotThreshold() * 3 / 4;  // warm, not hot, when the loop turns native
  const uint32_t n = jit::HotThreshold() * 2;
  EXPECT_EQ(CallI32(store, inst, "loop", {Value::I32(n), Value::I32(w)}), 3 * (w * (w - 1) / 2) + 35);
  EXPECT_TRUE(HasNative(inst, "loop"));
  EXPECT_TRUE(HasNative(inst, "warm"));
  EXPECT_FALSE(HasNative(inst, "cold"));  // called once
  // And the direct call works once w passes the point where the loop turned native.
  EXPECT_EQ(CallI32(store, inst, "loop", {Value::I32(n), Value::I32(n)}), 3 * (n * (n - 1) / 2) + 35);
}

// A compare-and-branch reads its left operand where it is: a pinned local's register, a
// pool register, rax; the right one from a register, as an immediate or from its slot.
TEST(JitCompareBranch, LeftOperandInARegister) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      ;; i and x live in registers through the loop; each compare tests one of them
      ;; against a constant or the other local.
      (func (export "count") (param $n i32) (result i64)
        (local $i i32) (local $x i64) (local $hits i64)
        (loop $l
          (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.extend_i32_u (local.get $i))))
          (local.set $x (i64.and (local.get $x) (i64.const 0xffff)))
          (if (i64.lt_s (local.get $x) (i64.extend_i32_u (local.get $i)))
            (then (local.set $hits (i64.add (local.get $hits) (i64.const 1000)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i64.gt_u (local.get $x) (i64.const 30000))
            (then (local.set $hits (i64.add (local.get $hits) (i64.const 1)))))
          (br_if $l (i32.lt_s (local.get $i) (local.get $n))))
        (i64.add (local.get $hits) (i64.shl (local.get $x) (i64.const 32))))
      (func (export "below") (param $n i32) (result i32) (local $i i32) (local $s i32)
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $s (i32.add (local.get $s) (local.get $i)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 700))))
        (i32.add (local.get $s) (local.get $n))))
  )");
  ASSERT_NE(inst, nullptr);
  auto count = [](uint32_t n) {
    uint64_t x = 0, hits = 0;
    uint32_t i = 0;
    do {
      x = (x * 3 + i) & 0xffff;
      if (static_cast<int64_t>(x) < static_cast<int64_t>(i)) hits += 1000;
      ++i;
      if (x > 30000) hits += 1;
    } while (static_cast<int32_t>(i) < static_cast<int32_t>(n));
    return hits + (x << 32);
  };
  for (uint32_t n : {1u, 5u, 500u, 5000u}) {
    auto r = InvokeByName(store, inst, "count", {Value::I32(n)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].i64(), count(n)) << n;
  }
  EXPECT_EQ(CallI32(store, inst, "below", {Value::I32(5)}), 700u * 701u / 2 + 5);
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "count"));
    EXPECT_TRUE(HasNative(inst, "below"));
  }
}

// Float values handed over in xmm0 rather than through their slots: an f64.load or
// f64.const read by the f64 op right after it, sqrt of the previous result, f64.store of
// the previous result; and integer constants past the function's 32 constant slots
// (written where they are used) read back as immediates.
TEST(JitFloats, ValuesPassedInRegistersMatchTheInterpreter) {
  std::string junk;  // 40 distinct constants first: the kernel's own are then written
  for (int k = 0; k < 40; ++k) junk += "(local.set $j (i32.add (local.get $j) (i32.const " + std::to_string(1000 + k) + ")))\n";
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      (memory 1)
      ;; out[i] = (0.25 + in[i+1]) * sqrt(2 * 1.5 * in[i]) - 3.0, for i < n
      (func (export "kernel") (param $in i32) (param $out i32) (param $n i32) (result i32)
        (local $j i32) (local $i i32) (local $x f64) (local $y f64) (local $z f64)
        )" + junk + R"(
        (loop $l
          (local.set $x (f64.load (i32.add (local.get $in) (i32.const 8))))
          (local.set $y (f64.mul (f64.load (local.get $in)) (f64.const 1.5)))
          (local.set $z (f64.add (f64.const 0.25) (local.get $x)))
          (f64.store (local.get $out)
            (f64.sub (f64.mul (local.get $z) (f64.sqrt (f64.add (local.get $y) (local.get $y))))
                     (f64.const 3.0)))
          (local.set $in (i32.add (local.get $in) (i32.const 8)))
          (local.set $out (i32.add (local.get $out) (i32.const 8)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $j)))
  )");
  ASSERT_NE(inst, nullptr);
  uint8_t* mem = inst->memories[0]->data;
  constexpr uint32_t kIn = 64, kOut = 32768, kN = 400;
  std::vector<double> in(kN + 1);
  for (uint32_t i = 0; i <= kN; ++i) in[i] = 0.5 + i * 0.37;
  std::memcpy(mem + kIn, in.data(), in.size() * 8);
  auto expected = [&](uint32_t i) {
    double y = in[i] * 1.5;
    return (0.25 + in[i + 1]) * std::sqrt(y + y) - 3.0;
  };
  const uint32_t junk_sum = 40 * 1000 + 40 * 39 / 2;
  for (int round = 0; round < 3; ++round) {  // the interpreter, then native code
    std::memset(mem + kOut, 0, kN * 8);
    EXPECT_EQ(CallI32(store, inst, "kernel", {Value::I32(kIn), Value::I32(kOut), Value::I32(kN)}), junk_sum);
    for (uint32_t i = 0; i < kN; ++i) {
      double got;
      std::memcpy(&got, mem + kOut + i * 8, 8);
      ASSERT_EQ(got, expected(i)) << "round " << round << " element " << i;
    }
  }
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "kernel"));
  }
  // A store past the end traps, after the elements before it were written.
  std::memset(mem + 65536 - 16, 0, 16);
  auto r = InvokeByName(store, inst, "kernel", {Value::I32(kIn), Value::I32(65536 - 16), Value::I32(3)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kMemoryOutOfBounds);
  double last;
  std::memcpy(&last, mem + 65536 - 8, 8);
  EXPECT_EQ(last, expected(1));
}

// call_indirect resolves its callee inline: the table read where it is now (a table
// grown after the translation moves its elements), and each failed check (out of
// bounds, null, another type) exits for the interpreter's trap.
TEST(JitCallIndirect, GrownTableNullAndMismatchedElements) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      (type $ii (func (param i32) (result i32)))
      (type $v (func))
      (table $t 3 funcref)
      (elem (i32.const 0) $double $nop)
      (elem declare func $square)
      (func $double (type $ii) local.get 0 i32.const 2 i32.mul)
      (func $square (type $ii) local.get 0 local.get 0 i32.mul)
      (func $nop (export "nop") (type $v))
      (func (export "call") (param $i i32) (param $x i32) (result i32)
        local.get $x local.get $i call_indirect (type $ii))
      (func (export "grow") (result i32) (table.grow $t (ref.func $square) (i32.const 1000))))
  )");
  ASSERT_NE(inst, nullptr);
  Warm(store, inst, "call", {Value::I32(0), Value::I32(5)});
  Warm(store, inst, "nop", {});  // native too: only the type check stops the call
  if (jit::Enabled()) {
    ASSERT_TRUE(HasNative(inst, "call"));
    ASSERT_TRUE(HasNative(inst, "nop"));
  }
  EXPECT_EQ(CallI32(store, inst, "call", {Value::I32(0), Value::I32(5)}), 10u);
  auto expect_trap = [&](uint32_t i, TrapKind kind) {
    auto r = InvokeByName(store, inst, "call", {Value::I32(i), Value::I32(5)});
    ASSERT_FALSE(r.ok()) << "element " << i;
    EXPECT_EQ(r.error().kind, kind) << "element " << i;
  };
  expect_trap(1, TrapKind::kIndirectCallTypeMismatch);
  expect_trap(2, TrapKind::kUninitializedElement);
  expect_trap(3, TrapKind::kUndefinedElement);
  EXPECT_EQ(CallI32(store, inst, "grow", {}), 3u);
  EXPECT_EQ(CallI32(store, inst, "call", {Value::I32(3), Value::I32(6)}), 36u);
  EXPECT_EQ(CallI32(store, inst, "call", {Value::I32(1002), Value::I32(7)}), 49u);
  expect_trap(1003, TrapKind::kUndefinedElement);
  EXPECT_EQ(CallI32(store, inst, "call", {Value::I32(0), Value::I32(8)}), 16u);
}

// A compare-and-branch back-edge checks the interrupt flag: a loop that never ends is
// still interrupted in native code, and one that ends returns its result.
TEST(JitCompareBranch, BackEdgesCheckTheInterruptFlag) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      ;; steps of 2 from 0 until i == n: n / 2 steps for an even n, forever for an odd one
      (func (export "steps") (param $n i32) (result i32) (local $i i32) (local $k i32)
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $l (i32.ne (local.get $i) (local.get $n))))
        (local.get $k)))
  )");
  ASSERT_NE(inst, nullptr);
  EXPECT_EQ(CallI32(store, inst, "steps", {Value::I32(2000)}), 1000u);
  EXPECT_EQ(CallI32(store, inst, "steps", {Value::I32(2)}), 1u);
  std::thread stopper([&store] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    store.Interrupt();
  });
  auto r = InvokeByName(store, inst, "steps", {Value::I32(7)});
  stopper.join();
  store.ClearInterrupt();
  ASSERT_FALSE(r.ok()) << "returned instead of being interrupted";
  EXPECT_EQ(r.error().kind, TrapKind::kInterrupted);
  EXPECT_EQ(CallI32(store, inst, "steps", {Value::I32(600)}), 300u);
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "steps"));
  }
}

// f64 values kept in the float pool (xmm registers) are read from there only while the
// register still holds them: a local rewritten by an integer op or a copy, a call whose
// callee uses the same registers, and an exit at a store all see the current value.
TEST(JitFloats, PooledValuesAreForgottenWhenTheirSlotIsWritten) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      (memory 1)
      (func $clobber (param $a f64) (param $b f64) (result f64)
        (local $s f64) (local $d f64) (local $t f64)
        (local.set $s (f64.add (local.get $a) (local.get $b)))
        (local.set $d (f64.sub (local.get $a) (local.get $b)))
        (local.set $t (f64.mul (local.get $s) (local.get $d)))
        (f64.add (f64.mul (local.get $t) (local.get $s)) (f64.div (local.get $d) (f64.const 7.0))))
      ;; out[2i] = u, out[2i+1] = v (see `expected` below); returns how often w > x
      (func (export "kernel") (param $in i32) (param $out i32) (param $n i32) (result i32)
        (local $i i32) (local $count i32)
        (local $x f64) (local $y f64) (local $z f64) (local $w f64) (local $v f64) (local $u f64)
        (loop $l
          (local.set $x (f64.load (local.get $in)))
          (local.set $y (f64.mul (local.get $x) (f64.const 3.0)))
          (local.set $z (f64.sub (local.get $y) (local.get $x)))
          (local.set $x (f64.reinterpret_i64
                          (i64.add (i64.reinterpret_f64 (local.get $x)) (i64.const 1))))
          (local.set $w (f64.add (local.get $x) (local.get $z)))
          (local.set $z (local.get $y))
          (local.set $v (f64.mul (local.get $z) (local.get $w)))
          (local.set $u (f64.add (call $clobber (local.get $v) (local.get $w)) (local.get $y)))
          (local.set $count (i32.add (local.get $count) (f64.gt (local.get $w) (local.get $x))))
          (f64.store (local.get $out) (local.get $u))
          (f64.store offset=8 (local.get $out) (local.get $v))
          (local.set $in (i32.add (local.get $in) (i32.const 8)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $count)))
  )");
  ASSERT_NE(inst, nullptr);
  uint8_t* mem = inst->memories[0]->data;
  constexpr uint32_t kIn = 64, kOut = 16384, kN = 300;
  std::vector<double> in(kN);
  for (uint32_t i = 0; i < kN; ++i) in[i] = (i % 2 ? -1.0 : 1.0) * (0.75 + i * 0.013);
  std::memcpy(mem + kIn, in.data(), in.size() * 8);
  struct UV {
    double u, v;
    bool w_above_x;
  };
  auto expected = [&](uint32_t i) {
    const double x0 = in[i], y = x0 * 3.0, z = y - x0;
    const double x1 = std::bit_cast<double>(std::bit_cast<uint64_t>(x0) + 1);
    const double w = x1 + z, v = y * w;
    const double s = v + w, d = v - w, t = s * d;
    return UV{t * s + d / 7.0 + y, v, w > x1};
  };
  uint32_t count = 0;
  for (uint32_t i = 0; i < kN; ++i) count += expected(i).w_above_x;
  ASSERT_GT(count, 0u);
  ASSERT_LT(count, kN);
  for (int round = 0; round < 3; ++round) {  // the interpreter, then native code
    std::memset(mem + kOut, 0, kN * 16);
    EXPECT_EQ(CallI32(store, inst, "kernel", {Value::I32(kIn), Value::I32(kOut), Value::I32(kN)}), count);
    for (uint32_t i = 0; i < kN; ++i) {
      double got[2];
      std::memcpy(got, mem + kOut + i * 16, 16);
      ASSERT_EQ(got[0], expected(i).u) << "round " << round << " element " << i;
      ASSERT_EQ(got[1], expected(i).v) << "round " << round << " element " << i;
    }
  }
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "kernel"));
  }
  // The second iteration's first store is out of bounds: the interpreter re-executes it
  // from the slots, which hold what the pool held.
  std::memset(mem + 65536 - 16, 0, 16);
  auto r = InvokeByName(store, inst, "kernel", {Value::I32(kIn), Value::I32(65536 - 16), Value::I32(2)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kMemoryOutOfBounds);
  double first[2];
  std::memcpy(first, mem + 65536 - 16, 16);
  EXPECT_EQ(first[0], expected(0).u);
  EXPECT_EQ(first[1], expected(0).v);
}

// In guard mode r13 (the memory size where accesses are checked inline) is one more pool
// register, here holding a pinned local: memory.size and memory.fill read the size from
// the memory instead.
TEST(JitMemorySize, ReadInALoopThatUsesEveryRegister) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      (memory 3)
      (func (export "busy") (param $n i32) (result i32)
        (local $i i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)
        (local $e i32) (local $f i32)
        (loop $l
          (local.set $a (i32.add (local.get $a) (local.get $i)))
          (local.set $b (i32.xor (local.get $b) (local.get $a)))
          (local.set $c (i32.add (local.get $c) (local.get $b)))
          (local.set $d (i32.add (local.get $d) (local.get $c)))
          (local.set $e (i32.xor (local.get $e) (local.get $d)))
          (local.set $f (i32.add (local.get $f) (memory.size)))
          (memory.fill (i32.and (local.get $e) (i32.const 1023)) (local.get $i) (i32.const 16))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (i32.add (local.get $f)
                 (i32.xor (i32.xor (local.get $a) (local.get $b))
                          (i32.xor (local.get $c) (i32.xor (local.get $d) (local.get $e)))))))
  )");
  ASSERT_NE(inst, nullptr);
  constexpr uint32_t kN = 500;
  uint32_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 0;
  std::vector<uint8_t> expected_mem(1040, 0);
  for (uint32_t i = 0; i < kN; ++i) {
    a += i;
    b ^= a;
    c += b;
    d += c;
    e ^= d;
    f += 3;
    std::memset(expected_mem.data() + (e & 1023), static_cast<uint8_t>(i), 16);
  }
  const uint32_t expected = f + (a ^ b ^ c ^ d ^ e);
  for (int round = 0; round < 3; ++round) {  // the interpreter, then native code
    std::memset(inst->memories[0]->data, 0, 1040);
    EXPECT_EQ(CallI32(store, inst, "busy", {Value::I32(kN)}), expected) << "round " << round;
    EXPECT_EQ(std::memcmp(inst->memories[0]->data, expected_mem.data(), 1040), 0) << "round " << round;
  }
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "busy"));
  }
}

// Loads, `local + c` and copies into a local pinned through a loop write its register
// directly (no detour through rax).
TEST(JitPinnedLocals, LoadsAndLeasWriteTheirRegisterDirectly) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module
      (memory 1)
      ;; walks a list of [next i32][value i32] nodes from $p; sums value * 3 + its low
      ;; byte (signed), and counts nodes
      (func (export "walk") (param $p i32) (result i64)
        (local $sum i64) (local $b i32) (local $n i32) (local $prev i32)
        (loop $l
          (local.set $b (i32.load8_s offset=4 (local.get $p)))
          (local.set $sum (i64.add (local.get $sum)
            (i64.extend_i32_s (i32.add (i32.mul (i32.load offset=4 (local.get $p)) (i32.const 3))
                                       (i32.add (local.get $b) (i32.mul (local.get $b) (i32.const 0)))))))
          (local.set $prev (local.get $p))
          (local.set $p (i32.load (local.get $p)))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (br_if $l (i32.ne (local.get $p) (i32.const 0))))
        (i64.add (i64.shl (i64.extend_i32_u (local.get $n)) (i64.const 40))
                 (i64.add (local.get $sum) (i64.extend_i32_u (local.get $prev))))))
  )");
  ASSERT_NE(inst, nullptr);
  uint8_t* mem = inst->memories[0]->data;
  // 300 nodes, 16 bytes apart, in a scrambled order; values with both byte signs.
  constexpr uint32_t kNodes = 300, kBase = 1024;
  std::vector<uint32_t> order(kNodes);
  for (uint32_t i = 0; i < kNodes; ++i) order[i] = (i * 37) % kNodes;
  int64_t sum = 0;
  for (uint32_t i = 0; i < kNodes; ++i) {
    uint32_t at = kBase + order[i] * 16, next = i + 1 < kNodes ? kBase + order[i + 1] * 16 : 0;
    int32_t value = static_cast<int32_t>(i * 2654435761u);
    std::memcpy(mem + at, &next, 4);
    std::memcpy(mem + at + 4, &value, 4);
    int32_t b = static_cast<int8_t>(value & 0xFF);
    sum += static_cast<int32_t>(static_cast<uint32_t>(value) * 3u + static_cast<uint32_t>(b));
  }
  const uint64_t last = kBase + order[kNodes - 1] * 16;
  const uint64_t expected = (uint64_t{kNodes} << 40) + static_cast<uint64_t>(sum) + last;
  for (int round = 0; round < 3; ++round) {
    auto r = InvokeByName(store, inst, "walk", {Value::I32(kBase + order[0] * 16)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(static_cast<uint64_t>((*r)[0].i64()), expected) << "round " << round;
  }
  if (jit::Enabled()) {
    EXPECT_TRUE(HasNative(inst, "walk"));
  }
}

}  // namespace
}  // namespace weft::wasm
