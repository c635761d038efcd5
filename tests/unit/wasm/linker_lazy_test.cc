// Linker::DefineHostFunc creates the FuncInst only when a definition is first resolved
// (start-up, issue 5): only imported host functions exist in the store, each once, copies
// of a linker share it, and redefinition keeps "the later definition wins".
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime_wat.h"
#include "wasm/runtime/store_impl.h"

namespace weft::wasm {
namespace {

using testing::ParseWat;

constexpr ValType I32 = ValType::kI32;

std::optional<Trap> AddOne(Caller&, Value* io) {
  io[0] = Value::I32(io[0].i32() + 1);
  return std::nullopt;
}

std::optional<Trap> Times(Caller& c, Value* io) {
  io[0] = Value::I32(io[0].i32() * *static_cast<uint32_t*>(c.user_data));
  return std::nullopt;
}

constexpr const char* kImportsB = R"(
  (module
    (import "env" "b" (func $b (param i32) (result i32)))
    (func (export "run") (param i32) (result i32) local.get 0 call $b))
)";

// Instantiates kImportsB with `linker` and returns its run(arg); nullopt when that fails.
std::optional<uint32_t> RunImportsB(Linker& linker, Store& store, uint32_t arg) {
  auto m = ParseWat(kImportsB);
  if (m == nullptr) return std::nullopt;
  auto inst = linker.Instantiate(store, m);
  if (!inst.ok()) return std::nullopt;
  auto r = Invoke(store, (*inst)->GetFunc("run"), {{Value::I32(arg)}});
  if (!r.ok()) return std::nullopt;
  return (*r)[0].i32();
}

TEST(LinkerLazyHostFuncs, OnlyImportedFunctionsAreCreated) {
  Store store;
  Linker linker;
  uint32_t factor = 3;
  linker.DefineHostFunc(store, "env", "a", FuncType{{I32}, {I32}}, &AddOne, nullptr);
  linker.DefineHostFunc(store, "env", "b", FuncType{{I32}, {I32}}, &Times, &factor);
  linker.DefineHostFunc(store, "env", "c", FuncType{{I32}, {I32}},
                        [](Caller&, const Value* args, Value* results) -> std::optional<Trap> {
                          results[0] = args[0];
                          return std::nullopt;
                        });
  EXPECT_EQ(store.objects().funcs.size(), 0u);  // nothing created by defining

  auto m = ParseWat(kImportsB);
  ASSERT_NE(m, nullptr);
  auto inst = linker.Instantiate(store, m);
  ASSERT_TRUE(inst.ok()) << inst.error().Message();
  // env.b and the module's own function; env.a and env.c were never needed.
  ASSERT_EQ(store.objects().funcs.size(), 2u);
  EXPECT_EQ(store.objects().funcs[0]->debug_name, "env.b");
  auto r = Invoke(store, (*inst)->GetFunc("run"), {{Value::I32(14)}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), 42u);

  // A second instance and Get resolve to the same FuncInst.
  auto inst2 = linker.Instantiate(store, m);
  ASSERT_TRUE(inst2.ok());
  EXPECT_EQ((*inst2)->funcs[0], (*inst)->funcs[0]);
  std::optional<Extern> b = linker.Get("env", "b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->func(), (*inst)->funcs[0]);
  EXPECT_EQ(store.objects().funcs.size(), 3u);  // + the second instance's own function

  // Get creates on demand, with the type as defined.
  std::optional<Extern> c = linker.Get("env", "c");
  ASSERT_TRUE(c.has_value());
  ASSERT_NE(c->func(), nullptr);
  EXPECT_EQ(*c->func()->type, (FuncType{{I32}, {I32}}));
  EXPECT_EQ(c->func()->debug_name, "env.c");
  EXPECT_FALSE(linker.Get("env", "nope").has_value());
}

TEST(LinkerLazyHostFuncs, CopiesShareTheCreatedFunction) {
  Store store;
  Linker linker;
  linker.DefineHostFunc(store, "env", "b", FuncType{{I32}, {I32}}, &AddOne, nullptr);
  Linker copy = linker;  // before anything was created
  std::optional<Extern> from_copy = copy.Get("env", "b");
  std::optional<Extern> from_original = linker.Get("env", "b");
  ASSERT_TRUE(from_copy && from_original);
  EXPECT_EQ(from_copy->func(), from_original->func());
  EXPECT_EQ(store.objects().funcs.size(), 1u);
}

TEST(LinkerLazyHostFuncs, LaterDefinitionWins) {
  Store store;
  Linker linker;
  uint32_t factor = 10;
  // Define over a host function...
  linker.DefineHostFunc(store, "env", "b", FuncType{{I32}, {I32}}, &AddOne, nullptr);
  FuncInst* other = store.CreateHostFunc(FuncType{{I32}, {I32}}, &Times, &factor);
  linker.Define("env", "b", Extern::Func(other));
  EXPECT_EQ(linker.Get("env", "b")->func(), other);
  EXPECT_EQ(RunImportsB(linker, store, 4), 40u);

  // ...and a host function over a Define.
  linker.DefineHostFunc(store, "env", "b", FuncType{{I32}, {I32}}, &AddOne, nullptr);
  FuncInst* now = linker.Get("env", "b")->func();
  EXPECT_NE(now, other);
  EXPECT_EQ(RunImportsB(linker, store, 4), 5u);
}

TEST(LinkerLazyHostFuncs, IncompatibleTypeIsStillALinkError) {
  Store store;
  Linker linker;
  linker.DefineHostFunc(store, "env", "b", FuncType{{I32, I32}, {I32}}, &AddOne, nullptr);
  auto m = ParseWat(kImportsB);
  ASSERT_NE(m, nullptr);
  auto inst = linker.Instantiate(store, m);
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.error().kind, InstantiateError::Kind::kLink);
  EXPECT_EQ(inst.error().Message(), "incompatible import type for `env::b`");
}

TEST(LinkerLazyHostFuncs, KeepAliveFollowsTheFunction) {
  auto state = std::make_shared<uint32_t>(7);
  std::weak_ptr<uint32_t> watch = state;
  Store store;
  {
    Linker linker;
    linker.DefineHostFunc(store, "env", "unused", FuncType{{I32}, {I32}}, &Times, state.get(),
                          state);
    linker.DefineHostFunc(store, "env", "b", FuncType{{I32}, {I32}}, &Times, state.get(), state);
    state.reset();
    auto m = ParseWat(kImportsB);
    ASSERT_NE(m, nullptr);
    auto inst = linker.Instantiate(store, m);
    ASSERT_TRUE(inst.ok());
    auto r = Invoke(store, (*inst)->GetFunc("run"), {{Value::I32(6)}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].i32(), 42u);
  }
  // The linker is gone; the created env.b (owned by the store) still holds the state.
  EXPECT_FALSE(watch.expired());
}

TEST(LinkerLazyHostFuncs, KeepAliveOfAnUnusedFunctionGoesWithTheLinker) {
  auto state = std::make_shared<uint32_t>(7);
  std::weak_ptr<uint32_t> watch = state;
  Store store;
  {
    Linker linker;
    linker.DefineHostFunc(store, "env", "unused", FuncType{{I32}, {I32}}, &Times, state.get(),
                          std::move(state));
  }
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(store.objects().funcs.size(), 0u);
}

// DefineHostModule: a finder asked per name, on first use only.
struct CountingFinder {
  std::shared_ptr<std::vector<std::string>> asked = std::make_shared<std::vector<std::string>>();
  uint32_t* factor;
  std::optional<Linker::HostFuncSpec> operator()(std::string_view name) const {
    asked->emplace_back(name);
    if (name == "a") return Linker::HostFuncSpec{FuncType{{I32}, {I32}}, &AddOne, nullptr, {}, nullptr};
    if (name == "b") return Linker::HostFuncSpec{FuncType{{I32}, {I32}}, &Times, factor, {}, nullptr};
    return std::nullopt;
  }
};

TEST(LinkerHostModule, AsksForEachImportedNameOnceAndCreatesOnlyThose) {
  Store store;
  Linker linker;
  uint32_t factor = 6;
  CountingFinder finder{.factor = &factor};
  linker.DefineHostModule(store, "env", finder);
  EXPECT_TRUE(finder.asked->empty());
  auto m = ParseWat(kImportsB);
  ASSERT_NE(m, nullptr);
  auto inst = linker.Instantiate(store, m);
  ASSERT_TRUE(inst.ok()) << inst.error().Message();
  ASSERT_EQ(store.objects().funcs.size(), 2u);  // env.b and the module's own function
  EXPECT_EQ(store.objects().funcs[0]->debug_name, "env.b");
  auto r = Invoke(store, (*inst)->GetFunc("run"), {{Value::I32(7)}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), 42u);

  // Again, from a copy of the linker too: the same function, and no second question.
  Linker copy = linker;
  auto inst2 = copy.Instantiate(store, m);
  ASSERT_TRUE(inst2.ok());
  EXPECT_EQ((*inst2)->funcs[0], (*inst)->funcs[0]);
  EXPECT_EQ(*finder.asked, std::vector<std::string>{"b"});

  // A name the module does not have is an unknown import; another module is not asked.
  EXPECT_FALSE(linker.Get("env", "nope").has_value());
  EXPECT_FALSE(linker.Get("other", "b").has_value());
  EXPECT_EQ(*finder.asked, (std::vector<std::string>{"b", "nope"}));
  auto missing = ParseWat(R"((module (import "env" "nope" (func))))");
  ASSERT_NE(missing, nullptr);
  auto failed = linker.Instantiate(store, missing);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().Message(), "unknown import: `env::nope` has not been defined");
}

TEST(LinkerHostModule, ReplacesEarlierDefinitionsAndYieldsToLaterOnes) {
  Store store;
  Linker linker;
  uint32_t factor = 10;
  FuncInst* other = store.CreateHostFunc(FuncType{{I32}, {I32}}, &AddOne, nullptr);
  linker.Define("env", "b", Extern::Func(other));
  linker.DefineHostFunc(store, "env", "a", FuncType{{I32}, {I32}}, &Times, &factor);
  linker.Define("keep", "b", Extern::Func(other));
  CountingFinder finder{.factor = &factor};
  linker.DefineHostModule(store, "env", finder);
  // Both earlier env definitions are gone: the module answers for them now.
  FuncInst* b = linker.Get("env", "b")->func();
  EXPECT_NE(b, other);
  EXPECT_EQ(b->debug_name, "env.b");
  EXPECT_EQ(linker.Get("env", "a")->func()->debug_name, "env.a");
  EXPECT_EQ(linker.Get("keep", "b")->func(), other);  // another module's definition stays

  // A later definition by name wins over the module's.
  linker.Define("env", "b", Extern::Func(other));
  EXPECT_EQ(linker.Get("env", "b")->func(), other);
  EXPECT_EQ(RunImportsB(linker, store, 4), 5u);
}

TEST(LinkerHostModule, KeepAliveOfAMadeFunctionOutlivesTheLinker) {
  auto state = std::make_shared<uint32_t>(7);
  std::weak_ptr<uint32_t> watch = state;
  Store store;
  Instance* inst = nullptr;
  {
    Linker linker;
    linker.DefineHostModule(store, "env", [state](std::string_view name) {
      std::optional<Linker::HostFuncSpec> spec;
      if (name == "b") spec = Linker::HostFuncSpec{FuncType{{I32}, {I32}}, &Times, state.get(), state, nullptr};
      return spec;
    });
    state.reset();
    auto m = ParseWat(kImportsB);
    ASSERT_NE(m, nullptr);
    auto made = linker.Instantiate(store, m);
    ASSERT_TRUE(made.ok());
    inst = *made;
  }
  EXPECT_FALSE(watch.expired());  // env.b, in the store, holds it
  auto r = Invoke(store, inst->GetFunc("run"), {{Value::I32(6)}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].i32(), 42u);
}

}  // namespace
}  // namespace weft::wasm
