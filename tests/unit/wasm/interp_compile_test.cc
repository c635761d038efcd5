// The compiler's lazy operands and destination folding, checked by running code whose
// result would differ if a lazy local read or a folded local.set were mis-ordered.
#include <algorithm>
#include <bit>
#include <utility>

#include "runtime_wat.h"
#include "wasm/runtime/store_impl.h"

namespace weft::wasm {
namespace {

using testing::Instantiate;

constexpr char kModule[] = R"(
(module
  ;; a lazy read of local 0 must see the value from before the local.set
  (func (export "old_and_new") (param i32 i32) (result i32 i32)
    local.get 0 local.get 1 local.set 0 local.get 0)
  ;; returning locals in swapped order: results are written over the params
  (func (export "swap") (param i32 i32) (result i32 i32)
    local.get 1 local.get 0 return)
  (func (export "swap_end") (param i32 i32) (result i32 i32)
    local.get 1 local.get 0)
  ;; results read locals that earlier results overwrite (or not): copied straight from
  ;; the local only where nothing before it wrote that local
  (func (export "rotate") (param i32 i32 i32) (result i32 i32 i32)
    local.get 2 local.get 0 local.get 1)
  (func (export "rotate_back") (param i32 i32 i32) (result i32 i32 i32)
    local.get 1 local.get 2 local.get 0 return)
  (func (export "repeat") (param i32 i32 i32) (result i32 i32 i32)
    local.get 1 local.get 1 local.get 0)
  (func (export "same") (param i32) (result i32) local.get 0)
  ;; local.tee after an add is folded into the add; the tee'd value is reused
  (func (export "tee") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add local.tee 0 local.get 0 i32.add)
  ;; a lazy local below an `if` whose arm writes that local
  (func (export "lazy_across_if") (param i32 i32) (result i32)
    local.get 0
    local.get 1 if i32.const 99 local.set 0 end)
  ;; the value reaching local.set comes from two paths: no folding across the label
  (func (export "merge") (param i32) (result i32) (local i32)
    block (result i32) i32.const 1 local.get 0 br_if 0 drop i32.const 2 end
    local.set 1 local.get 1)
  ;; br_table carrying a value to labels at different heights
  (func (export "table") (param i32) (result i32)
    block (result i32)
      block (result i32)
        i32.const 7 i32.const 8 drop
        local.get 0 i32.const 10 i32.mul
        local.get 0 br_table 0 1 1
      end
      i32.const 1 i32.add
    end)
  ;; loop with a parameter (multi-value block type) summing n..1
  (func (export "loop_param") (param i32) (result i32) (local i32)
    i32.const 0
    loop (param i32) (result i32)
      local.get 0 i32.add
      local.get 0 i32.const 1 i32.sub local.tee 0
      br_if 0
    end)
  ;; calls: arguments straight from locals and constants, more results than params
  (func $three (param i32) (result i32 i32 i32) local.get 0 local.get 0 i32.const 1 i32.add i32.const 5)
  (func (export "call_results") (param i32) (result i32)
    local.get 0 call $three i32.mul i32.add)
  ;; select with lazy operands and a folded destination
  (func (export "select") (param i32 i32 i32) (result i32) (local i32)
    local.get 0 local.get 1 local.get 2 select local.set 3 local.get 3)
  ;; the result of a block is in place when a branch and the fallthrough both deliver it
  (func (export "nested_br") (param i32) (result i32)
    block (result i32)
      block (result i32)
        i32.const 3 local.get 0 br_if 1 drop
        i32.const 4
      end
      i32.const 10 i32.add
    end)
)
)";

// Calls export `name` with i32 arguments; its i32 results (none if it trapped).
std::vector<uint32_t> CallI32(Store& store, Instance* inst, const char* name,
                              std::vector<uint32_t> args) {
  std::vector<Value> in;
  for (uint32_t a : args) in.push_back(Value::I32(a));
  auto r = Invoke(store, inst->GetFunc(name), in);
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().ToString());
  std::vector<uint32_t> out;
  if (r.ok())
    for (Value v : *r) out.push_back(v.i32());
  return out;
}
// Its first result, or `failed` if it trapped.
uint32_t CallI32First(Store& store, Instance* inst, const char* name,
                      std::vector<uint32_t> args, uint32_t failed = 0) {
  std::vector<uint32_t> out = CallI32(store, inst, name, std::move(args));
  return out.empty() ? failed : out[0];
}

class InterpCompile : public ::testing::Test {
 protected:
  void SetUp() override {
    inst_ = Instantiate(store_, kModule);
    ASSERT_NE(inst_, nullptr);
  }
  std::vector<uint32_t> Run(const char* name, std::vector<uint32_t> args) {
    return CallI32(store_, inst_, name, std::move(args));
  }
  Store store_;
  Instance* inst_ = nullptr;
};

using V = std::vector<uint32_t>;

// How many words of the translated code of export `name` (called at least once) are the
// handler word of `op`; -1 if it has not been translated. (An operand word could equal a
// handler word by chance; the functions these tests look at have small operands.)
long CountOp(Instance* inst, const char* name, IOp op) {
  auto* cf = static_cast<const CompiledFunc*>(inst->GetFunc(name)->compiled);
  if (!cf) return -1;
  return std::count(cf->code.begin(), cf->code.end(), HandlerWord(interp::HandlerTable(), op));
}

TEST_F(InterpCompile, LazyLocalReadSeesOldValue) { EXPECT_EQ(Run("old_and_new", {1, 2}), (V{1, 2})); }
TEST_F(InterpCompile, ReturnSwappedLocals) {
  EXPECT_EQ(Run("swap", {1, 2}), (V{2, 1}));
  EXPECT_EQ(Run("swap_end", {3, 4}), (V{4, 3}));
  EXPECT_EQ(Run("rotate", {1, 2, 3}), (V{3, 1, 2}));
  EXPECT_EQ(Run("rotate_back", {1, 2, 3}), (V{2, 3, 1}));
  EXPECT_EQ(Run("repeat", {1, 2, 3}), (V{2, 2, 1}));
  EXPECT_EQ(Run("same", {7}), (V{7}));
}
TEST_F(InterpCompile, TeeFoldedIntoProducer) { EXPECT_EQ(Run("tee", {4}), (V{10})); }
TEST_F(InterpCompile, LazyLocalAcrossIf) {
  EXPECT_EQ(Run("lazy_across_if", {5, 1}), (V{5}));
  EXPECT_EQ(Run("lazy_across_if", {5, 0}), (V{5}));
}
TEST_F(InterpCompile, NoFoldingAcrossLabels) {
  EXPECT_EQ(Run("merge", {1}), (V{1}));
  EXPECT_EQ(Run("merge", {0}), (V{2}));
}
TEST_F(InterpCompile, BrTableWithValues) {
  EXPECT_EQ(Run("table", {0}), (V{1}));    // to the inner block: 0*10 + 1
  EXPECT_EQ(Run("table", {1}), (V{10}));   // to the outer block
  EXPECT_EQ(Run("table", {9}), (V{90}));   // default
}
TEST_F(InterpCompile, LoopWithParam) { EXPECT_EQ(Run("loop_param", {100}), (V{5050})); }
TEST_F(InterpCompile, CallWithMoreResultsThanParams) {
  EXPECT_EQ(Run("call_results", {6}), (V{6 + 7 * 5}));
}
TEST_F(InterpCompile, Select) {
  EXPECT_EQ(Run("select", {11, 22, 1}), (V{11}));
  EXPECT_EQ(Run("select", {11, 22, 0}), (V{22}));
}
TEST_F(InterpCompile, NestedBranchDeliversResult) {
  EXPECT_EQ(Run("nested_br", {1}), (V{3}));
  EXPECT_EQ(Run("nested_br", {0}), (V{14}));
}

// More distinct constants than the frame's constant slots: the rest are materialised
// where they are used, and the slots go to the constants inside loops.
TEST_F(InterpCompile, ManyConstants) {
  // 70 distinct constants before the loop (more than Function::kMaxConstSlots), then a
  // loop that uses two others.
  static_assert(Function::kMaxConstSlots < 70);
  std::string sum = "local.get 0";
  for (int k = 0; k < 70; ++k) sum += " i32.const " + std::to_string(1000 + k) + " i32.add";
  std::string wat = R"((module
    (func (export "sum") (param i32 i32) (result i32) )" + sum + R"(
      local.set 0
      block
        local.get 1 i32.eqz br_if 0
        loop
          local.get 0 i32.const 7777 i32.add i32.const 5555 i32.xor local.set 0
          local.get 1 i32.const 1 i32.sub local.tee 1
          br_if 0
        end
      end
      local.get 0)
    (func (export "noparams") (result i32 i32) i32.const 7 i32.const 9)
    (func (export "noparams_ret") (result i32 i32) i32.const 9 i32.const 7 return)))";
  Store store;
  Instance* inst = Instantiate(store, wat);
  ASSERT_NE(inst, nullptr);
  Value args[2] = {Value::I32(5), Value::I32(3)};
  auto r = Invoke(store, inst->GetFunc("sum"), {args, 2});
  ASSERT_TRUE(r.ok());
  uint32_t want = 5u + 70 * 1000 + 69 * 70 / 2;
  for (int i = 0; i < 3; ++i) want = (want + 7777) ^ 5555;
  EXPECT_EQ((*r)[0].i32(), want);
  auto* cf = static_cast<const CompiledFunc*>(inst->GetFunc("sum")->compiled);
  ASSERT_NE(cf, nullptr);
  auto has = [&](uint64_t v) { return std::find(cf->consts.begin(), cf->consts.end(), v) != cf->consts.end(); };
  EXPECT_TRUE(has(7777));
  EXPECT_TRUE(has(5555));
  EXPECT_FALSE(has(1000));  // outside the loop: no slot once they may run out
  auto n = Invoke(store, inst->GetFunc("noparams"), {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ((*n)[0].i32(), 7u);
  EXPECT_EQ((*n)[1].i32(), 9u);
  auto m = Invoke(store, inst->GetFunc("noparams_ret"), {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)[0].i32(), 9u);
  EXPECT_EQ((*m)[1].i32(), 7u);
}

// Nine- and ten-byte signed LEB128 immediates decode to the exact 64-bit value.
TEST_F(InterpCompile, WideI64Constants) {
  Store store;
  Instance* inst = Instantiate(store, R"((module
    (func (export "a") (result i64) i64.const -4611686018427387904)
    (func (export "b") (result i64) i64.const -9223372036854775808)
    (func (export "c") (result i64) i64.const 9223372036854775807)))");
  ASSERT_NE(inst, nullptr);
  EXPECT_EQ(Invoke(store, inst->GetFunc("a"), {}).value()[0].i64(), 0xC000000000000000ull);
  EXPECT_EQ(Invoke(store, inst->GetFunc("b"), {}).value()[0].i64(), 0x8000000000000000ull);
  EXPECT_EQ(Invoke(store, inst->GetFunc("c"), {}).value()[0].i64(), 0x7FFFFFFFFFFFFFFFull);
}

// The accumulator register carries a value only into the very next instruction: never
// across a loop header, where the back-edge arrives with another value in it.
TEST_F(InterpCompile, AccumulatorNotUsedAcrossLoopHeader) {
  Store store;
  Instance* inst = Instantiate(store, R"((module
    (func (export "acc_loop") (param i32) (result i32)
      local.get 0 i32.const 1 i32.add
      loop (param i32) (result i32)
        i32.const 3 i32.mul
        local.get 0 i32.const 1 i32.sub local.tee 0
        br_if 0
      end)
    (func (export "chain") (param i32) (result i32)
      local.get 0 i32.const 5 i32.add i32.const 3 i32.shl i32.const 1 i32.sub i32.eqz)))");
  ASSERT_NE(inst, nullptr);
  Value arg = Value::I32(2);
  auto r = Invoke(store, inst->GetFunc("acc_loop"), {&arg, 1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), 27u);  // (2+1)*3*3
  arg = Value::I32(static_cast<uint32_t>(-5));
  auto c = Invoke(store, inst->GetFunc("chain"), {&arg, 1});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[0].i32(), 0u);  // ((-5+5)<<3)-1 = -1, not zero
}

// A result retargeted to a local (local.set/tee right after it) is still in the
// accumulator for the next instruction, but not across a loop header; a commutative op
// whose second operand is in the accumulator swaps its operands to read it from there.
TEST_F(InterpCompile, AccumulatorCarriesAValueSetIntoALocal) {
  Store store;
  Instance* inst = Instantiate(store, R"((module
    (memory 1)
    (data (i32.const 8) "\64\00\00\00")  ;; 100 at address 8
    (func (export "tee_mul") (param i32) (result i32) (local i32)
      local.get 0 i32.const 5 i32.add local.tee 1
      i32.const 3 i32.mul local.get 1 i32.add)
    ;; the shift reads the accumulator (ShlA), and pairs with the xor as its base op
    (func (export "tee_shift_xor") (param i32) (result i32) (local i32)
      local.get 0 i32.const 5 i32.add local.tee 1
      i32.const 3 i32.shl local.get 0 i32.xor)
    (func (export "set_mul") (param i32) (result i32) (local i32)
      local.get 0 i32.const 7 i32.add local.set 1
      local.get 1 i32.const 3 i32.mul)
    ;; the multiply at the loop top reads local 1, which the back-edge does not leave in
    ;; the accumulator
    (func (export "loop_top") (param i32) (result i32) (local i32)
      local.get 0 i32.const 1 i32.add local.set 1
      loop
        local.get 1 i32.const 3 i32.mul local.set 1
        local.get 0 i32.const 1 i32.sub local.tee 0
        br_if 0
      end
      local.get 1)
    ;; (a shr_s after each, which is in no pair, so that the add keeps its handler word)
    (func (export "add_load") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.load i32.add i32.const 1 i32.shr_s)
    (func (export "sub_load") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.load i32.sub i32.const 1 i32.shr_s)))");
  ASSERT_NE(inst, nullptr);
  auto run = [&](const char* name, std::vector<uint32_t> args) {
    return CallI32First(store, inst, name, std::move(args));
  };
  // (A pair replaces the handler word of its first instruction: the multiplies here are
  // second ones.)
  EXPECT_EQ(run("tee_mul", {2}), 28u);  // (2+5)*3 + 7
  EXPECT_EQ(CountOp(inst, "tee_mul", IOp::kI32MulA), 1);
  EXPECT_EQ(run("tee_shift_xor", {2}), 58u);  // ((2+5)<<3) ^ 2
  EXPECT_EQ(CountOp(inst, "tee_shift_xor", IOp::kI32Shl_I32XorA), 1);
  EXPECT_EQ(run("set_mul", {2}), 27u);  // (2+7)*3
  EXPECT_EQ(CountOp(inst, "set_mul", IOp::kI32MulA), 1);
  EXPECT_EQ(run("loop_top", {3}), 108u);  // (3+1)*3*3*3
  EXPECT_EQ(CountOp(inst, "loop_top", IOp::kI32MulA), 0);
  EXPECT_EQ(run("add_load", {1000, 8}), 550u);
  EXPECT_EQ(CountOp(inst, "add_load", IOp::kI32AddA), 1);
  EXPECT_EQ(run("sub_load", {1000, 8}), 450u);
  EXPECT_EQ(CountOp(inst, "sub_load", IOp::kI32SubA), 0);
}

// Loads and stores take their address (A variants) or stored value (V variants) from the
// accumulator when the previous instruction produced it; the bounds check still applies.
TEST_F(InterpCompile, AccumulatorAddressAndStoredValue) {
  Store store;
  Instance* inst = Instantiate(store, R"((module
    (memory 1)
    ;; copy one byte: address from i32.add (A), value straight from the load (V)
    (func (export "copy") (param i32 i32) (result i32)
      local.get 1 i32.const 1 i32.add
      local.get 0 i32.load8_u
      i32.store8
      local.get 1 i32.const 1 i32.add i32.load8_u)
    ;; i64 value from an add stored at an address from a shift; read back as two halves
    (func (export "wide") (param i32) (result i32 i32)
      local.get 0 i32.const 3 i32.shl
      local.get 0 i64.extend_i32_u i64.const 0x100000000 i64.add
      i64.store offset=8
      local.get 0 i32.const 3 i32.shl i32.load offset=8
      local.get 0 i32.const 3 i32.shl i32.load offset=12)
    (func (export "oob") (param i32) (result i32)
      local.get 0 i32.const 1 i32.add i32.load)))");
  ASSERT_NE(inst, nullptr);
  Value setup[2];
  Value w = Value::I32(12);  // writes 12 | 1<<32 at 12*8+8 = 104
  auto wr = Invoke(store, inst->GetFunc("wide"), {&w, 1});
  ASSERT_TRUE(wr.ok());
  EXPECT_EQ((*wr)[0].i32(), 12u);
  EXPECT_EQ((*wr)[1].i32(), 1u);
  setup[0] = Value::I32(104);  // the byte 12 written above
  setup[1] = Value::I32(200);  // copied to 201
  auto c = Invoke(store, inst->GetFunc("copy"), {setup, 2});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[0].i32(), 12u);
  Value edge = Value::I32(65536 - 5);  // address 65532: the last in-bounds i32
  auto ok = Invoke(store, inst->GetFunc("oob"), {&edge, 1});
  EXPECT_TRUE(ok.ok());
  edge = Value::I32(65536 - 4);
  auto bad = Invoke(store, inst->GetFunc("oob"), {&edge, 1});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, TrapKind::kMemoryOutOfBounds);
  edge = Value::I32(0xFFFFFFFFu);  // address wraps to 0 in i32.add
  EXPECT_TRUE(Invoke(store, inst->GetFunc("oob"), {&edge, 1}).ok());
}

// The memory size the interpreter checks accesses against follows a memory.grow in a
// callee, after the callee returns (and in a callee of another instance sharing it).
TEST_F(InterpCompile, CallerSeesTheMemoryItsCalleeGrew) {
  Store store;
  Instance* lib = Instantiate(store, R"((module
    (memory (export "mem") 1)
    (func (export "grow") (result i32) i32.const 1 memory.grow)))");
  ASSERT_NE(lib, nullptr);
  Linker linker;
  linker.DefineInstance("lib", *lib);
  Instance* inst = Instantiate(store, R"((module
    (import "lib" "mem" (memory 1))
    (import "lib" "grow" (func $lib_grow (result i32)))
    (func $grow (result i32) i32.const 1 memory.grow)
    (func (export "local_grow") (result i32)
      call $grow drop
      i32.const 65536 i32.const 7 i32.store
      i32.const 65536 i32.load)
    (func (export "other_grow") (result i32)
      call $lib_grow drop
      i32.const 131072 i32.const 9 i32.store
      i32.const 131072 i32.load)))", linker);
  ASSERT_NE(inst, nullptr);
  auto local = Invoke(store, inst->GetFunc("local_grow"), {});
  ASSERT_TRUE(local.ok()) << local.error().ToString();
  EXPECT_EQ((*local)[0].i32(), 7u);
  auto other = Invoke(store, inst->GetFunc("other_grow"), {});
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  EXPECT_EQ((*other)[0].i32(), 9u);
}

// Pairs of instructions run by one handler (iops.def): each kind computes what the two
// instructions compute, a branch can land on the second of a pair, and a trap in the
// second is reported as a trap.
TEST_F(InterpCompile, PairsRunBothInstructions) {
  Store store;
  Instance* inst = Instantiate(store, R"((module
    (memory 1)
    ;; Copy, Copy: rotate three locals
    (func (export "copies") (param i32 i32 i32) (result i32 i32 i32) (local i32)
      local.get 0 local.set 3 local.get 1 local.set 0 local.get 2 local.set 1
      local.get 3 local.set 2
      local.get 0 local.get 1 local.get 2)
    ;; I32Add, then I32Add, I32Mul (a multiply of the two sums; pairs from the end)
    (func (export "add_add") (param i32 i32 i32 i32) (result i32)
      local.get 0 local.get 1 i32.add local.get 2 local.get 3 i32.add i32.mul)
    ;; I32Add, I32AddA (then a shr_s, which is in no pair)
    (func (export "add_add_acc") (param i32 i32 i32) (result i32)
      local.get 0 local.get 1 i32.add local.get 2 i32.add i32.const 1 i32.shr_s)
    ;; ALU pairs: I32Rotl, I32Rotl; I32Xor, I32Sub; I32And, I32ShlA (paired from the end)
    (func (export "alu") (param i32 i32 i32) (result i32)
      local.get 0 i32.const 6 i32.rotl local.get 0 i32.const 11 i32.rotl i32.xor
      local.get 1 local.get 2 i32.sub i32.and
      i32.const 3 i32.shl)
    ;; I32Add, I32StoreV and I32Or, I32StoreV; then I32Add, I32LoadA and I32Add,
    ;; I64Load8SA read them back
    (func (export "store_load") (param i32 i32 i32) (result i32 i64)
      local.get 0 local.get 1 local.get 2 i32.add i32.store
      local.get 0 local.get 1 local.get 2 i32.or i32.store offset=4
      local.get 0 i32.const 4 i32.add i32.load
      local.get 0 i32.const 4 i32.add i64.load8_s
      i32.wrap_i64 i32.add
      local.get 0 i32.const 0 i32.add i64.load8_s)
    ;; I32Add, I64StoreA (the address from the add, the value from a local)
    (func (export "store_a") (param i32 i64) (result i64)
      local.get 0 i32.const 8 i32.add local.get 1 i64.store
      local.get 0 i64.load offset=8)
    ;; I32Add, I32LoadA out of bounds
    (func (export "load_oob") (param i32) (result i32)
      local.get 0 i32.const 8 i32.add i32.load)
    ;; I32Add, BrIfI32Ne closing a loop: minus the sum of 0..n-1
    (func (export "count32") (param i32) (result i32) (local i32 i32)
      loop
        local.get 2 local.get 1 i32.sub local.set 2
        local.get 0 local.get 1 i32.const 1 i32.add local.tee 1 i32.ne br_if 0
      end
      local.get 2)
    ;; I64Add, BrIfI64LtU closing a loop
    (func (export "count64") (param i64) (result i64) (local i64 i64)
      loop
        local.get 2 local.get 1 i64.add local.set 2
        local.get 1 i64.const 3 i64.add local.tee 1 local.get 0 i64.lt_u br_if 0
      end
      local.get 2)
    ;; I32Add, Call (the argument) and I32Add, Return (the result), recursively: n + ... + 0
    (func $sum (export "sum") (param i32) (result i32)
      local.get 0 i32.eqz if i32.const 0 return end
      local.get 0 local.get 0 i32.const -1 i32.add call $sum i32.add)
    ;; I32Mul, I32SubA (then a shr_s, which is in no pair)
    (func (export "mul_sub") (param i32 i32 i32) (result i32)
      local.get 0 local.get 1 i32.mul local.get 2 i32.sub i32.const 1 i32.shr_s)
    ;; I32Load, I32Load
    (data (i32.const 1024) "\01\02\03\04\10\20\30\40")
    (func (export "load_load") (param i32) (result i32)
      local.get 0 i32.load local.get 0 i32.load offset=4 i32.xor)
    ;; I32Sub, Return
    (func (export "diff") (param i32 i32) (result i32) local.get 0 local.get 1 i32.sub)
    ;; a loop whose head is the second instruction of a pair: entered through the pair,
    ;; then by the back-edge on its own
    (func (export "head_in_pair") (param i32 i32) (result i32) (local i32)
      local.get 0 local.get 1 i32.add local.set 2
      loop
        local.get 2 local.get 1 i32.add local.set 2
        local.get 0 i32.const -1 i32.add local.tee 0
        br_if 0
      end
      local.get 2)))");
  ASSERT_NE(inst, nullptr);
  auto run = [&](const char* name, std::vector<Value> args) {
    auto r = Invoke(store, inst->GetFunc(name), {args.data(), args.size()});
    EXPECT_TRUE(r.ok()) << name;
    return r.ok() ? *r : std::vector<Value>{};
  };
  auto c = run("copies", {Value::I32(1), Value::I32(2), Value::I32(3)});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].i32(), 2u);
  EXPECT_EQ(c[1].i32(), 3u);
  EXPECT_EQ(c[2].i32(), 1u);
  EXPECT_EQ(run("add_add", {Value::I32(1), Value::I32(2), Value::I32(3), Value::I32(4)})[0].i32(), 21u);
  EXPECT_EQ(run("add_add_acc", {Value::I32(0xFFFFFFFF), Value::I32(2), Value::I32(40)})[0].i32(), 20u);
  {
    uint32_t a = 0x12345678, b = 5, c = 0x80000001;
    uint32_t want = ((std::rotl(a, 6) ^ std::rotl(a, 11)) & (b - c)) << 3;
    EXPECT_EQ(run("alu", {Value::I32(a), Value::I32(b), Value::I32(c)})[0].i32(), want);
  }
  auto sl = run("store_load", {Value::I32(64), Value::I32(0x80), Value::I32(0x7)});
  ASSERT_EQ(sl.size(), 2u);
  // mem[64] = 0x87, mem[68] = 0x87 | ... = 0x80 | 0x7 = 0x87: 0x87 + (int8)0x87 = 0x87 - 0x79
  EXPECT_EQ(sl[0].i32(), 0x87u + static_cast<uint32_t>(-0x79));
  EXPECT_EQ(sl[1].i64(), static_cast<uint64_t>(-0x79));
  {
    Value sa[2] = {Value::I32(200), Value::I64(0x1122334455667788ull)};
    auto r = Invoke(store, inst->GetFunc("store_a"), {sa, 2});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].i64(), 0x1122334455667788ull);
  }
  Value edge = Value::I32(65536 - 12);  // address 65532: the last in-bounds i32
  EXPECT_TRUE(Invoke(store, inst->GetFunc("load_oob"), {&edge, 1}).ok());
  edge = Value::I32(65536 - 11);
  auto bad = Invoke(store, inst->GetFunc("load_oob"), {&edge, 1});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, TrapKind::kMemoryOutOfBounds);
  EXPECT_EQ(run("count32", {Value::I32(100)})[0].i32(), static_cast<uint32_t>(-4950));
  // the sum adds i before each step: 0 + 3 + ... + 99 (99 is still below 100)
  EXPECT_EQ(run("count64", {Value::I64(100)})[0].i64(), 3u * (33 * 34 / 2));
  // 5 + 7, then four more 7s as the counter goes 5 -> 1 (the last pass leaves it at 0)
  EXPECT_EQ(run("head_in_pair", {Value::I32(5), Value::I32(7)})[0].i32(), 5u + 7 + 5 * 7);

  EXPECT_EQ(run("sum", {Value::I32(100)})[0].i32(), 5050u);
  // 0x10001 * 0x10001 wraps to 0x20001
  EXPECT_EQ(run("mul_sub", {Value::I32(0x10001), Value::I32(0x10001), Value::I32(2)})[0].i32(),
            0xFFFFu);
  EXPECT_EQ(run("load_load", {Value::I32(1024)})[0].i32(), 0x44332211u);
  EXPECT_EQ(run("diff", {Value::I32(3), Value::I32(5)})[0].i32(), static_cast<uint32_t>(-2));

  // Each of those ran as the pair it names (all were called above, so translated).
  auto has = [&](const char* name, IOp pair) { return CountOp(inst, name, pair) > 0; };
  EXPECT_TRUE(has("copies", IOp::kCopy_Copy));
  EXPECT_TRUE(has("add_add", IOp::kI32Add_I32MulA));  // the multiply swaps its operands
  EXPECT_TRUE(has("add_add_acc", IOp::kI32Add_I32AddA));
  EXPECT_TRUE(has("store_load", IOp::kI32Add_I32StoreV));
  EXPECT_TRUE(has("store_load", IOp::kI32Or_I32StoreV));
  EXPECT_TRUE(has("store_load", IOp::kI32Add_I32LoadA));
  EXPECT_TRUE(has("store_load", IOp::kI32Add_I64Load8SA));
  EXPECT_TRUE(has("load_oob", IOp::kI32Add_I32LoadA));
  EXPECT_TRUE(has("store_a", IOp::kI32Add_I64StoreA));
  EXPECT_TRUE(has("count32", IOp::kI32Add_BrIfI32Ne));
  EXPECT_TRUE(has("count64", IOp::kI64Add_BrIfI64LtU));
  EXPECT_TRUE(has("head_in_pair", IOp::kI32Add_I32Add));
  EXPECT_TRUE(has("alu", IOp::kI32Rotl_I32Rotl));
  EXPECT_TRUE(has("alu", IOp::kI32Xor_I32Sub));
  EXPECT_TRUE(has("alu", IOp::kI32And_I32ShlA));
  EXPECT_TRUE(has("sum", IOp::kI32Add_Call));
  EXPECT_TRUE(has("sum", IOp::kI32Add_Return));
  EXPECT_TRUE(has("diff", IOp::kI32Sub_Return));
  EXPECT_TRUE(has("mul_sub", IOp::kI32Mul_I32SubA));
  EXPECT_TRUE(has("load_load", IOp::kI32Load_I32Load));
}

// `i32.const 0; local.set x` emits nothing while x is still zero from the entry (nothing
// set it, and no branch lands between the entry and here), and stays a write otherwise.
TEST_F(InterpCompile, ZeroingAnUnwrittenLocalIsDropped) {
  Store store;
  Instance* inst = Instantiate(store, R"((module
    ;; dropped: the local is still zero (called twice: each call's frame starts at zero)
    (func (export "fresh") (param i32) (result i32) (local i32)
      i32.const 0 local.set 1
      local.get 1 local.get 0 i32.add local.set 1
      local.get 1)
    ;; kept: written just before, in straight-line code
    (func (export "rewritten") (param i32) (result i32) (local i32)
      local.get 0 local.set 1
      i32.const 0 local.set 1
      local.get 1)
    ;; kept: a loop wrote it, and the loop's head is a label
    (func (export "after_loop") (param i32) (result i32) (local i32)
      loop
        local.get 1 i32.const 1 i32.add local.set 1
        local.get 1 local.get 0 i32.lt_u br_if 0
      end
      local.get 1
      i32.const 0 local.set 1
      local.get 1 i32.add)
    ;; kept: after a block end that a branch reaches from a path that wrote it
    (func (export "after_branch") (param i32) (result i32) (local i32)
      block
        local.get 0 local.set 1
        local.get 0 br_if 0
      end
      i32.const 0 local.tee 1)
    ;; kept: at the top of a loop whose previous pass wrote 7 there
    (func (export "loop_top") (param i32) (result i32) (local i32 i32)
      loop
        i32.const 0 local.set 1
        local.get 2 local.get 1 i32.add local.set 2
        i32.const 7 local.set 1
        local.get 0 i32.const -1 i32.add local.tee 0 br_if 0
      end
      local.get 2)
    ;; a param is not zero on entry: kept
    (func (export "param") (param i32) (result i32)
      i32.const 0 local.set 0 local.get 0)))");
  ASSERT_NE(inst, nullptr);
  auto run = [&](const char* name, uint32_t arg) {
    return CallI32First(store, inst, name, {arg}, 0xDEADu);
  };
  EXPECT_EQ(run("fresh", 5), 5u);
  EXPECT_EQ(run("fresh", 6), 6u);
  EXPECT_EQ(run("rewritten", 5), 0u);
  EXPECT_EQ(run("after_loop", 3), 3u);
  EXPECT_EQ(run("after_branch", 4), 0u);
  EXPECT_EQ(run("loop_top", 4), 0u);
  EXPECT_EQ(run("param", 9), 0u);
  EXPECT_EQ(CountOp(inst, "fresh", IOp::kConst32), 0);
  EXPECT_EQ(CountOp(inst, "rewritten", IOp::kConst32), 1);
}

}  // namespace
}  // namespace weft::wasm
