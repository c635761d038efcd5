// The one file that knows the engine: every row of preview1.def becomes a host function
// of "wasi_snapshot_preview1". The work per call is: read the caller's memory bounds,
// widen the arguments, run the body through InvokePreview1, store the errno.
#include "weft/wasi/binding.h"

#include <optional>
#include <utility>

#include "weft/wasi/preview1.h"

namespace weft::wasi {

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
    const Preview1Function* f = &fn;
    wasm::HostFunc host = [ctx, f, nparams](wasm::Caller& caller, const wasm::Value* args,
                                            wasm::Value* results) -> std::optional<wasm::Trap> {
      wasm::MemInst* mem = caller.memory();
      Call call(*ctx, mem ? mem->data : nullptr, mem ? mem->size : 0, f->name);
      uint64_t raw[10];  // the widest row (path_open) has 9 parameters
      for (size_t i = 0; i < nparams; ++i) raw[i] = args[i].bits;
      for (size_t i = 0; i < nparams; ++i) {
        char k = f->params[i];
        if (k != 'U' && k != 'X') raw[i] = static_cast<uint32_t>(raw[i]);
      }
      Result<uint32_t> r = InvokePreview1(*f, call, raw);
      if (!r.ok()) return std::move(r.error().trap());
      if (f->returns_errno) results[0] = wasm::Value::I32(r.value());
      return std::nullopt;
    };
    linker.DefineHostFunc(store, "wasi_snapshot_preview1", fn.name, std::move(type),
                          std::move(host), ctx.get());
  }
}

}  // namespace weft::wasi
