// The one file that knows the engine: every row of preview1.def becomes a host function
// of "wasi_snapshot_preview1". The work per call is: find the caller's memory, widen the
// arguments, run the body through InvokePreview1, store the errno. This is on the path
// of every host call, so it allocates nothing and looks nothing up by name.
#include "weft/wasi/binding.h"

#include <optional>
#include <string_view>
#include <utility>

#include "wasi/host_clock.h"

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

// Every call but clock_time_get's common case: widen the arguments (bit i of `narrow`
// set: parameter i is an i32) and run the body through InvokePreview1.
std::optional<wasm::Trap> CallGeneric(Ctx& ctx, const Preview1Function& f, wasm::MemInst* mem,
                                      const wasm::Value* args, wasm::Value* results,
                                      uint32_t narrow) {
  Call call(ctx, mem ? mem->data : nullptr, mem ? mem->size : 0, f.name);
  uint64_t raw[10];  // the widest row (path_open) has 9 parameters
  for (size_t i = 0; f.params[i] != '\0'; ++i) {
    uint64_t bits = args[i].bits;
    raw[i] = (narrow >> i) & 1 ? static_cast<uint32_t>(bits) : bits;
  }
  Result<uint32_t> r = InvokePreview1(f, call, raw);
  if (!r.ok()) [[unlikely]] return std::move(r.error().trap());
  if (f.returns_errno) results[0] = wasm::Value::I32(r.value());
  return std::nullopt;
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
  for (const Preview1Function& fn : Preview1Functions()) {
    wasm::FuncType type = Preview1FuncType(fn);
    size_t nparams = type.params.size();
    // Bit i set: parameter i is an i32, zero-extended from the low 32 bits.
    uint32_t narrow = 0;
    for (size_t i = 0; i < nparams; ++i) {
      if (fn.params[i] != 'U' && fn.params[i] != 'X') narrow |= 1u << i;
    }
    const Preview1Function* f = &fn;
    Ctx* c = ctx.get();
    if (std::string_view(fn.name) == "clock_time_get") {
      // The cheapest and most frequent call gets its own host function: the common
      // case without building a Call or a Result; everything else as below.
      wasm::HostFunc host = [ctx, c, f, narrow](
                                wasm::Caller& caller, const wasm::Value* args,
                                wasm::Value* results) -> std::optional<wasm::Trap> {
        wasm::MemInst* mem = CallerMemory(caller);
        if (mem != nullptr && !c->tracing() &&
            FastClockTimeGet(c->host_clocks(), mem->data, mem->size,
                             static_cast<uint32_t>(args[0].bits),
                             static_cast<uint32_t>(args[2].bits))) {
          results[0] = wasm::Value::I32(0);
          return std::nullopt;
        }
        return CallGeneric(*c, *f, mem, args, results, narrow);
      };
      linker.DefineHostFunc(store, "wasi_snapshot_preview1", fn.name, std::move(type),
                            std::move(host), ctx.get());
      continue;
    }
    wasm::HostFunc host = [ctx, c, f, narrow](wasm::Caller& caller, const wasm::Value* args,
                                              wasm::Value* results) -> std::optional<wasm::Trap> {
      return CallGeneric(*c, *f, CallerMemory(caller), args, results, narrow);
    };
    linker.DefineHostFunc(store, "wasi_snapshot_preview1", fn.name, std::move(type),
                          std::move(host), ctx.get());
  }
}

}  // namespace weft::wasi
