// `weft run` for modules that import wasi_snapshot_preview1: builds the WASI context from
// the command line, links, instantiates, then runs `_start` (a command) or
// `_initialize` + `--invoke NAME` (a reactor). Exit code: the guest's status, 134 on a
// trap, 1 when setting up fails (nothing of the guest has run then).
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "weft/wasi/binding.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/net.h"
#include "weft/wasi/table.h"
#include "weft/wasm/code_cache.h"
#include "weft/wasm/runtime.h"

namespace weft::cli {

namespace {

using weft::wasm::Trap;
using weft::wasm::TrapKind;
using weft::wasm::Value;
using weft::wasm::ValType;

int SetupError(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

// The guest's exit status for a finished call, or the trap report's.
int StatusOf(const RunOptions& options, const Trap& trap, const std::string& what) {
  return trap.kind == TrapKind::kExit ? trap.exit_code : ReportTrap(options, trap, what);
}

// Runs the instantiated guest: `_start`, or `_initialize` and --invoke. Returns the exit
// status (the guest's, 134 after a trap report, 1 when the invocation is wrong).
int RunGuest(const RunOptions& options, weft::wasm::Store& store, weft::wasm::Instance& instance) {
  if (!options.invoke) {
    weft::wasm::FuncInst* start = instance.GetFunc("_start");
    if (start == nullptr) {
      // A reactor without --invoke: instantiating (and _initialize) is all there is.
      if (weft::wasm::FuncInst* init = instance.GetFunc("_initialize")) {
        if (auto trap = weft::wasm::Call(store, init, {}, {})) {
          return StatusOf(options, *trap, "failed to run `_initialize`");
        }
      }
      return 0;
    }
    if (!start->type->params.empty() || !start->type->results.empty()) {
      return SetupError("`_start` in `" + options.module_path + "` must have type [] -> []");
    }
    if (auto trap = weft::wasm::Call(store, start, {}, {})) {
      return StatusOf(options, *trap, "");
    }
    return 0;
  }

  const std::string& name = *options.invoke;
  weft::wasm::FuncInst* func = instance.GetFunc(name);
  if (func == nullptr) {
    return SetupError("no exported function `" + name + "` in `" + options.module_path + "`");
  }
  const auto& params = func->type->params;
  if (options.args.size() != params.size()) {
    return SetupError("`" + name + "` takes " + std::to_string(params.size()) +
                      " argument(s), " + std::to_string(options.args.size()) + " given");
  }
  std::vector<Value> args(params.size());
  for (size_t k = 0; k < params.size(); ++k) {
    if (!ParseValue(options.args[k], params[k], &args[k])) {
      return SetupError("invalid argument " + std::to_string(k) + " for `" + name + "`: `" +
                        options.args[k] + "` is not a valid " +
                        weft::wasm::ValTypeName(params[k]));
    }
  }
  // A reactor is initialised once before its exports are used.
  if (weft::wasm::FuncInst* init = instance.GetFunc("_initialize")) {
    if (auto trap = weft::wasm::Call(store, init, {}, {})) {
      return StatusOf(options, *trap, "failed to run `_initialize`");
    }
  }
  auto results = weft::wasm::Invoke(store, func, args);
  if (!results.ok()) return StatusOf(options, results.error(), "failed to invoke `" + name + "`");
  const auto& types = func->type->results;
  for (size_t k = 0; k < types.size(); ++k) {
    std::printf("%s\n", weft::wasm::FormatValue({types[k], (*results)[k]}).c_str());
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

weft::Result<std::shared_ptr<weft::wasi::Ctx>, std::string> BuildWasiCtx(
    const RunOptions& options, weft::wasi::CtxBuilder& builder) {
  auto table = std::make_shared<weft::wasi::Table>();
  if (!options.tcplisten.empty()) {
    auto fds = weft::wasi::PreopenTcpListeners(*table, options.tcplisten, weft::wasi::Fd{3});
    if (!fds.ok()) return weft::Err(fds.error());
  }
  builder.Table(table).Arg(options.module_path);
  if (!options.invoke) builder.Args(options.args);
  for (const auto& [name, value] : options.env) {
    if (value) {
      builder.Env(name, *value);
    } else {
      builder.InheritEnv(name);
    }
  }
  for (const DirOption& dir : options.dirs) {
#if WEFT_HOST_FS
    builder.PreopenHostDir(dir.host, dir.guest, dir.read_only);
#else
    return weft::Err("--dir " + dir.host + ": weft was built without the host filesystem");
#endif
  }
  if (options.trace_wasi) builder.TraceToStderr();
  return builder.Build();
}

int RunWasi(const RunOptions& options, std::shared_ptr<const weft::wasm::Module> module,
            weft::wasm::CodeCache* cache) {
  weft::wasi::CtxBuilder builder;
  builder.InheritStdio();
  auto ctx = BuildWasiCtx(options, builder);
  if (!ctx.ok()) return SetupError(ctx.error());

  RunStoreLayout layout;
  weft::wasm::Store store;
  layout.ApplyTo(store);
  weft::wasm::Linker linker;
  weft::wasi::AddToLinker(linker, store, *ctx);
  auto inst = linker.Instantiate(store, module);
  if (!inst.ok()) {
    const auto& e = inst.error();
    if (e.kind == weft::wasm::InstantiateError::Kind::kTrap) {
      return Done(options, StatusOf(options, e.trap, "failed to instantiate `" + options.module_path + "`"));
    }
    return SetupError("failed to instantiate `" + options.module_path + "`: " + e.link.message);
  }
  weft::wasm::Instance* instance = *inst;
  int status = RunGuest(options, store, *instance);
  if (cache) cache->Save(*instance);
  return Done(options, status);
}

}  // namespace weft::cli
