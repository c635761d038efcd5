// The one file that knows the engine: every row of preview1.def becomes a host function
// of "wasi_snapshot_preview1". The work per call is: find the caller's memory, widen the
// arguments, run the body through InvokePreview1, store the errno. This is on the path
// of every host call, so it allocates nothing and looks nothing up by name.
#include "weft/wasi/binding.h"

#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "wasi/host_clock.h"
#include "wasi/preview1/bodies.h"

#include "weft/wasi/preview1.h"

namespace weft::wasi {

namespace {

// The guest memory of `caller`, as Caller::memory() defines it (the export "memory",
// else memory 0). With exactly one memory in the instance, both rules name memories[0]
// (an export can only name a memory of the instance's own index space), so the common
// case skips the by-name export lookup.
wasm::MemInst* CallerMemory(const wasm::Caller& caller) {
  if (caller.instance != nullptr && caller.instance->memories.size() == 1) {
    return caller.instance->memories[0];
  }
  return caller.memory();
}

// What each host function needs, reached through Caller::user_data.
struct BoundFunction {
  Ctx* ctx;
  const Preview1Function* fn;
  uint32_t narrow;  // bit i set: parameter i is an i32, zero-extended from the low 32 bits
};

// Owns the BoundFunctions (and keeps the Ctx alive) for as long as the store holds any
// of the host functions.
struct Bindings {
  std::shared_ptr<Ctx> ctx;
  std::vector<BoundFunction> functions;
};

// Every call but clock_time_get's common case: widen the arguments and run the body
// through InvokePreview1. `io` holds the arguments and takes the errno result.
std::optional<wasm::Trap> CallGeneric(const BoundFunction& b, wasm::MemInst* mem,
                                      wasm::Value* io) {
  const Preview1Function& f = *b.fn;
  Call call(*b.ctx, mem ? mem->data : nullptr, mem ? mem->size : 0, f.name);
  uint64_t raw[10];  // the widest row (path_open) has 9 parameters
  for (size_t i = 0; f.params[i] != '\0'; ++i) {
    uint64_t bits = io[i].bits;
    raw[i] = (b.narrow >> i) & 1 ? static_cast<uint32_t>(bits) : bits;
  }
  Result<uint32_t> r = InvokePreview1(f, call, raw);
  if (!r.ok()) [[unlikely]] return std::move(r.error().trap());
  if (f.returns_errno) io[0] = wasm::Value::I32(r.value());
  return std::nullopt;
}

std::optional<wasm::Trap> CallPreview1(wasm::Caller& caller, wasm::Value* io) {
  const auto& b = *static_cast<const BoundFunction*>(caller.user_data);
  return CallGeneric(b, CallerMemory(caller), io);
}

// Every row but proc_exit (which has no result) also gets a host function of its own that
// calls the body directly with typed arguments: no argument loop, no indirect call
// through Preview1Function::invoke, no Result<uint32_t>. While the context traces, the
// generic path (InvokePreview1Traced) answers instead.
template <class F>
struct Direct;
template <class... A>
struct Direct<Result<void> (*)(Call&, A...)> {
  template <auto Fn, size_t... I>
  static Result<void> Apply(Call& call, const wasm::Value* io, std::index_sequence<I...>) {
    // A is uint32_t for an i32 (the low 32 bits, as CallGeneric narrows) or uint64_t.
    return Fn(call, static_cast<A>(io[I].bits)...);
  }
  template <auto Fn>
  static std::optional<wasm::Trap> Host(wasm::Caller& caller, wasm::Value* io) {
    const auto& b = *static_cast<const BoundFunction*>(caller.user_data);
    wasm::MemInst* mem = CallerMemory(caller);
    if (b.ctx->tracing()) [[unlikely]] return CallGeneric(b, mem, io);
    Call call(*b.ctx, mem ? mem->data : nullptr, mem ? mem->size : 0, b.fn->name);
    Result<void> r = Apply<Fn>(call, io, std::index_sequence_for<A...>{});
    if (r.ok()) [[likely]] {
      io[0] = wasm::Value::I32(0);
      return std::nullopt;
    }
    Error& e = r.error();
    if (e.is_trap()) return std::move(e.trap());
    io[0] = wasm::Value::I32(static_cast<uint32_t>(e.errno_value()));
    return std::nullopt;
  }
};

// The host function of each row, in preview1.def order (as Preview1Functions()).
constexpr wasm::HostFuncPtr kDirectHostFuncs[] = {
#define WASI_FN(name, params, returns_errno)                                        \
  returns_errno ? &Direct<decltype(&preview1::name)>::Host<&preview1::name> : &CallPreview1,
#include "wasi/preview1.def"
#undef WASI_FN
};

// The cheapest and most frequent call gets its own host function: the common case
// without building a Call or a Result; everything else as above.
std::optional<wasm::Trap> CallClockTimeGet(wasm::Caller& caller, wasm::Value* io) {
  const auto& b = *static_cast<const BoundFunction*>(caller.user_data);
  wasm::MemInst* mem = CallerMemory(caller);
  if (mem != nullptr && !b.ctx->tracing() &&
      FastClockTimeGet(b.ctx->host_clocks(), mem->data, mem->size,
                       static_cast<uint32_t>(io[0].bits), static_cast<uint32_t>(io[2].bits))) {
    io[0] = wasm::Value::I32(0);
    return std::nullopt;
  }
  return CallGeneric(b, mem, io);
}

}  // namespace

wasm::FuncType Preview1FuncType(const Preview1Function& fn) {
  wasm::FuncType type;
  for (const char* p = fn.params; *p != '\0'; ++p) {
    type.params.push_back(*p == 'U' || *p == 'X' ? wasm::ValType::kI64 : wasm::ValType::kI32);
  }
  if (fn.returns_errno) type.results.push_back(wasm::ValType::kI32);
  return type;
}

void AddToLinker(wasm::Linker& linker, wasm::Store& store, std::shared_ptr<Ctx> ctx) {
  auto bindings = std::make_shared<Bindings>();
  bindings->ctx = ctx;
  std::span<const Preview1Function> fns = Preview1Functions();
  bindings->functions.reserve(fns.size());  // stable addresses for user_data
  for (size_t i = 0; i < fns.size(); ++i) {
    const Preview1Function& fn = fns[i];
    wasm::FuncType type = Preview1FuncType(fn);
    uint32_t narrow = 0;
    for (size_t p = 0; p < type.params.size(); ++p) {
      if (type.params[p] == wasm::ValType::kI32) narrow |= 1u << p;
    }
    BoundFunction& b = bindings->functions.emplace_back(BoundFunction{ctx.get(), &fn, narrow});
    bool is_clock = std::string_view(fn.name) == "clock_time_get";
    wasm::HostFuncPtr host = i < std::size(kDirectHostFuncs) ? kDirectHostFuncs[i] : &CallPreview1;
    linker.DefineHostFunc(store, "wasi_snapshot_preview1", fn.name, std::move(type),
                          is_clock ? &CallClockTimeGet : host, &b, bindings);
  }
}

}  // namespace weft::wasi
