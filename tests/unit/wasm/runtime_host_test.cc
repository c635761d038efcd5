// Host functions, the Caller, re-entrancy, linking rules and instantiation traps.
#include <cstring>
#include <memory>
#include <string>

#include "runtime_wat.h"

namespace weft::wasm {
namespace {

using testing::Instantiate;
using testing::ParseWat;

FuncType Sig(std::vector<ValType> p, std::vector<ValType> r) { return FuncType{p, r}; }
constexpr ValType I32 = ValType::kI32;

TEST(RuntimeHost, CallerSeesMemoryAndUserData) {
  Store store;
  Linker linker;
  struct Seen { std::string text; int calls = 0; } seen;
  linker.DefineHostFunc(store, "env", "log", Sig({I32, I32}, {I32}),
      [](Caller& c, const Value* args, Value* results) -> std::optional<Trap> {
        auto* s = static_cast<Seen*>(c.user_data);
        MemInst* m = c.memory();
        if (!m || !m->InBounds(args[0].i32(), args[1].i32()))
          return Trap::Make(TrapKind::kHost, "log: out of bounds");
        s->text.assign(reinterpret_cast<char*>(m->data + args[0].i32()), args[1].i32());
        s->calls++;
        results[0] = Value::I32(args[1].i32() * 2);
        return std::nullopt;
      }, &seen);
  Instance* inst = Instantiate(store, R"(
    (module
      (import "env" "log" (func $log (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hello host")
      (func (export "run") (result i32) i32.const 16 i32.const 10 call $log)
      (func (export "bad") (result i32) i32.const 65530 i32.const 10 call $log))
  )", linker);
  ASSERT_NE(inst, nullptr);
  auto r = Invoke(store, inst->GetFunc("run"), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), 20u);
  EXPECT_EQ(seen.text, "hello host");
  EXPECT_EQ(seen.calls, 1);

  auto bad = Invoke(store, inst->GetFunc("bad"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, TrapKind::kHost);
  EXPECT_EQ(bad.error().Message(), "host trap: log: out of bounds");
  ASSERT_FALSE(bad.error().backtrace.empty());  // the wasm caller is in the backtrace
  EXPECT_EQ(bad.error().backtrace[0].func_index, 2u);
}

TEST(RuntimeHost, HostExitTrapCarriesTheCode) {
  Store store;
  Linker linker;
  linker.DefineHostFunc(store, "env", "exit", Sig({I32}, {}),
      [](Caller&, const Value* args, Value*) -> std::optional<Trap> {
        return Trap::Exit(static_cast<int32_t>(args[0].i32()));
      });
  Instance* inst = Instantiate(store, R"(
    (module (import "env" "exit" (func $exit (param i32)))
      (func (export "main") i32.const 7 call $exit unreachable))
  )", linker);
  ASSERT_NE(inst, nullptr);
  auto r = Invoke(store, inst->GetFunc("main"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kExit);
  EXPECT_EQ(r.error().exit_code, 7);
}

TEST(RuntimeHost, ReentrantCallFromHostFunction) {
  Store store;
  Linker linker;
  Instance* self = nullptr;
  // host "twice"(x) calls the guest's "inc" twice, from inside a guest call.
  linker.DefineHostFunc(store, "env", "twice", Sig({I32}, {I32}),
      [&self](Caller& c, const Value* args, Value* results) -> std::optional<Trap> {
        Value v = args[0];
        for (int i = 0; i < 2; ++i) {
          Value out;
          if (auto t = Call(c.store, self->GetFunc("inc"), {&v, 1}, {&out, 1})) return t;
          v = out;
        }
        results[0] = v;
        return std::nullopt;
      });
  self = Instantiate(store, R"(
    (module (import "env" "twice" (func $twice (param i32) (result i32)))
      (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func (export "run") (param i32) (result i32) (local i32)
        i32.const 1000 local.set 1
        local.get 0 call $twice
        local.get 1 i32.add)  ;; the caller's frame survives the nested calls
      (func (export "trap_inside") (result i32) i32.const 0 call $twice i32.const 0 i32.div_u))
  )", linker);
  ASSERT_NE(self, nullptr);
  Value arg = Value::I32(5);
  auto r = Invoke(store, self->GetFunc("run"), {&arg, 1});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ((*r)[0].i32(), 1007u);
  auto t = Invoke(store, self->GetFunc("trap_inside"), {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, TrapKind::kIntegerDivideByZero);
}

TEST(RuntimeHost, TrapInNestedCallShowsBothActivations) {
  Store store;
  Linker linker;
  Instance* self = nullptr;
  linker.DefineHostFunc(store, "env", "callback", Sig({}, {}),
      [&self](Caller& c, const Value*, Value*) -> std::optional<Trap> {
        return Call(c.store, self->GetFunc("inner"), {}, {});
      });
  self = Instantiate(store, R"(
    (module $m (import "env" "callback" (func $cb))
      (func $inner (export "inner") unreachable)
      (func $outer (export "outer") call $cb))
  )", linker);
  ASSERT_NE(self, nullptr);
  auto r = Invoke(store, self->GetFunc("outer"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TrapKind::kUnreachable);
  ASSERT_EQ(r.error().backtrace.size(), 2u);
  EXPECT_EQ(r.error().backtrace[0].func_name, "inner");
  EXPECT_EQ(r.error().backtrace[1].func_name, "outer");
}

TEST(RuntimeHost, UnknownImportNamesModuleAndField) {
  Store store;
  Linker linker;
  auto m = ParseWat(R"((module (import "env" "nope" (func))))");
  auto r = linker.Instantiate(store, m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, InstantiateError::Kind::kLink);
  EXPECT_EQ(r.error().Message(), "unknown import: `env::nope` has not been defined");
}

TEST(RuntimeHost, IncompatibleImportTypes) {
  Store store;
  Linker linker;
  linker.DefineHostFunc(store, "env", "f", Sig({I32}, {}),
                        [](Caller&, const Value*, Value*) { return std::optional<Trap>(); });
  linker.Define("env", "mem", Extern::Memory(store.CreateMemory(MemoryType{Limits{1, 2}})));
  linker.Define("env", "g", Extern::Global(store.CreateGlobal(GlobalType{I32, false}, Value::I32(1))));
  struct Case { const char* wat; bool ok; };
  const Case cases[] = {
    {R"((module (import "env" "f" (func (param i32)))))", true},
    {R"((module (import "env" "f" (func (param i64)))))", false},
    {R"((module (import "env" "f" (func (param i32) (result i32)))))", false},
    {R"((module (import "env" "f" (memory 1))))", false},
    {R"((module (import "env" "mem" (memory 1))))", true},
    {R"((module (import "env" "mem" (memory 1 3))))", true},
    {R"((module (import "env" "mem" (memory 2))))", false},   // min 1 < 2
    {R"((module (import "env" "mem" (memory 0 1))))", false}, // max 2 > 1
    {R"((module (import "env" "g" (global i32))))", true},
    {R"((module (import "env" "g" (global (mut i32)))))", false},
    {R"((module (import "env" "g" (global i64))))", false},
  };
  for (const Case& c : cases) {
    auto r = linker.Instantiate(store, ParseWat(c.wat));
    EXPECT_EQ(r.ok(), c.ok) << c.wat;
    if (!r.ok()) {
      EXPECT_EQ(r.error().Message().rfind("incompatible import type", 0), size_t{0}) << c.wat;
    }
  }
}

TEST(RuntimeHost, SegmentOutOfBoundsTrapsAndKeepsEarlierWrites) {
  Store store;
  Linker linker;
  MemInst* mem = store.CreateMemory(MemoryType{Limits{1, std::nullopt}});
  linker.Define("env", "mem", Extern::Memory(mem));
  auto r = linker.Instantiate(store, ParseWat(R"(
    (module (import "env" "mem" (memory 1))
      (data (i32.const 0) "ab")
      (data (i32.const 65535) "cd"))
  )"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, InstantiateError::Kind::kTrap);
  EXPECT_EQ(r.error().trap.kind, TrapKind::kMemoryOutOfBounds);
  EXPECT_EQ(std::memcmp(mem->data, "ab", 2), 0);
  EXPECT_EQ(mem->data[65535], 0);
}

TEST(RuntimeHost, StartFunctionRunsAndItsTrapFailsInstantiation) {
  Store store;
  Instance* inst = Instantiate(store, R"(
    (module (global $g (export "g") (mut i32) (i32.const 1))
      (func $s global.get $g i32.const 41 i32.add global.set $g) (start $s))
  )");
  ASSERT_NE(inst, nullptr);
  EXPECT_EQ(inst->GetExport("g")->global()->value.i32(), 42u);
  Linker linker;
  auto r = linker.Instantiate(store, ParseWat("(module (func $s unreachable) (start $s))"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, InstantiateError::Kind::kTrap);
  EXPECT_EQ(r.error().Message(), "unreachable");
}

TEST(RuntimeHost, CallIndirectAcrossInstancesUsesStoreTypeIdentity) {
  Store store;
  Linker linker;
  Instance* a = Instantiate(store, R"(
    (module (table (export "t") 2 funcref)
      (func $f (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
      (elem (i32.const 0) $f))
  )");
  ASSERT_NE(a, nullptr);
  linker.DefineInstance("a", *a);
  Instance* b = Instantiate(store, R"(
    (module (import "a" "t" (table 2 funcref))
      (type $i_i (func (param i32) (result i32)))
      (type $v_v (func))
      (func (export "ok") (result i32) i32.const 5 i32.const 0 call_indirect (type $i_i))
      (func (export "mismatch") i32.const 0 call_indirect (type $v_v))
      (func (export "null") (result i32) i32.const 5 i32.const 1 call_indirect (type $i_i))
      (func (export "oob") (result i32) i32.const 5 i32.const 2 call_indirect (type $i_i)))
  )", linker);
  ASSERT_NE(b, nullptr);
  auto ok = Invoke(store, b->GetFunc("ok"), {});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].i32(), 15u);
  EXPECT_EQ(Invoke(store, b->GetFunc("mismatch"), {}).error().kind,
            TrapKind::kIndirectCallTypeMismatch);
  EXPECT_EQ(Invoke(store, b->GetFunc("null"), {}).error().kind, TrapKind::kUninitializedElement);
  EXPECT_EQ(Invoke(store, b->GetFunc("oob"), {}).error().kind, TrapKind::kUndefinedElement);
}

}  // namespace
}  // namespace weft::wasm

namespace weft::wasm {
namespace {

// The fast form (HostFuncPtr): arguments and results share `io`, state comes through
// user_data, keep_alive lives as long as the store, and traps and re-entry behave as for
// the std::function form. Run from the interpreter, from native code once hot, and
// called directly by the host.
struct Accumulator {
  uint64_t total = 0;
  int calls = 0;
};
std::optional<Trap> AddAndSwap(Caller& c, Value* io) {
  auto* acc = static_cast<Accumulator*>(c.user_data);
  uint32_t a = io[0].i32(), b = io[1].i32();  // read every argument first
  acc->total += a + b;
  acc->calls++;
  if (a == 0xDEAD) return Trap::Make(TrapKind::kHost, "dead");
  io[0] = Value::I32(b);  // results overwrite the arguments
  io[1] = Value::I32(a);
  return std::nullopt;
}

TEST(RuntimeHost, FunctionPointerFormSharesArgumentAndResultSlots) {
  auto acc = std::make_shared<Accumulator>();
  std::weak_ptr<Accumulator> watch = acc;
  {
    Store store;
    Linker linker;
    linker.DefineHostFunc(store, "env", "swap", Sig({I32, I32}, {I32, I32}), &AddAndSwap,
                          acc.get(), acc);
    Accumulator* raw = acc.get();
    acc.reset();  // the store keeps it alive now
    Instance* inst = Instantiate(store, R"(
      (module
        (import "env" "swap" (func $swap (param i32 i32) (result i32 i32)))
        ;; n calls; each result pair is (b, a): sum of b*16 + a over the loop
        (func (export "loop") (param $n i32) (result i32) (local $sum i32) (local $b i32)
          (loop $l
            local.get $n i32.const 3 call $swap
            local.set $b
            local.get $sum i32.add
            local.get $b i32.const 16 i32.mul i32.add local.set $sum
            local.get $n i32.const 1 i32.sub local.tee $n br_if $l)
          local.get $sum)
        (func (export "dead") (result i32) i32.const 0xDEAD i32.const 1 call $swap i32.add))
    )", linker);
    ASSERT_NE(inst, nullptr);
    // 200 iterations: hot enough to run natively (jit::HotThreshold() is 100 by default).
    auto r = Invoke(store, inst->GetFunc("loop"), std::vector<Value>{Value::I32(200)});
    ASSERT_TRUE(r.ok()) << r.error().Message();
    // sum over n=200..1 of (3 + n*16)
    EXPECT_EQ((*r)[0].i32(), 200u * 3 + 16u * (200 * 201 / 2));
    EXPECT_EQ(raw->calls, 200);
    EXPECT_EQ(raw->total, 200u * 3 + 200 * 201 / 2);

    auto dead = Invoke(store, inst->GetFunc("dead"), {});
    ASSERT_FALSE(dead.ok());
    EXPECT_EQ(dead.error().Message(), "host trap: dead");
    ASSERT_FALSE(dead.error().backtrace.empty());

    // Called by the host itself.
    auto direct = Invoke(store, linker.Get("env", "swap")->func(), std::vector<Value>{Value::I32(5), Value::I32(9)});
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ((*direct)[0].i32(), 9u);
    EXPECT_EQ((*direct)[1].i32(), 5u);
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());  // released with the store
}

// wasi-libc wraps each import in a function that forwards its parameters and masks the
// result; calls to such a wrapper go straight to the host function (compiler.cc,
// ForwardOf). Near misses stay ordinary calls. 200 iterations: the first run
// interpreted, the rest native.
TEST(RuntimeHost, CallsThroughForwardingWrappersGoStraightToTheHost) {
  Store store;
  Linker linker;
  linker.DefineHostFunc(store, "env", "get", Sig({I32, I32}, {I32}),
      [](Caller&, const Value* args, Value* results) -> std::optional<Trap> {
        if (args[0].i32() == 5000) return Trap::Make(TrapKind::kHost, "boom");
        results[0] = Value::I32(0x10000 + args[0].i32() * 16 + args[1].i32());
        return std::nullopt;
      });
  Instance* inst = Instantiate(store, R"(
    (module
      (import "env" "get" (func $get (param i32 i32) (result i32)))
      (func $masked (param i32 i32) (result i32)
        local.get 0 local.get 1 call $get i32.const 0xffff i32.and)
      (func $plain (param i32 i32) (result i32) local.get 0 local.get 1 call $get)
      (func $swapped (param i32 i32) (result i32) local.get 1 local.get 0 call $get)
      (func $extra (param i32 i32) (result i32)
        local.get 0 local.get 1 call $get i32.const 1 i32.add)
      (func (export "loop") (param $n i32) (result i32) (local $sum i32)
        (loop $l
          local.get $n i32.const 3 call $masked
          local.get $n i32.const 3 call $plain i32.add
          local.get $n i32.const 3 call $swapped i32.add
          local.get $n i32.const 3 call $extra i32.add
          local.get $sum i32.add local.set $sum
          local.get $n i32.const 1 i32.sub local.tee $n br_if $l)
        local.get $sum)
      (func $caller (export "trap") (result i32) i32.const 5000 i32.const 0 call $masked)
      (func $caller2 (export "trap2") (result i32) i32.const 0 i32.const 5000 call $swapped))
  )", linker);
  ASSERT_NE(inst, nullptr);
  auto r = Invoke(store, inst->GetFunc("loop"), std::vector<Value>{Value::I32(200)});
  ASSERT_TRUE(r.ok()) << r.error().Message();
  uint32_t expected = 0;
  for (uint32_t n = 1; n <= 200; ++n) {
    expected += (n * 16 + 3)                  // masked
                + (0x10000 + n * 16 + 3)      // plain
                + (0x10000 + 3 * 16 + n)      // swapped
                + (0x10000 + n * 16 + 3 + 1); // extra
  }
  EXPECT_EQ((*r)[0].i32(), expected);

  // The forwarded wrapper leaves no frame; an ordinary one does.
  auto t = Invoke(store, inst->GetFunc("trap"), {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().Message(), "host trap: boom");
  ASSERT_EQ(t.error().backtrace.size(), 1u);
  EXPECT_EQ(t.error().backtrace[0].func_name, "caller");
  auto t2 = Invoke(store, inst->GetFunc("trap2"), {});
  ASSERT_FALSE(t2.ok());
  ASSERT_EQ(t2.error().backtrace.size(), 2u);
  EXPECT_EQ(t2.error().backtrace[0].func_name, "swapped");
  EXPECT_EQ(t2.error().backtrace[1].func_name, "caller2");
}

}  // namespace
}  // namespace weft::wasm
