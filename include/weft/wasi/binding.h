// The bridge between weft::wasi and the engine: defines every function of
// wasi_snapshot_preview1 in a Linker. (The only part of weft::wasi that knows the engine;
// link weft_wasi_preview1.)
#pragma once

#include <memory>

#include "weft/wasi/ctx.h"
#include "weft/wasi/preview1.h"
#include "weft/wasm/runtime.h"

namespace weft::wasi {

// Defines module "wasi_snapshot_preview1" in `linker`: host functions created in
// `store`, each keeping `ctx` alive. Guest memory is the caller's exported "memory"
// (else its memory 0), checked against its current size on every call. Several stores,
// linkers and instances may share one Ctx (and so one Table).
void AddToLinker(wasm::Linker& linker, wasm::Store& store, std::shared_ptr<Ctx> ctx);

// The wasm type of one preview1 function (all i32 except the 'U'/'X' parameters).
wasm::FuncType Preview1FuncType(const Preview1Function& fn);

}  // namespace weft::wasi
