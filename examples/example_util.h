// Shared by the examples: load a guest module from the build's guest directory and run
// its `_start` against a WASI context. Everything here is plain public weft API.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "weft/wasi/binding.h"
#include "weft/wasi/ctx.h"
#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace example {

// The directory holding the compiled guests (set by examples/CMakeLists.txt).
inline std::string GuestPath(const std::string& file) {
  return std::string(WEFT_EXAMPLE_GUESTS) + "/" + file;
}

// Reads and decodes a guest module; nullptr (and a message) on failure.
inline std::shared_ptr<const weft::wasm::Module> LoadGuest(const std::string& file) {
  std::string path = GuestPath(file);
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    std::fprintf(stderr, "cannot read %s (was clang-19 available to build it?)\n", path.c_str());
    return nullptr;
  }
  auto module = weft::wasm::DecodeModule(bytes);
  if (!module.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), module.error().ToString().c_str());
    return nullptr;
  }
  return *module;
}

// Instantiates `module` with WASI over `ctx` (plus whatever `extra` defines) and runs
// `_start`. Returns the exit status, or -1 with a message on a trap or link error.
inline int RunStart(std::shared_ptr<const weft::wasm::Module> module,
                    std::shared_ptr<weft::wasi::Ctx> ctx,
                    const std::function<void(weft::wasm::Linker&, weft::wasm::Store&)>& extra = {}) {
  weft::wasm::Store store;
  weft::wasm::Linker linker;
  weft::wasi::AddToLinker(linker, store, ctx);
  if (extra) extra(linker, store);
  auto inst = linker.Instantiate(store, std::move(module));
  if (!inst.ok()) {
    std::fprintf(stderr, "instantiate: %s\n", inst.error().Message().c_str());
    return -1;
  }
  weft::wasm::FuncInst* start = (*inst)->GetFunc("_start");
  if (start == nullptr) return -1;
  auto trap = weft::wasm::Call(store, start, {}, {});
  if (!trap) return 0;
  if (trap->kind == weft::wasm::TrapKind::kExit) return trap->exit_code;
  std::fprintf(stderr, "guest trapped: %s\n", trap->Message().c_str());
  return -1;
}

// Builds a context or exits with the builder's message.
inline std::shared_ptr<weft::wasi::Ctx> BuildOrDie(weft::wasi::CtxBuilder& builder) {
  auto ctx = builder.Build();
  if (!ctx.ok()) {
    std::fprintf(stderr, "CtxBuilder::Build: %s\n", ctx.error().c_str());
    std::exit(1);
  }
  return *ctx;
}

}  // namespace example
