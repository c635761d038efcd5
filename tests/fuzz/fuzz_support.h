// Shared by the libFuzzer target and the deterministic mutation test: decode + validate a
// module binary and, when it is valid, instantiate it against permissive stub imports.
//
// Nothing unbounded runs: the store's interrupt flag is set before instantiation, so a
// start function stops at its first call or loop back-edge; straight-line code is bounded
// by the module size. Tables and memories are capped by small StoreLimits.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace weft::fuzz {

struct OneResult {
  bool decoded = false;
  bool instantiated = false;
  wasm::Diag diag;  // when !decoded
};

inline OneResult DecodeAndMaybeInstantiate(std::span<const uint8_t> bytes, bool instantiate) {
  using namespace weft::wasm;
  OneResult out;
  auto mod = DecodeModule(bytes);
  if (!mod.ok()) {
    out.diag = mod.error();
    return out;
  }
  out.decoded = true;
  if (!instantiate) return out;

  StoreLimits limits;
  limits.max_memory_pages = 16;
  limits.max_table_elements = 1 << 16;
  limits.max_call_depth = 200;
  Store store(limits);
  Linker linker;
  const Module& m = **mod;
  for (const Import& imp : m.imports) {
    switch (imp.kind) {
      case ExternKind::kFunc: {
        const FuncType& ft = m.types[imp.type_index];
        size_t nresults = ft.results.size();
        linker.DefineHostFunc(store, imp.module, imp.name, ft,
                              [nresults](Caller&, const Value*, Value* results) -> std::optional<Trap> {
                                for (size_t i = 0; i < nresults; ++i) results[i] = Value{};
                                return std::nullopt;
                              });
        break;
      }
      case ExternKind::kTable:
        if (TableInst* t = store.CreateTable(imp.table)) linker.Define(imp.module, imp.name, Extern::Table(t));
        break;
      case ExternKind::kMemory:
        if (MemInst* mem = store.CreateMemory(imp.memory))
          linker.Define(imp.module, imp.name, Extern::Memory(mem));
        break;
      case ExternKind::kGlobal:
        linker.Define(imp.module, imp.name, Extern::Global(store.CreateGlobal(imp.global, Value{})));
        break;
    }
  }
  store.Interrupt();
  auto inst = linker.Instantiate(store, *mod);
  out.instantiated = inst.ok();
  return out;
}

}  // namespace weft::fuzz
