// Function-body validation (the spec's type-stack algorithm) on hand-built bodies.
#include <gtest/gtest.h>

#include "decode_test_util.h"
#include "weft/wasm/module.h"

namespace weft::wasm {
namespace {

using namespace weft::wasm::testing;

// Validates `instrs` as the body of a function of type params -> results.
std::string Check(std::initializer_list<uint8_t> params, std::initializer_list<uint8_t> results,
                  const Bytes& instrs, const Bytes& mid = {}, const Bytes& extra_types = {}) {
  Bytes types;
  AppendU32(types, extra_types.empty() ? 1 : 2);
  Bytes ft = FuncTypeBytes(params, results);
  types.insert(types.end(), ft.begin(), ft.end());
  types.insert(types.end(), extra_types.begin(), extra_types.end());
  return DecodeError(OneFunc(types, 0, instrs, mid));
}

TEST(ValidateFunction, StraightLine) {
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x01, 0x41, 0x02, 0x6A}), "");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x01, 0x42, 0x02, 0x6A}), "type mismatch");
  EXPECT_EQ(Check({}, {kI32}, {}), "type mismatch");
  EXPECT_EQ(Check({}, {}, {0x41, 0x01}), "type mismatch");  // leftover value
  EXPECT_EQ(Check({kF64}, {kF64}, {0x20, 0x00, 0x9F}), "");  // f64.sqrt
  EXPECT_EQ(Check({}, {kI64}, {0x41, 0x00, 0xAC}), "");       // i64.extend_i32_s
  EXPECT_EQ(Check({}, {kI32}, {0x43, 0, 0, 0, 0, 0xFC, 0x00}), "");  // i32.trunc_sat_f32_s
  EXPECT_EQ(Check({}, {kI32}, {0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xFC, 0x00}), "type mismatch");
}

TEST(ValidateFunction, Locals) {
  EXPECT_EQ(Check({kI32}, {}, {0x20, 0x01, 0x1A}), "unknown local 1");
  EXPECT_EQ(Check({kI32}, {kI32}, {0x41, 0x05, 0x22, 0x00}), "");  // local.tee
  EXPECT_EQ(Check({kI32}, {}, {0x42, 0x05, 0x21, 0x00}), "type mismatch");
  // Runs [2 x i64, 0 x f32, 1 x f64] after one i32 param: locals 1-2 are i64, 3 is f64.
  Bytes types = Vec({FuncTypeBytes({kI32}, {kF64})});
  Bytes runs = Vec({{0x02, kI64}, {0x00, kF32}, {0x01, kF64}});
  auto with = [&](Bytes instrs) { return DecodeError(OneFunc(types, 0, instrs, {}, {}, runs)); };
  EXPECT_EQ(with({0x20, 0x02, 0x1A, 0x20, 0x03}), "");
  EXPECT_EQ(with({0x20, 0x02}), "type mismatch");
  EXPECT_EQ(with({0x20, 0x04}), "unknown local 4");
}

TEST(ValidateFunction, PolymorphicStackAfterUnreachable) {
  // unreachable makes the rest of the block stack-polymorphic.
  EXPECT_EQ(Check({}, {kI32}, {0x00, 0x6A}), "");
  EXPECT_EQ(Check({}, {kI32}, {0x00, 0x1B}), "");  // select of unknowns
  EXPECT_EQ(Check({}, {kF32}, {0x00, 0x6A}), "type mismatch");  // i32.add result is i32
  EXPECT_EQ(Check({}, {}, {0x0F, 0x42, 0x00, 0x6A, 0x1A}), "type mismatch");
  // br_table with labels of different types but equal arity in unreachable code.
  Bytes bt = {0x02, 0x7F, 0x02, 0x7D, 0x00, 0x0E, 0x01, 0x00, 0x01, 0x0B, 0x0B};
  EXPECT_EQ(Check({}, {}, Cat({{0x02, 0x40}, bt, {0x1A, 0x0B}})), "type mismatch");
  // ... an unknown value is fine for both.
  EXPECT_EQ(Check({}, {kI32}, {0x02, 0x7F, 0x02, 0x7F, 0x00, 0x0E, 0x01, 0x00, 0x01, 0x0B, 0x0B}), "");
}

TEST(ValidateFunction, Branches) {
  EXPECT_EQ(Check({}, {}, {0x0C, 0x01}), "unknown label");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x00, 0x0C, 0x00}), "");  // br to the function label
  EXPECT_EQ(Check({}, {kI32}, {0x02, 0x7F, 0x42, 0x00, 0x0C, 0x00, 0x0B}), "type mismatch");
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x0D, 0x00}), "");  // br_if
  // br_table arity mismatch between targets.
  EXPECT_EQ(Check({}, {kI32}, {0x02, 0x40, 0x41, 0x00, 0x41, 0x00, 0x0E, 0x01, 0x00, 0x01, 0x0B,
                               0x41, 0x00}),
            "type mismatch");
  // loop label takes the loop's params (none here), not its results.
  EXPECT_EQ(Check({}, {kI32}, {0x03, 0x7F, 0x41, 0x00, 0x0D, 0x00, 0x41, 0x00, 0x0B}), "");
}

TEST(ValidateFunction, IfElse) {
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x01, 0x04, 0x7F, 0x41, 0x01, 0x05, 0x41, 0x02, 0x0B}), "");
  // if with a result needs an else.
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x01, 0x04, 0x7F, 0x41, 0x01, 0x0B}), "type mismatch");
  // condition must be i32.
  EXPECT_EQ(Check({}, {}, {0x42, 0x01, 0x04, 0x40, 0x0B}), "type mismatch");
}

TEST(ValidateFunction, MultiValueBlockTypes) {
  // Type 1: [i32 i32] -> [i64]. block (type 1) consumes two i32 and yields i64.
  Bytes t1 = FuncTypeBytes({kI32, kI32}, {kI64});
  EXPECT_EQ(Check({}, {kI64}, {0x41, 0x01, 0x41, 0x02, 0x02, 0x01, 0x6A, 0xAC, 0x0B}, {}, t1), "");
  EXPECT_EQ(Check({}, {kI64}, {0x41, 0x01, 0x02, 0x01, 0x6A, 0xAC, 0x0B}, {}, t1), "type mismatch");
  EXPECT_EQ(Check({}, {}, {0x02, 0x05, 0x0B}), "unknown type 5");
  // if (type 1) without else: params [i32 i32] != results [i64].
  EXPECT_EQ(Check({}, {kI64}, {0x41, 0x01, 0x41, 0x02, 0x41, 0x01, 0x04, 0x01, 0x6A, 0xAC, 0x0B},
                  {}, t1),
            "type mismatch");
}

TEST(ValidateFunction, Select) {
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x01, 0x41, 0x02, 0x41, 0x00, 0x1B}), "");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x01, 0x42, 0x02, 0x41, 0x00, 0x1B}), "type mismatch");
  // Untyped select does not accept references; typed select does.
  EXPECT_EQ(Check({}, {}, {0xD0, 0x70, 0xD0, 0x70, 0x41, 0x00, 0x1B, 0x1A}), "type mismatch");
  EXPECT_EQ(Check({}, {}, {0xD0, 0x70, 0xD0, 0x70, 0x41, 0x00, 0x1C, 0x01, 0x70, 0x1A}), "");
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x1C, 0x02, kI32, kI32, 0x1A}),
            "invalid result arity");
}

TEST(ValidateFunction, MemoryInstructions) {
  Bytes mem = Section(5, Vec({{0x00, 0x01}}));
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x00, 0x28, 0x02, 0x00}, mem), "");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x00, 0x28, 0x03, 0x00}, mem),
            "alignment must not be larger than natural");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x00, 0x28, 0x02, 0x00}), "unknown memory 0");
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x42, 0x00, 0x37, 0x03, 0x00}, mem), "");  // i64.store
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x42, 0x00, 0x36, 0x02, 0x00}, mem), "type mismatch");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x01, 0x40, 0x00}, mem), "");  // memory.grow
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x0B, 0x00}, mem), "");
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x41, 0x00, 0xFC, 0x0A, 0x00, 0x00}, mem), "type mismatch");
}

TEST(ValidateFunction, GlobalsAndReferences) {
  Bytes globals = Section(6, Vec({{kI32, 0x00, 0x41, 0x00, 0x0B}, {kI64, 0x01, 0x42, 0x00, 0x0B}}));
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x24, 0x00}, globals), "global is immutable");
  EXPECT_EQ(Check({}, {}, {0x42, 0x00, 0x24, 0x01}, globals), "");
  EXPECT_EQ(Check({}, {}, {0x42, 0x00, 0x24, 0x02}, globals), "unknown global 2");
  // ref.func needs the function to be declared (elem segment, export or global init).
  EXPECT_EQ(Check({}, {}, {0xD2, 0x00, 0x1A}), "undeclared function reference");
  Bytes exp = Section(7, Vec({Cat({Name("f"), {0x00, 0x00}})}));
  EXPECT_EQ(Check({}, {}, {0xD2, 0x00, 0x1A}, exp), "");
  Bytes decl = Section(9, Vec({{0x03, 0x00, 0x01, 0x00}}));
  EXPECT_EQ(Check({}, {}, {0xD2, 0x00, 0x1A}, decl), "");
  EXPECT_EQ(Check({}, {kI32}, {0xD0, 0x6F, 0xD1}), "");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x00, 0xD1}), "type mismatch");
}

TEST(ValidateFunction, TablesAndCalls) {
  Bytes tables = Section(4, Vec({{kFuncRef, 0x00, 0x01}, {kExternRef, 0x00, 0x01}}));
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x11, 0x00, 0x00}, tables), "");
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x11, 0x00, 0x01}, tables), "type mismatch");
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x11, 0x00, 0x02}, tables), "unknown table 2");
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x11, 0x07, 0x00}, tables), "unknown type 7");
  EXPECT_EQ(Check({}, {}, {0x10, 0x00}), "");   // recursive call
  EXPECT_EQ(Check({}, {}, {0x10, 0x01}), "unknown function 1");
  EXPECT_EQ(Check({}, {kExternRef}, {0x41, 0x00, 0x25, 0x01}, tables), "");  // table.get
  EXPECT_EQ(Check({}, {kI32}, {0xD0, 0x6F, 0x41, 0x01, 0xFC, 0x0F, 0x01}, tables), "");  // table.grow
  EXPECT_EQ(Check({}, {kI32}, {0xD0, 0x70, 0x41, 0x01, 0xFC, 0x0F, 0x01}, tables), "type mismatch");
  EXPECT_EQ(Check({}, {}, {0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x0E, 0x00, 0x01}, tables),
            "type mismatch");  // table.copy between funcref and externref tables
  EXPECT_EQ(Check({}, {}, {0xFC, 0x0D, 0x00}, tables), "unknown elem segment 0");
}

// The validator checks local.get/set/tee, i32.const, call, loads/stores and the numeric
// instructions inline when their immediates are one-byte LEB128s; every other encoding
// takes the general path. Both must give the same answers.
TEST(ValidateFunction, OneByteFastPathAgreesWithGeneralPath) {
  // Redundant (multi-byte) LEB128 immediates mean the same index or value.
  EXPECT_EQ(Check({kI32}, {kI32}, {0x20, 0x80, 0x00}), "");
  EXPECT_EQ(Check({kI32}, {kI64}, {0x20, 0x80, 0x00}), "type mismatch");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0xFF, 0x00}), "");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}),
            "integer representation too long");
  EXPECT_EQ(Check({}, {}, {0x10, 0x80, 0x00}), "");  // call 0, two bytes
  EXPECT_EQ(Check({}, {}, {0x10, 0x81, 0x01}), "unknown function 129");
  Bytes mem = Section(5, Vec({{0x00, 0x01}}));
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x00, 0x28, 0x82, 0x00, 0x80, 0x01}, mem), "");
  EXPECT_EQ(Check({}, {kI32}, {0x41, 0x00, 0x28, 0x83, 0x00, 0x00}, mem),
            "alignment must not be larger than natural");
  EXPECT_EQ(Check({}, {kI64}, {0x41, 0x00, 0x29, 0x04, 0x00}, mem),
            "alignment must not be larger than natural");
  EXPECT_EQ(Check({}, {}, {0x42, 0x00, 0x41, 0x00, 0x36, 0x02, 0x00}, mem), "type mismatch");

  // Locals past the first 512 are looked up in their runs: 600 i64 after one i32 param.
  Bytes types = Vec({FuncTypeBytes({kI32}, {kI64})});
  Bytes runs = Vec({{0xD8, 0x04, kI64}});  // 600 x i64
  auto with = [&](Bytes instrs) { return DecodeError(OneFunc(types, 0, instrs, {}, {}, runs)); };
  EXPECT_EQ(with({0x20, 0x01}), "");                  // first i64 local
  EXPECT_EQ(with({0x20, 0xA6, 0x04}), "");            // local 550
  EXPECT_EQ(with({0x20, 0xD8, 0x04}), "");            // local 600, the last one
  EXPECT_EQ(with({0x20, 0xD9, 0x04}), "unknown local 601");
  EXPECT_EQ(with({0x20, 0x00}), "type mismatch");     // the i32 param
  EXPECT_EQ(with({0x42, 0x00, 0x21, 0xA6, 0x04, 0x20, 0x7F}), "");
  EXPECT_EQ(with({0x41, 0x00, 0x21, 0xA6, 0x04, 0x20, 0x7F}), "type mismatch");
}

TEST(ValidateFunction, FastPathErrorOffsetIsTheInstruction) {
  // i64.const 0, i32.const 0, i32.add: the mismatch is reported at the i32.add byte,
  // the last but one of the module (the body's final `end` is last).
  Bytes types = Vec({FuncTypeBytes({}, {kI32})});
  Bytes module = OneFunc(types, 0, {0x42, 0x00, 0x41, 0x00, 0x6A});
  auto r = DecodeModule(module);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "type mismatch");
  EXPECT_EQ(r.error().offset, module.size() - 2);
}

}  // namespace
}  // namespace weft::wasm
