// CodeCache: a module decoded again through the cache skips body validation and starts
// its functions from the saved code, which is made right for the new store (type ids)
// and used only where it fits (same bytes, same linking, an undamaged file).
#include "weft/wasm/code_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "runtime_wat.h"
#include "wasm/runtime/store_impl.h"

namespace weft::wasm {
namespace {

using testing::WatToWasm;

constexpr ValType I32 = ValType::kI32;

// call_indirect (a store type id in the code), a forwarder to a host import (translated
// as a direct host call), and a function that is never called.
constexpr const char* kModule = R"(
  (module
    (import "env" "twice" (func $twice (param i32) (result i32)))
    (type $un (func (param i32) (result i32)))
    (table 2 funcref)
    (elem (i32.const 0) $inc $fwd)
    (func $inc (type $un) local.get 0 i32.const 1 i32.add)
    (func $fwd (type $un) local.get 0 call $twice)
    (func $unused (result i32) i32.const 7)
    (func (export "run") (param i32) (result i32)
      (call_indirect (type $un) (local.get 0) (i32.const 1))
      (call_indirect (type $un) (i32.const 0) (i32.const 0))
      i32.add))
)";

std::optional<Trap> Twice(Caller&, Value* io) {
  io[0] = Value::I32(io[0].i32() * 2);
  return std::nullopt;
}

class CodeCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/weft_code_cache_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    bytes_ = WatToWasm(kModule);
    ASSERT_FALSE(bytes_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Decodes kModule through `cache`, links `twice` as a host function (or, with
  // wasm_twice, as a wasm function of another instance), runs run(arg), saves.
  struct Outcome {
    std::shared_ptr<const Module> module;
    bool used_translation = false;
    std::optional<uint32_t> result;
    std::vector<CodeWord> run_code;  // the exported function's code after the run
  };
  Outcome RunOnce(CodeCache& cache, uint32_t arg, bool wasm_twice = false,
                  int extra_types_first = 0) {
    Outcome o;
    auto m = cache.Decode(std::vector<uint8_t>(bytes_));
    EXPECT_TRUE(m.ok());
    if (!m.ok()) return o;
    o.module = *m;
    Store store;
    // Types interned before the module's: its type ids differ from the saving store's.
    for (int k = 0; k < extra_types_first; ++k)
      store.InternType(FuncType{std::vector<ValType>(k + 3, ValType::kF64), {}});
    Linker linker;
    if (wasm_twice) {
      auto helper = linker.Instantiate(
          store, testing::ParseWat(R"((module (func (export "twice") (param i32) (result i32)
                                        local.get 0 i32.const 2 i32.mul)))"));
      EXPECT_TRUE(helper.ok());
      linker.Define("env", "twice", Extern::Func((*helper)->GetFunc("twice")));
    } else {
      linker.DefineHostFunc(store, "env", "twice", FuncType{{I32}, {I32}}, &Twice, nullptr);
    }
    auto inst = linker.Instantiate(store, o.module);
    EXPECT_TRUE(inst.ok());
    if (!inst.ok()) return o;
    o.used_translation = (*inst)->translated != nullptr;
    FuncInst* run = (*inst)->GetFunc("run");
    auto r = Invoke(store, run, {{Value::I32(arg)}});
    if (r.ok()) o.result = (*r)[0].i32();
    auto code = static_cast<CompiledFunc*>(run->compiled)->code;
    o.run_code.assign(code.begin(), code.end());
    cache.Save(**inst);
    return o;
  }

  std::string dir_;
  std::vector<uint8_t> bytes_;
};

TEST_F(CodeCacheTest, SecondDecodeUsesTheSavedCodeInAStoreWithOtherTypeIds) {
  CodeCache cache(dir_);
  std::string path = cache.EntryPath(bytes_);
  ASSERT_FALSE(path.empty()) << "the test binary has no build ID";
  Outcome first = RunOnce(cache, 5);
  EXPECT_FALSE(first.module->translated);
  EXPECT_EQ(first.result, std::optional<uint32_t>(5 * 2 + 0 + 1));  // fwd(5) + inc(0)
  ASSERT_TRUE(std::filesystem::exists(path));

  Outcome second = RunOnce(cache, 6, /*wasm_twice=*/false, /*extra_types_first=*/3);
  ASSERT_TRUE(second.module->translated);
  EXPECT_TRUE(second.used_translation);
  EXPECT_EQ(second.result, std::optional<uint32_t>(6 * 2 + 1));
  // The copied code is what translating afresh in that store gives, type ids included.
  Store store;
  for (int k = 0; k < 3; ++k) store.InternType(FuncType{std::vector<ValType>(k + 3, ValType::kF64), {}});
  Linker linker;
  linker.DefineHostFunc(store, "env", "twice", FuncType{{I32}, {I32}}, &Twice, nullptr);
  auto fresh = linker.Instantiate(store, *DecodeModule(bytes_));
  ASSERT_TRUE(fresh.ok());
  FuncInst* run = (*fresh)->GetFunc("run");
  ASSERT_TRUE(Invoke(store, run, {{Value::I32(6)}}).ok());
  auto fresh_code = static_cast<CompiledFunc*>(run->compiled)->code;
  EXPECT_EQ(second.run_code, std::vector<CodeWord>(fresh_code.begin(), fresh_code.end()));
  EXPECT_NE(first.run_code, second.run_code);  // the type id words moved
}

TEST_F(CodeCacheTest, OnlyCalledFunctionsAreSavedAndLaterRunsAddTheirs) {
  CodeCache cache(dir_);
  RunOnce(cache, 1);
  auto m = cache.Decode(std::vector<uint8_t>(bytes_));
  ASSERT_TRUE(m.ok());
  const TranslatedCode& t = *(*m)->translated;
  ASSERT_EQ(t.funcs.size(), 4u);
  EXPECT_TRUE(t.funcs[0] && t.funcs[1] && t.funcs[3]);  // inc, fwd, run
  EXPECT_FALSE(t.funcs[2]);                             // unused
  // The distinct constants the validator counted come back with the entry.
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ((*m)->functions[i].distinct_consts, (*DecodeModule(bytes_))->functions[i].distinct_consts);
}

TEST_F(CodeCacheTest, AnEntryValidatedUnderOtherLimitsIsNotUsed) {
  CodeCache cache(dir_);
  RunOnce(cache, 1);
  DecodeOptions strict;
  strict.max_nesting_depth = 50;
  auto m = CodeCache(dir_, strict).Decode(std::vector<uint8_t>(bytes_));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE((*m)->translated);  // its bodies were validated again, under these limits
  auto again = cache.Decode(std::vector<uint8_t>(bytes_));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->translated);
}

TEST_F(CodeCacheTest, AnInstanceLinkedOtherwiseTranslatesAfresh) {
  CodeCache cache(dir_);
  RunOnce(cache, 2);
  Outcome o = RunOnce(cache, 2, /*wasm_twice=*/true);
  ASSERT_TRUE(o.module->translated);
  EXPECT_FALSE(o.used_translation);  // `twice` is a wasm function now: no direct host call
  EXPECT_EQ(o.result, std::optional<uint32_t>(2 * 2 + 1));
}

TEST_F(CodeCacheTest, ADamagedEntryIsIgnored) {
  CodeCache cache(dir_);
  RunOnce(cache, 3);
  std::string path = cache.EntryPath(bytes_);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-5, std::ios::end);
  f.put('\x5a');
  f.close();
  Outcome o = RunOnce(cache, 3);
  EXPECT_FALSE(o.module->translated);
  EXPECT_EQ(o.result, std::optional<uint32_t>(3 * 2 + 1));
}

TEST_F(CodeCacheTest, AnEntryHoldingOtherBytesIsIgnored) {
  CodeCache cache(dir_);
  RunOnce(cache, 1);
  // Another module whose entry file name is taken by kModule's entry: same length, one
  // byte different (the constant in $unused), so nothing but the bytes tells them apart.
  std::vector<uint8_t> other = bytes_;
  std::vector<uint8_t> pattern = {0x41, 0x07, 0x0b};  // i32.const 7; end
  auto at = std::search(other.begin(), other.end(), pattern.begin(), pattern.end());
  ASSERT_NE(at, other.end());
  at[1] = 0x08;
  std::filesystem::copy_file(cache.EntryPath(bytes_), cache.EntryPath(other));
  auto m = cache.Decode(std::move(other));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE((*m)->translated);
}

TEST_F(CodeCacheTest, AnInvalidModuleGetsTheSameErrorAndNoEntry) {
  CodeCache cache(dir_);
  // i32.const 1 turned into i64.const 1 (same immediate): "type mismatch".
  std::vector<uint8_t> bad = WatToWasm("(module (func (result i32) i32.const 1))");
  std::vector<uint8_t> pattern = {0x41, 0x01, 0x0b};
  auto at = std::search(bad.begin(), bad.end(), pattern.begin(), pattern.end());
  ASSERT_NE(at, bad.end());
  *at = 0x42;
  auto via_cache = cache.Decode(std::vector<uint8_t>(bad));
  auto plain = DecodeModule(bad);
  ASSERT_FALSE(via_cache.ok());
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(via_cache.error().ToString(), plain.error().ToString());
  EXPECT_FALSE(std::filesystem::exists(cache.EntryPath(bad)));
}

TEST_F(CodeCacheTest, RefFuncCodeIsNotSaved) {
  CodeCache cache(dir_);
  std::vector<uint8_t> wasm = WatToWasm(R"(
    (module (func $f) (elem declare func $f)
      (func (export "g") (result i32) ref.func $f ref.is_null))
  )");
  auto m = cache.Decode(std::vector<uint8_t>(wasm));
  ASSERT_TRUE(m.ok());
  Store store;
  auto inst = Linker().Instantiate(store, *m);
  ASSERT_TRUE(inst.ok());
  auto r = Invoke(store, (*inst)->GetFunc("g"), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), 0u);
  EXPECT_TRUE(cache.Save(**inst));  // nothing to save: g holds $f's address
  EXPECT_FALSE(std::filesystem::exists(cache.EntryPath(wasm)));
}

TEST_F(CodeCacheTest, AnEmptyDirectoryTurnsItOff) {
  CodeCache off("");
  EXPECT_EQ(off.EntryPath(bytes_), "");
  Outcome o = RunOnce(off, 4);
  EXPECT_EQ(o.result, std::optional<uint32_t>(4 * 2 + 1));
  EXPECT_FALSE(o.module->translated);
}

TEST_F(CodeCacheTest, AnUnwritableDirectoryOnlyCostsTheSave) {
  std::string file = dir_ + "/not_a_dir";
  std::ofstream(file) << "x";
  CodeCache cache(file + "/cache");  // its parent is a file: nothing can be created
  Outcome o = RunOnce(cache, 9);
  EXPECT_EQ(o.result, std::optional<uint32_t>(9 * 2 + 1));
  EXPECT_FALSE(std::filesystem::exists(cache.EntryPath(bytes_)));
}

// Files under the cache directory for the size-limit tests: entries of another build,
// and files Trim must leave alone.
class CodeCacheTrimTest : public CodeCacheTest {
 protected:
  static void WriteFile(const std::string& path, size_t bytes, int hours_old) {
    std::ofstream(path) << std::string(bytes, 'x');
    SetAge(path, hours_old);
  }
  static void SetAge(const std::string& path, int hours_old) {
    timespec when[2];
    ::clock_gettime(CLOCK_REALTIME, &when[0]);
    when[0].tv_sec -= hours_old * 3600;
    when[1] = when[0];
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), when, 0), 0);
  }
  bool Exists(const std::string& path) { return std::filesystem::exists(path); }
  // Runs the module once through `cache`, which writes its entry; returns the entry's
  // path and size (0: the test binary has no build ID, or the entry outgrew the 4000
  // bytes the tests' other entries are sized against).
  std::pair<std::string, uint64_t> WriteEntry(CodeCache& cache) {
    std::string path = cache.EntryPath(bytes_);
    if (path.empty()) return {path, 0};
    RunOnce(cache, 1);
    uint64_t size = std::filesystem::file_size(path);
    return {path, size < 4000 ? size : 0};
  }
};

TEST_F(CodeCacheTrimTest, PastTheLimitTheOldestEntriesOfEveryBuildGo) {
  CodeCache cache(dir_);
  const auto [path, entry] = WriteEntry(cache);
  ASSERT_NE(entry, 0u);
  std::filesystem::remove(path);  // so that the next run writes it again

  const std::string other = dir_ + "/" + std::string(40, 'a');
  std::filesystem::create_directories(other);
  WriteFile(other + "/0123456789abcdef.wcc", 4000, 72);  // the oldest
  WriteFile(other + "/fedcba9876543210.wcc", 4000, 48);
  WriteFile(other + "/1111111111111111.wcc.tmp.77.0", 10, 2);  // its writer died
  WriteFile(other + "/2222222222222222.wcc.tmp.78.0", 10, 0);  // a writer at work
  WriteFile(other + "/notes.txt", 100000, 96);          // not an entry: neither counted
  WriteFile(dir_ + "/3333333333333333.wcc", 100000, 96);  // nor outside a build's folder

  // Over the limit by one byte: the oldest entry goes, which brings the rest under three
  // quarters of it.
  cache.set_size_limit(entry + 8000 - 1);
  RunOnce(cache, 1);
  EXPECT_TRUE(Exists(path));
  EXPECT_FALSE(Exists(other + "/0123456789abcdef.wcc"));
  EXPECT_TRUE(Exists(other + "/fedcba9876543210.wcc"));
  EXPECT_FALSE(Exists(other + "/1111111111111111.wcc.tmp.77.0"));
  EXPECT_TRUE(Exists(other + "/2222222222222222.wcc.tmp.78.0"));
  EXPECT_TRUE(Exists(other + "/notes.txt"));
  EXPECT_TRUE(Exists(dir_ + "/3333333333333333.wcc"));
}

TEST_F(CodeCacheTrimTest, AnEntryInUseOutlivesNewerOnesThatAreNot) {
  CodeCache cache(dir_);
  const auto [used, entry] = WriteEntry(cache);
  ASSERT_NE(entry, 0u);
  SetAge(used, 72);
  const std::string other = dir_ + "/" + std::string(40, 'c');
  std::filesystem::create_directories(other);
  WriteFile(other + "/0123456789abcdef.wcc", 4000, 48);  // newer, and not used

  Outcome cached = RunOnce(cache, 1);  // uses the three-day-old entry
  EXPECT_TRUE(cached.used_translation);
  // A second module's entry takes the cache one byte past the limit: one entry must go.
  bytes_ = WatToWasm(std::string(kModule).replace(std::string(kModule).find("i32.const 7"), 11, "i32.const 8"));
  const std::string fresh = cache.EntryPath(bytes_);
  ASSERT_NE(fresh, used);
  cache.set_size_limit(2 * entry + 4000 - 1);
  RunOnce(cache, 1);
  ASSERT_TRUE(Exists(fresh));
  EXPECT_TRUE(Exists(used)) << "the entry used a moment ago went, as if unused for three days";
  EXPECT_FALSE(Exists(other + "/0123456789abcdef.wcc"));
}

TEST_F(CodeCacheTrimTest, UnderTheLimitNothingGoesAndAnEmptiedBuildFolderIsRemoved) {
  CodeCache cache(dir_);
  const std::string path = cache.EntryPath(bytes_);
  ASSERT_FALSE(path.empty()) << "the test binary has no build ID";
  const std::string old_build = dir_ + "/" + std::string(40, 'b');
  std::filesystem::create_directories(old_build);
  WriteFile(old_build + "/0123456789abcdef.wcc", 4000, 72);
  RunOnce(cache, 1);  // the default limit
  EXPECT_TRUE(Exists(old_build + "/0123456789abcdef.wcc"));

  std::filesystem::remove(path);
  cache.set_size_limit(1);  // nothing but the entry just written fits
  RunOnce(cache, 1);
  EXPECT_TRUE(Exists(path));
  EXPECT_FALSE(Exists(old_build));
}

}  // namespace
}  // namespace weft::wasm
