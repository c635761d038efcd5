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
// generic path (InvokePreview1Traced) answers instead. Each also has a leaf form
// (wasm::HostLeafPtr) that native code calls bare: no body calls back into wasm.
template <class F>
struct Direct;
template <class... A>
struct Direct<Result<void> (*)(Call&, A...)> {
  template <auto Fn, size_t... I>
  static Result<void> Apply(Call& call, const wasm::Value* io, std::index_sequence<I...>) {
    // A is uint32_t for an i32 (the low 32 bits, as CallGeneric narrows) or uint64_t.
    return Fn(call, static_cast<A>(io[I].bits)...);
  }
  // Runs the body and stores its errno in io[0]; a trap goes to *trap. Not while tracing.
  template <auto Fn>
  static wasm::HostLeafAnswer Run(const BoundFunction& b, uint8_t* mem, uint64_t mem_size,
                                  wasm::Value* io, std::optional<wasm::Trap>* trap) {
    Call call(*b.ctx, mem, mem_size, b.fn->name);
    Result<void> r = Apply<Fn>(call, io, std::index_sequence_for<A...>{});
    if (r.ok()) [[likely]] {
      io[0] = wasm::Value::I32(0);
      return wasm::kHostLeafDone;
    }
    Error& e = r.error();
    if (e.is_trap()) {
      *trap = std::move(e.trap());
      return wasm::kHostLeafTrapped;
    }
    io[0] = wasm::Value::I32(static_cast<uint32_t>(e.errno_value()));
    return wasm::kHostLeafDone;
  }
  template <auto Fn>
  static std::optional<wasm::Trap> Host(wasm::Caller& caller, wasm::Value* io) {
    const auto& b = *static_cast<const BoundFunction*>(caller.user_data);
    wasm::MemInst* mem = CallerMemory(caller);
    if (b.ctx->tracing()) [[unlikely]] return CallGeneric(b, mem, io);
    std::optional<wasm::Trap> trap;
    Run<Fn>(b, mem ? mem->data : nullptr, mem ? mem->size : 0, io, &trap);
    return trap;
  }
  template <auto Fn>
  static int Leaf(void* user_data, uint8_t* mem, uint64_t mem_size, wasm::Value* io,
                  std::optional<wasm::Trap>* trap) {
    const auto& b = *static_cast<const BoundFunction*>(user_data);
    if (b.ctx->tracing()) [[unlikely]] return wasm::kHostLeafDeclined;
    return Run<Fn>(b, mem, mem_size, io, trap);
  }
};

// The fast and leaf forms of each row, in preview1.def order (as Preview1Functions()).
struct HostForms {
  wasm::HostFuncPtr fast;
  wasm::HostLeafPtr leaf;
};
constexpr HostForms kDirectHostForms[] = {
#define WASI_FN(name, params, returns_errno)                                               \
  returns_errno ? HostForms{&Direct<decltype(&preview1::name)>::Host<&preview1::name>,      \
                            &Direct<decltype(&preview1::name)>::Leaf<&preview1::name>}      \
                : HostForms{&CallPreview1, nullptr},
#include "wasi/preview1.def"
#undef WASI_FN
};

// The cheapest and most frequent call gets host functions of its own: the common case
// without building a Call or a Result; everything else as above.
int ClockTimeGetLeaf(void* user_data, uint8_t* mem, uint64_t mem_size, wasm::Value* io,
                     std::optional<wasm::Trap>*) {
  const auto& b = *static_cast<const BoundFunction*>(user_data);
  if (b.ctx->tracing() ||
      !FastClockTimeGet(b.ctx->host_clocks(), mem, mem_size, static_cast<uint32_t>(io[0].bits),
                        static_cast<uint32_t>(io[2].bits))) {
    return wasm::kHostLeafDeclined;
  }
  io[0] = wasm::Value::I32(0);
  return wasm::kHostLeafDone;
}
std::optional<wasm::Trap> CallClockTimeGet(wasm::Caller& caller, wasm::Value* io) {
  wasm::MemInst* mem = CallerMemory(caller);
  if (mem != nullptr) {
    std::optional<wasm::Trap> trap;  // the leaf does not trap today, but may one day
    switch (ClockTimeGetLeaf(caller.user_data, mem->data, mem->size, io, &trap)) {
      case wasm::kHostLeafDone: return std::nullopt;
      case wasm::kHostLeafTrapped: return trap;
      case wasm::kHostLeafDeclined: break;
    }
  }
  return CallGeneric(*static_cast<const BoundFunction*>(caller.user_data), mem, io);
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

namespace {

// The host function of the row called `name`, bound to `bindings`; nullopt when there is
// no such row. Asked once per name (the linker keeps what it made), so `functions` never
// outgrows what AddToLinker reserved and each BoundFunction keeps its address.
std::optional<wasm::Linker::HostFuncSpec> Bind(const std::shared_ptr<Bindings>& bindings,
                                               std::string_view name) {
  std::span<const Preview1Function> fns = Preview1Functions();
  for (size_t i = 0; i < fns.size(); ++i) {
    const Preview1Function& fn = fns[i];
    if (name != fn.name) continue;
    wasm::FuncType type = Preview1FuncType(fn);
    uint32_t narrow = 0;
    for (size_t p = 0; p < type.params.size(); ++p) {
      if (type.params[p] == wasm::ValType::kI32) narrow |= 1u << p;
    }
    BoundFunction& b =
        bindings->functions.emplace_back(BoundFunction{bindings->ctx.get(), &fn, narrow});
    HostForms forms = i < std::size(kDirectHostForms) ? kDirectHostForms[i]
                                                      : HostForms{&CallPreview1, nullptr};
    if (name == "clock_time_get") forms = HostForms{&CallClockTimeGet, &ClockTimeGetLeaf};
    return wasm::Linker::HostFuncSpec{std::move(type), forms.fast, &b, bindings, forms.leaf};
  }
  return std::nullopt;
}

}  // namespace

void AddToLinker(wasm::Linker& linker, wasm::Store& store, std::shared_ptr<Ctx> ctx) {
  // Each function is bound when the guest's import first names it (Linker::DefineHostModule):
  // a guest that imports four of the 46 functions pays for four.
  auto bindings = std::make_shared<Bindings>();
  bindings->ctx = std::move(ctx);
  bindings->functions.reserve(Preview1Functions().size());  // stable addresses for user_data
  linker.DefineHostModule(store, "wasi_snapshot_preview1",
                          [bindings](std::string_view name) { return Bind(bindings, name); });
}

}  // namespace weft::wasi
