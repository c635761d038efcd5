// Running a decoded module, for `weft run` and each stage of `weft pipe`: the WASI context
// the command line describes (BuildWasiCtx), then linking, instantiating and running
// `_start` (a command) or `_initialize` + `--invoke NAME` (a reactor), with or without
// WASI (RunModule). Exit code: the guest's status, 134 on a trap, 1 when setting up fails
// (nothing of the guest has run then).
#include <cstdio>
#include <memory>
#include <optional>
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

// The guest's exit status for a finished call, or the trap report's.
int StatusOf(const RunOptions& options, const Trap& trap, const std::string& what) {
  return trap.kind == TrapKind::kExit ? trap.exit_code : ReportTrap(options, trap, what);
}

// A reactor is initialised once, before its exports are used. Returns the status of a
// trap in `_initialize`; nullopt when there is none or it returned.
std::optional<int> InitializeReactor(const RunOptions& options, weft::wasm::Store& store,
                                     weft::wasm::Instance& instance) {
  weft::wasm::FuncInst* init = instance.GetFunc("_initialize");
  if (init == nullptr) return std::nullopt;
  auto trap = weft::wasm::Call(store, init, {}, {});
  if (!trap) return std::nullopt;
  return StatusOf(options, *trap, "failed to run `_initialize`");
}

// Runs the instantiated guest, as `wasmtime run` does: --invoke NAME, else `_start`; a
// module with neither is a reactor or a library, which instantiating (and `_initialize`)
// has set up. A `_start` of type [] -> [] is a command, whose arguments are its argv; any
// other function takes its arguments from the command line and prints its results.
// Returns the exit status (the guest's, 134 after a trap report, 1 when the invocation
// is wrong).
int RunGuest(const RunOptions& options, weft::wasm::Store& store, weft::wasm::Instance& instance) {
  const std::string name = options.invoke.value_or("_start");
  weft::wasm::FuncInst* func = instance.GetFunc(name);
  if (func == nullptr) {
    if (options.invoke) {
      return Fail("no exported function `" + name + "` in `" + options.module_path + "`");
    }
    return InitializeReactor(options, store, instance).value_or(0);
  }
  const auto& params = func->type->params;
  const auto& types = func->type->results;
  if (!options.invoke && params.empty() && types.empty()) {
    auto trap = weft::wasm::Call(store, func, {}, {});
    return trap ? StatusOf(options, *trap, "") : 0;
  }

  if (options.args.size() != params.size()) {
    return Fail("`" + name + "` takes " + std::to_string(params.size()) +
                      " argument(s), " + std::to_string(options.args.size()) + " given");
  }
  std::vector<Value> args(params.size());
  for (size_t k = 0; k < params.size(); ++k) {
    if (!ParseValue(options.args[k], params[k], &args[k])) {
      return Fail("invalid argument " + std::to_string(k) + " for `" + name + "`: `" +
                        options.args[k] + "` is not a valid " +
                        weft::wasm::ValTypeName(params[k]));
    }
  }
  if (options.invoke) {
    if (auto status = InitializeReactor(options, store, instance)) return *status;
  }
  auto results = weft::wasm::Invoke(store, func, args);
  if (!results.ok()) return StatusOf(options, results.error(), "failed to invoke `" + name + "`");
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

int RunModule(const RunOptions& options, weft::wasm::Store& store,
              std::shared_ptr<const weft::wasm::Module> module,
              std::shared_ptr<weft::wasi::Ctx> ctx, weft::wasm::CodeCache& cache) {
  weft::wasm::Linker linker;
  if (ctx) weft::wasi::AddToLinker(linker, store, std::move(ctx));
  auto inst = linker.Instantiate(store, std::move(module));
  if (!inst.ok()) {
    const auto& e = inst.error();
    if (e.kind == weft::wasm::InstantiateError::Kind::kTrap) {
      return StatusOf(options, e.trap, "failed to instantiate `" + options.module_path + "`");
    }
    return Fail("failed to instantiate `" + options.module_path + "`: " + e.link.message);
  }
  weft::wasm::Instance* instance = *inst;
  int status = RunGuest(options, store, *instance);
  cache.Save(*instance);
  return status;
}

weft::wasm::CodeCache RunCache(const RunOptions& options) {
  return weft::wasm::CodeCache(options.cache ? weft::wasm::CodeCache::DefaultDir() : "");
}

bool ImportsWasi(const weft::wasm::Module& module) {
  for (const auto& im : module.imports) {
    if (im.module == "wasi_snapshot_preview1" || im.module == "wasi_unstable") return true;
  }
  return false;
}

}  // namespace weft::cli
