// The compiler's lazy operands and destination folding, checked by running code whose
// result would differ if a lazy local read or a folded local.set were mis-ordered.
#include "runtime_wat.h"

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

class InterpCompile : public ::testing::Test {
 protected:
  void SetUp() override {
    inst_ = Instantiate(store_, kModule);
    ASSERT_NE(inst_, nullptr);
  }
  std::vector<uint32_t> Run(const char* name, std::vector<uint32_t> args) {
    std::vector<Value> in;
    for (uint32_t a : args) in.push_back(Value::I32(a));
    auto r = Invoke(store_, inst_->GetFunc(name), in);
    EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().ToString());
    std::vector<uint32_t> out;
    if (r.ok())
      for (Value v : *r) out.push_back(v.i32());
    return out;
  }
  Store store_;
  Instance* inst_ = nullptr;
};

using V = std::vector<uint32_t>;

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

// More distinct constants than the frame's constant slots: the rest are materialised.
TEST_F(InterpCompile, ManyConstants) {
  Store store;
  Instance* inst = Instantiate(store, R"((module
    (func (export "sum") (param i32) (result i32) local.get 0 i32.const 1000 i32.add i32.const 1001 i32.add i32.const 1002 i32.add i32.const 1003 i32.add i32.const 1004 i32.add i32.const 1005 i32.add i32.const 1006 i32.add i32.const 1007 i32.add i32.const 1008 i32.add i32.const 1009 i32.add i32.const 1010 i32.add i32.const 1011 i32.add i32.const 1012 i32.add i32.const 1013 i32.add i32.const 1014 i32.add i32.const 1015 i32.add i32.const 1016 i32.add i32.const 1017 i32.add i32.const 1018 i32.add i32.const 1019 i32.add i32.const 1020 i32.add i32.const 1021 i32.add i32.const 1022 i32.add i32.const 1023 i32.add i32.const 1024 i32.add i32.const 1025 i32.add i32.const 1026 i32.add i32.const 1027 i32.add i32.const 1028 i32.add i32.const 1029 i32.add i32.const 1030 i32.add i32.const 1031 i32.add i32.const 1032 i32.add i32.const 1033 i32.add i32.const 1034 i32.add i32.const 1035 i32.add i32.const 1036 i32.add i32.const 1037 i32.add i32.const 1038 i32.add i32.const 1039 i32.add)
    (func (export "noparams") (result i32 i32) i32.const 7 i32.const 9)
    (func (export "noparams_ret") (result i32 i32) i32.const 9 i32.const 7 return)))");
  ASSERT_NE(inst, nullptr);
  Value arg = Value::I32(5);
  auto r = Invoke(store, inst->GetFunc("sum"), {&arg, 1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), 5u + 40 * 1000 + 39 * 40 / 2);
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

}  // namespace
}  // namespace weft::wasm
