// DecodeModule: structure, error messages and offsets, limits, and corner cases the spec
// testsuite reaches poorly (truncation at every byte, oversized counts, nesting depth).
#include <gtest/gtest.h>

#include "decode_test_util.h"
#include "weft/wasm/module.h"

namespace weft::wasm {
namespace {

using namespace weft::wasm::testing;

// A module touching most sections: imports of all kinds, a table, exports, start,
// elem (active + declarative), data count, code, data (active + passive), names.
Bytes RichModule() {
  Bytes types = Vec({FuncTypeBytes({}, {}), FuncTypeBytes({kI32}, {kI32})});
  Bytes imports = Vec({
      Cat({Name("env"), Name("f"), {0x00, 0x01}}),                 // func type 1
      Cat({Name("env"), Name("t"), {0x01, kFuncRef, 0x01, 0x01, 0x05}}),  // table 1..5
      Cat({Name("env"), Name("m"), {0x02, 0x00, 0x01}}),            // memory 1
      Cat({Name("env"), Name("g"), {0x03, kI32, 0x00}}),            // const i32 global
  });
  Bytes funcs = Vec({{0x00}, {0x01}});
  Bytes tables = Vec({{kExternRef, 0x00, 0x02}});
  Bytes globals = Vec({{kI32, 0x01, 0x23, 0x00, 0x0B}});  // mut i32 = global.get 0
  Bytes exports = Vec({Cat({Name("run"), {0x00, 0x01}}), Cat({Name("mem"), {0x02, 0x00}})});
  Bytes start = {0x01};  // func 1 = first defined, type () -> ()
  Bytes elems = Vec({
      {0x00, 0x41, 0x00, 0x0B, 0x01, 0x02},        // active table 0 at 0: func 2
      {0x03, 0x00, 0x01, 0x01},                    // declarative: func 1
  });
  Bytes code = Vec({
      Body({0x00}, {0xD2, 0x01, 0x1A}),                   // ref.func 1; drop
      Body(Vec({{0x02, kI64}}), {0x20, 0x00}),            // 2 i64 locals; local.get 0
  });
  Bytes data = Vec({
      {0x00, 0x41, 0x08, 0x0B, 0x02, 'h', 'i'},
      {0x01, 0x01, 'x'},
  });
  Bytes names = Cat({Name("name"), Section(0, Name("rich")),
                     Section(1, Vec({Cat({{0x01}, Name("start")}), Cat({{0x02}, Name("id")})}))});
  return Cat({Header(), Section(1, types), Section(2, imports), Section(3, funcs),
              Section(4, tables), Section(6, globals), Section(7, exports), Section(8, start),
              Section(9, elems), Section(12, {0x02}), Section(10, code), Section(11, data),
              Section(0, names)});
}

TEST(DecodeModule, RichModuleStructure) {
  Bytes b = RichModule();
  auto r = DecodeModule(b);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Module& m = **r;
  EXPECT_EQ(m.types.size(), 2u);
  EXPECT_EQ(m.imports.size(), 4u);
  EXPECT_EQ(m.num_imported_funcs, 1u);
  EXPECT_EQ(m.num_imported_tables, 1u);
  EXPECT_EQ(m.num_imported_memories, 1u);
  EXPECT_EQ(m.num_imported_globals, 1u);
  EXPECT_EQ(m.func_types, (std::vector<uint32_t>{1, 0, 1}));
  ASSERT_EQ(m.functions.size(), 2u);
  ASSERT_EQ(m.tables.size(), 2u);
  EXPECT_EQ(m.tables[0].limits.max, 5u);
  EXPECT_EQ(m.tables[1].elem, ValType::kExternRef);
  EXPECT_EQ(m.memories.size(), 1u);
  ASSERT_EQ(m.globals.size(), 1u);
  EXPECT_EQ(m.globals[0].init.kind, ConstExpr::Kind::kGlobalGet);
  EXPECT_TRUE(m.global_types[1].is_mutable);
  ASSERT_EQ(m.exports.size(), 2u);
  EXPECT_EQ(m.exports[1].kind, ExternKind::kMemory);
  EXPECT_EQ(m.start, 1u);
  ASSERT_EQ(m.elems.size(), 2u);
  EXPECT_EQ(m.elems[0].mode, SegmentMode::kActive);
  EXPECT_EQ(m.elems[0].init[0].index, 2u);
  EXPECT_EQ(m.elems[1].mode, SegmentMode::kDeclarative);
  EXPECT_EQ(m.data_count, 2u);
  ASSERT_EQ(m.datas.size(), 2u);
  EXPECT_EQ(m.datas[0].offset.bits, 8u);
  EXPECT_EQ(std::string(m.bytes.begin() + m.datas[0].data_offset,
                        m.bytes.begin() + m.datas[0].data_offset + m.datas[0].data_size),
            "hi");
  EXPECT_EQ(m.datas[1].mode, SegmentMode::kPassive);
  // Function 2: locals run, body = local.get 0; end.
  const Function& f = m.DefinedFunction(2);
  EXPECT_EQ(f.num_locals, 2u);
  ASSERT_EQ(f.locals.size(), 1u);
  EXPECT_EQ(f.locals[0].type, ValType::kI64);
  auto body = m.Body(f);
  EXPECT_EQ(Bytes(body.begin(), body.end()), (Bytes{0x20, 0x00, 0x0B}));
  EXPECT_EQ(m.name, "rich");
  EXPECT_EQ(m.FuncName(1), "start");
  EXPECT_EQ(m.FuncName(2), "id");
  EXPECT_EQ(m.FuncName(0), "");
  ASSERT_EQ(m.customs.size(), 1u);
  EXPECT_EQ(m.customs[0].name, "name");
}

TEST(DecodeModule, HeaderErrors) {
  auto err = [](const Bytes& b) { return DecodeModule(b).error(); };
  EXPECT_EQ(err({}).message, "unexpected end");
  EXPECT_EQ(err({0x00, 0x61, 0x73}).message, "unexpected end");
  EXPECT_EQ(err({0x00, 0x61, 0x73, 0x6E, 1, 0, 0, 0}).message, "magic header not detected");
  Diag v = err({0x00, 0x61, 0x73, 0x6D, 2, 0, 0, 0});
  EXPECT_EQ(v.message, "unknown binary version");
  EXPECT_EQ(v.offset, 4u);
  EXPECT_TRUE(DecodeModule(Header()).ok());
}

TEST(DecodeModule, SectionErrors) {
  Diag d = DecodeModule(Cat({Header(), {0x0D, 0x00}})).error();
  EXPECT_EQ(d.message, "malformed section id");
  EXPECT_EQ(d.offset, 8u);
  // Type section listed twice / out of order.
  EXPECT_EQ(DecodeError(Cat({Header(), Section(3, {0x00}), Section(1, {0x00})})),
            "unexpected content after last section");
  // Section size larger than the rest of the module.
  EXPECT_EQ(DecodeError(Cat({Header(), {0x01, 0x10, 0x00}})), "length out of bounds");
  // Declared size larger than what the content uses.
  EXPECT_EQ(DecodeError(Cat({Header(), Section(1, {0x00, 0x00})})), "section size mismatch");
  // Custom sections may appear anywhere, even between ordered sections.
  EXPECT_TRUE(DecodeModule(Cat({Header(), Section(0, Name("a")), Section(1, {0x00}),
                                Section(0, Cat({Name("b"), {1, 2, 3}}))}))
                  .ok());
  EXPECT_EQ(DecodeError(Cat({Header(), Section(0, {0x02, 0xC0, 0x80})})),
            "malformed UTF-8 encoding");
  // Function section without a code section.
  EXPECT_EQ(DecodeError(Cat({Header(), Section(1, Vec({FuncTypeBytes({}, {})})),
                             Section(3, Vec({{0x00}}))})),
            "function and code section have inconsistent lengths");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(5, Vec({{0x00, 0x01}})), Section(12, {0x01})})),
            "data count and data section have inconsistent lengths");
}

TEST(DecodeModule, OversizedCountsFailBeforeAllocating) {
  // A vector count of 2^32-1 in every vector-bearing section: must fail fast with
  // "unexpected end" rather than reserving memory for the elements.
  for (uint8_t id : {1, 2, 3, 4, 5, 6, 7, 9, 10, 11}) {
    Bytes payload;
    AppendU32(payload, 0xFFFFFFFFu);
    std::string msg = DecodeError(Cat({Header(), Section(id, payload)}));
    EXPECT_EQ(msg.rfind("unexpected end", 0), 0u) << "section " << int(id) << ": " << msg;
  }
  // br_table with a huge label count.
  Bytes instrs = {0x41, 0x00, 0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00};
  EXPECT_EQ(DecodeError(OneFunc(Vec({FuncTypeBytes({}, {})}), 0, instrs)).rfind("unexpected end", 0), 0u);
}

TEST(DecodeModule, TruncationAtEveryByte) {
  Bytes b = RichModule();
  ASSERT_TRUE(DecodeModule(b).ok());
  // Section boundaries: truncating exactly there can leave a well-formed (shorter) module.
  size_t ok_count = 0;
  for (size_t len = 0; len < b.size(); ++len) {
    Bytes t(b.begin(), b.begin() + len);
    auto r = DecodeModule(t);
    if (r.ok()) {
      ++ok_count;
      continue;
    }
    EXPECT_FALSE(r.error().message.empty()) << len;
    EXPECT_LE(r.error().offset, len) << len << ": " << r.error().message;
  }
  // Only the prefixes ending at the header or before the code section can be complete modules.
  EXPECT_LE(ok_count, 10u);
}

TEST(DecodeModule, FromOwnedBytesTakesThemWithoutCopying) {
  Bytes b = RichModule();
  Bytes owned = b;
  const uint8_t* storage = owned.data();
  auto r = DecodeModule(std::move(owned));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ((*r)->bytes, b);
  EXPECT_EQ((*r)->bytes.data(), storage);  // the same buffer, moved in
  EXPECT_EQ((*r)->functions.size(), 2u);
  // Errors are the same as from a span.
  Bytes bad(b.begin(), b.end() - 3);
  auto from_span = DecodeModule(bad);
  auto from_vector = DecodeModule(Bytes(bad));
  ASSERT_FALSE(from_span.ok());
  ASSERT_FALSE(from_vector.ok());
  EXPECT_EQ(from_vector.error().message, from_span.error().message);
  EXPECT_EQ(from_vector.error().offset, from_span.error().offset);
}

// `n` functions of type [] -> [i32], each `i32.const 1 drop` x 100 then `i32.const 7`
// (bodies of 304 bytes). `patch(i, body)` may change function i's instructions.
template <class Patch>
Bytes ManyFunctions(size_t n, Patch patch) {
  Bytes types = Vec({FuncTypeBytes({}, {kI32})});
  Bytes funcs;
  AppendU32(funcs, static_cast<uint32_t>(n));
  for (size_t i = 0; i < n; ++i) funcs.push_back(0x00);
  Bytes code;
  AppendU32(code, static_cast<uint32_t>(n));
  for (size_t i = 0; i < n; ++i) {
    Bytes instrs;
    for (int k = 0; k < 100; ++k) instrs.insert(instrs.end(), {0x41, 0x01, 0x1A});
    instrs.insert(instrs.end(), {0x41, 0x07});
    patch(i, instrs);
    Bytes body = Body({0x00}, instrs);
    code.insert(code.end(), body.begin(), body.end());
  }
  return Cat({Header(), Section(1, types), Section(3, funcs), Section(10, code)});
}

// Decoding with one thread and with `several` gives the same module or the same error.
// (The threshold is lowered so that a small module takes the several-thread path.)
void ExpectSameWithThreads(const Bytes& b, std::initializer_list<uint32_t> several = {2}) {
  DecodeOptions one;
  one.decode_threads = 1;
  auto want = DecodeModule(b, one);
  for (uint32_t threads : several) {
    DecodeOptions opt;
    opt.decode_threads = threads;
    opt.parallel_code_bytes = 0;
    auto got = DecodeModule(b, opt);
    ASSERT_EQ(got.ok(), want.ok()) << threads;
    if (!want.ok()) {
      EXPECT_EQ(got.error().message, want.error().message) << threads;
      EXPECT_EQ(got.error().offset, want.error().offset) << threads;
      continue;
    }
    ASSERT_EQ((*got)->functions.size(), (*want)->functions.size());
    for (size_t i = 0; i < (*want)->functions.size(); ++i) {
      EXPECT_EQ((*got)->functions[i].body_offset, (*want)->functions[i].body_offset) << i;
      EXPECT_EQ((*got)->functions[i].body_size, (*want)->functions[i].body_size) << i;
    }
  }
}

TEST(DecodeModule, CodeSectionOnSeveralThreadsMatchesOneThread) {
  const size_t n = 300;
  auto none = [](size_t, Bytes&) {};
  Bytes ok = ManyFunctions(n, none);
  ASSERT_TRUE(DecodeModule(ok).ok());
  ExpectSameWithThreads(ok, {2, 3, 7});

  // One invalid body late in the section, and one early plus one late: the first wins.
  auto mismatch_at = [](std::initializer_list<size_t> which) {
    return [which](size_t i, Bytes& instrs) {
      for (size_t w : which)
        if (i == w) instrs[instrs.size() - 2] = 0x42;  // i64.const 7: type mismatch
    };
  };
  Bytes late = ManyFunctions(n, mismatch_at({250}));
  EXPECT_EQ(DecodeError(late), "type mismatch");
  ExpectSameWithThreads(late, {2, 3});
  ExpectSameWithThreads(ManyFunctions(n, mismatch_at({3, 250})), {2, 3});

  // A malformed body after an invalid one: malformed wins, whichever thread sees it.
  auto illegal_at = [](size_t bad) {
    return [bad](size_t i, Bytes& instrs) {
      if (i == bad) instrs[9] = 0xFF;  // the 4th i32.const becomes a byte that is no opcode
      if (i == 2) instrs[instrs.size() - 2] = 0x42;
    };
  };
  for (size_t bad : {1, 2, 150, 299}) {
    Bytes b = ManyFunctions(n, illegal_at(bad));
    EXPECT_EQ(DecodeError(b), "illegal opcode") << bad;
    ExpectSameWithThreads(b);
  }

  // Body 200 declares one byte more than it holds (size 304 -> 305, a 2-byte LEB128
  // before its 1-byte locals vector): "section size mismatch" at the body.
  auto d = DecodeModule(ok);
  ASSERT_TRUE(d.ok());
  Bytes overrun = ok;
  const size_t size200 = (*d)->functions[200].body_offset - 3;
  ASSERT_EQ(overrun[size200], 0xB0);
  overrun[size200] = 0xB1;
  EXPECT_EQ(DecodeError(overrun), "section size mismatch");
  ExpectSameWithThreads(overrun);
  // Body 200's final `end` becomes `nop`: it runs on into the next body's bytes.
  Bytes no_end = ok;
  no_end[(*d)->functions[200].body_offset + (*d)->functions[200].body_size - 1] = 0x01;
  EXPECT_NE(DecodeError(no_end), "");
  ExpectSameWithThreads(no_end);

  // The last body's size (2-byte LEB128 before its 1-byte locals vector) pointing past the
  // end of the module: "length out of bounds", unless an earlier body is malformed.
  Bytes oversized = ok;
  const size_t size_at = (*d)->functions[299].body_offset - 3;
  oversized[size_at] = 0xFF;
  oversized[size_at + 1] = 0x7F;
  auto e = DecodeModule(oversized);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "length out of bounds");
  EXPECT_EQ(e.error().offset, size_at);
  ExpectSameWithThreads(oversized);
  Bytes bad_early = oversized;
  bad_early[(*d)->functions[5].body_offset + 9] = 0xFF;
  EXPECT_EQ(DecodeError(bad_early), "illegal opcode");
  ExpectSameWithThreads(bad_early);
}

TEST(DecodeModule, LocalsLimit) {
  Bytes types = Vec({FuncTypeBytes({}, {})});
  DecodeOptions opt;
  opt.max_function_locals = 10;
  Bytes ten = Vec({{0x0A, kI32}});
  Bytes eleven = Vec({{0x05, kI32}, {0x06, kI64}});
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {}, {}, {}, ten), opt), "");
  Bytes m = OneFunc(types, 0, {}, {}, {}, eleven);
  auto r = DecodeModule(m, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "too many locals");
  // Offset of the second run's count (header 8 + type sec 6 + func sec 4 + code 3 + size 1 + vec 1 + run 2).
  EXPECT_EQ(r.error().offset, 25u);
  // 2^32 locals in total must not overflow the counter.
  Bytes huge = Vec({{0xFF, 0xFF, 0xFF, 0xFF, 0x0F, kI32}, {0x01, kI32}});
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {}, {}, {}, huge)), "too many locals");
}

TEST(DecodeModule, NestingDepthLimit) {
  Bytes types = Vec({FuncTypeBytes({}, {})});
  DecodeOptions opt;
  opt.max_nesting_depth = 5;
  auto nested = [](int depth) {
    Bytes instrs;
    for (int i = 0; i < depth; ++i) instrs.insert(instrs.end(), {0x02, 0x40});
    instrs.insert(instrs.end(), depth, 0x0B);
    return instrs;
  };
  EXPECT_EQ(DecodeError(OneFunc(types, 0, nested(5)), opt), "");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, nested(6)), opt), "nesting depth too large");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, nested(10000))), "");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, nested(10001))), "nesting depth too large");
}

TEST(DecodeModule, UnsupportedFeaturesSayNotSupported) {
  Bytes types = Vec({FuncTypeBytes({}, {})});
  EXPECT_EQ(DecodeError(Cat({Header(), Section(1, Vec({FuncTypeBytes({0x7B}, {})}))})),
            "SIMD (v128) not supported yet");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {0xFD, 0x0C})), "SIMD (v128) not supported yet");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {0x06, 0x40, 0x0B})),
            "exception handling not supported yet");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {0x08, 0x00})), "exception handling not supported yet");
}

TEST(DecodeModule, BodyErrorsAndOffsets) {
  Bytes types = Vec({FuncTypeBytes({}, {})});
  // Body starts at offset 8 + 6 + 4 + 3 (code header + count) + 1 (size) + 1 (locals) = 23.
  auto r = DecodeModule(OneFunc(types, 0, {0x01, 0x01, 0xFF}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "illegal opcode");
  EXPECT_EQ(r.error().offset, 25u);
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {0xFC, 0x12})), "illegal opcode");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {0x3F, 0x01}, Section(5, Vec({{0x00, 0x01}})))),
            "zero byte expected");
  // `else` outside an `if`.
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {0x02, 0x40, 0x05, 0x0B})), "END opcode expected");
  // The body's declared size is larger than the instructions up to the final end.
  Bytes m = OneFunc(types, 0, {0x01});
  m[m.size() - 4] += 1;  // body size
  m[m.size() - 6] += 1;  // code section size
  m.push_back(0x01);
  EXPECT_EQ(DecodeError(m), "section size mismatch");
}

TEST(DecodeModule, MalformedWinsOverInvalid) {
  Bytes types = Vec({FuncTypeBytes({}, {})});
  // Body is ill-typed (i32.add on an empty stack), and the data section after it is
  // malformed: the reference interpreter decodes first, so "malformed" wins.
  Bytes bad_data = Section(11, {0x01});  // one segment declared, none given
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {0x6A}, {}, bad_data)).rfind("unexpected end", 0), 0u);
  EXPECT_EQ(DecodeError(OneFunc(types, 0, {0x6A})), "type mismatch");
}

TEST(DecodeModule, LimitsAndMemories) {
  auto mem = [](Bytes limits) { return Cat({Header(), Section(5, Cat({{0x01}, limits}))}); };
  EXPECT_EQ(DecodeError(mem({0x00, 0x80, 0x80, 0x04})), "");  // 65536 pages
  EXPECT_EQ(DecodeError(mem({0x00, 0x81, 0x80, 0x04})), "memory size must be at most 65536 pages (4GiB)");
  EXPECT_EQ(DecodeError(mem({0x01, 0x02, 0x01})), "size minimum must not be greater than maximum");
  EXPECT_EQ(DecodeError(mem({0x02, 0x00})), "integer too large");
  EXPECT_EQ(DecodeError(mem({0x81, 0x00})), "integer representation too long");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(5, Vec({{0x00, 0x01}, {0x00, 0x01}}))})),
            "multiple memories");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(4, Vec({{kFuncRef, 0x01, 0x03, 0x02}}))})),
            "size minimum must not be greater than maximum");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(4, Vec({{kI32, 0x00, 0x01}}))})),
            "malformed reference type");
}

TEST(DecodeModule, ExportsImportsAndStart) {
  Bytes types = Vec({FuncTypeBytes({}, {}), FuncTypeBytes({kI32}, {})});
  Bytes funcs = Vec({{0x00}});
  Bytes code = Section(10, Vec({Body({0x00}, {})}));
  auto with = [&](Bytes mid) {
    return Cat({Header(), Section(1, types), Section(3, funcs), mid, code});
  };
  EXPECT_EQ(DecodeError(with(Section(7, Vec({Cat({Name("a"), {0x00, 0x00}}),
                                              Cat({Name("a"), {0x00, 0x00}})})))),
            "duplicate export name");
  EXPECT_EQ(DecodeError(with(Section(7, Vec({Cat({Name("a"), {0x00, 0x05}})})))),
            "unknown function 5");
  EXPECT_EQ(DecodeError(with(Section(7, Vec({Cat({Name("a"), {0x04, 0x00}})})))),
            "malformed export kind");
  EXPECT_EQ(DecodeError(with(Section(8, {0x07}))), "unknown function 7");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(1, types), Section(3, Vec({{0x01}})),
                             Section(8, {0x00}), Section(10, Vec({Body({0x00}, {})}))})),
            "start function");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(2, Vec({Cat({Name("m"), Name("f"), {0x00, 0x09}})}))})),
            "unknown type 9");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(2, Vec({Cat({Name("m"), Name("f"), {0x05}})}))})),
            "malformed import kind");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(2, Vec({Cat({Name("m"), Name("g"), {0x03, kI32, 0x02}})}))})),
            "malformed mutability");
}

TEST(DecodeModule, ElementSegmentForms) {
  Bytes types = Vec({FuncTypeBytes({}, {})});
  Bytes funcs = Vec({{0x00}});
  Bytes table = Section(4, Vec({{kFuncRef, 0x00, 0x04}}));
  Bytes code = Section(10, Vec({Body({0x00}, {})}));
  Bytes elems = Vec({
      {0x00, 0x41, 0x00, 0x0B, 0x01, 0x00},                    // 0: active, funcidx
      {0x01, 0x00, 0x01, 0x00},                                // 1: passive, funcidx
      {0x02, 0x00, 0x41, 0x01, 0x0B, 0x00, 0x01, 0x00},        // 2: active table 0, funcidx
      {0x03, 0x00, 0x01, 0x00},                                // 3: declarative, funcidx
      {0x04, 0x41, 0x02, 0x0B, 0x02, 0xD2, 0x00, 0x0B, 0xD0, 0x70, 0x0B},  // 4: active exprs
      {0x05, kExternRef, 0x01, 0xD0, 0x6F, 0x0B},              // 5: passive exprs
      {0x06, 0x00, 0x41, 0x03, 0x0B, kFuncRef, 0x00},          // 6: active table 0, exprs
      {0x07, kFuncRef, 0x01, 0xD2, 0x00, 0x0B},                // 7: declarative exprs
  });
  auto r = DecodeModule(Cat({Header(), Section(1, types), Section(3, funcs), table,
                             Section(9, elems), code}));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Module& m = **r;
  ASSERT_EQ(m.elems.size(), 8u);
  const SegmentMode modes[] = {SegmentMode::kActive, SegmentMode::kPassive, SegmentMode::kActive,
                               SegmentMode::kDeclarative, SegmentMode::kActive, SegmentMode::kPassive,
                               SegmentMode::kActive, SegmentMode::kDeclarative};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(m.elems[i].mode, modes[i]) << i;
  EXPECT_EQ(m.elems[2].offset.bits, 1u);
  EXPECT_EQ(m.elems[4].init.size(), 2u);
  EXPECT_EQ(m.elems[4].init[1].kind, ConstExpr::Kind::kRefNull);
  EXPECT_EQ(m.elems[5].type, ValType::kExternRef);
  EXPECT_EQ(m.elems[6].init.size(), 0u);

  // Active segment into a table of the wrong type; unknown table; bad elemkind.
  Bytes ext_table = Section(4, Vec({{kExternRef, 0x00, 0x04}}));
  EXPECT_EQ(DecodeError(Cat({Header(), Section(1, types), Section(3, funcs), ext_table,
                             Section(9, Vec({{0x00, 0x41, 0x00, 0x0B, 0x00}})), code})),
            "type mismatch");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(1, types), Section(3, funcs),
                             Section(9, Vec({{0x00, 0x41, 0x00, 0x0B, 0x00}})), code})),
            "unknown table 0");
  EXPECT_EQ(DecodeError(Cat({Header(), Section(1, types), Section(3, funcs), table,
                             Section(9, Vec({{0x01, 0x01, 0x00}})), code})),
            "malformed elements kind");
}

TEST(DecodeModule, ConstantExpressions) {
  auto global = [](Bytes g) { return Cat({Header(), Section(6, Vec({g}))}); };
  EXPECT_EQ(DecodeError(global({kI32, 0x00, 0x41, 0x00, 0x0B})), "");
  EXPECT_EQ(DecodeError(global({kI64, 0x00, 0x41, 0x00, 0x0B})), "type mismatch");
  EXPECT_EQ(DecodeError(global({kI32, 0x00, 0x0B})), "type mismatch");
  EXPECT_EQ(DecodeError(global({kI32, 0x00, 0x41, 0x00, 0x41, 0x00, 0x0B})), "type mismatch");
  EXPECT_EQ(DecodeError(global({kI32, 0x00, 0x41, 0x00, 0x41, 0x00, 0x6A, 0x0B})),
            "constant expression required");
  // A non-constant block is parsed to its end, so what follows still decodes.
  EXPECT_EQ(DecodeError(global({kI32, 0x00, 0x02, 0x40, 0x0B, 0x41, 0x00, 0x0B})),
            "constant expression required");
  // ... and malformed bytes inside it are still malformed.
  EXPECT_EQ(DecodeError(global({kI32, 0x00, 0x01, 0xFF, 0x0B})), "illegal opcode");
  EXPECT_EQ(DecodeError(global({kI32, 0x00, 0x23, 0x00, 0x0B})), "unknown global 0");
  EXPECT_EQ(DecodeError(global({kFuncRef, 0x00, 0xD2, 0x03, 0x0B})), "unknown function 3");
  // global.get of a mutable import is not constant.
  Bytes imp = Section(2, Vec({Cat({Name("m"), Name("g"), {0x03, kI32, 0x01}})}));
  EXPECT_EQ(DecodeError(Cat({Header(), imp, Section(6, Vec({{kI32, 0x00, 0x23, 0x00, 0x0B}}))})),
            "constant expression required");
}

TEST(DecodeModule, DataSegments) {
  Bytes mem = Section(5, Vec({{0x00, 0x01}}));
  EXPECT_EQ(DecodeError(Cat({Header(), Section(11, Vec({{0x00, 0x41, 0x00, 0x0B, 0x00}}))})),
            "unknown memory 0");
  EXPECT_EQ(DecodeError(Cat({Header(), mem, Section(11, Vec({{0x02, 0x01, 0x41, 0x00, 0x0B, 0x00}}))})),
            "unknown memory 1");
  EXPECT_EQ(DecodeError(Cat({Header(), mem, Section(11, Vec({{0x03, 0x00}}))})),
            "malformed data segment kind");
  EXPECT_EQ(DecodeError(Cat({Header(), mem, Section(11, {0x01, 0x01, 0x05, 'a'})})),
            "unexpected end of section or function");
  // memory.init needs the data count section when data segments exist.
  Bytes types = Vec({FuncTypeBytes({}, {})});
  Bytes init = {0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x08, 0x00, 0x00};
  EXPECT_EQ(DecodeError(OneFunc(types, 0, init, mem, Section(11, Vec({{0x01, 0x00}})))),
            "data count section required");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, init, Cat({mem, Section(12, {0x01})}),
                                Section(11, Vec({{0x01, 0x00}})))),
            "");
  EXPECT_EQ(DecodeError(OneFunc(types, 0, init, mem)), "unknown data segment 0");
}

// Function names out of index order (which the spec's name map does not allow, and
// producers do not emit) are still found; of two entries for one index the later wins.
TEST(DecodeModule, FunctionNamesOutOfOrderAndRepeated) {
  auto Entry = [](uint8_t index, const std::string& name) {
    return Cat({{index}, Name(name)});
  };
  Bytes map = Vec({Entry(5, "five"), Entry(2, "two"), Entry(9, "nine"), Entry(2, "deux")});
  Bytes names = Cat({Name("name"), {0x01, static_cast<uint8_t>(map.size())}, map});
  auto r = DecodeModule(Cat({Header(), Section(0, names)}));
  ASSERT_TRUE(r.ok());
  const Module& m = **r;
  EXPECT_EQ(m.FuncName(2), "deux");
  EXPECT_EQ(m.FuncName(5), "five");
  EXPECT_EQ(m.FuncName(9), "nine");
  EXPECT_EQ(m.FuncName(3), "");
  ASSERT_EQ(m.func_names.size(), 3u);
}

TEST(DecodeModule, MalformedNameSectionIsIgnored) {
  Bytes names = Cat({Name("name"), {0x01, 0x10, 0x01}});  // subsection size past the end
  auto r = DecodeModule(Cat({Header(), Section(0, names)}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->func_names.empty());
}

}  // namespace
}  // namespace weft::wasm
