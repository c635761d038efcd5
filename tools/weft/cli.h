// The weft command line: parsed options and the entry points of `weft run`.
// Only tools/weft prints; everything under src/ returns errors as values.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "weft/wasi/ctx.h"
#include "weft/wasm/code_cache.h"
#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"
#include "weft/wasm/types.h"

namespace weft::cli {

// `--dir HOST[::GUEST][:ro]`: preopen HOST as GUEST (default: GUEST = HOST, as wasmtime).
// A trailing `:ro` (or `:readonly`) makes the preopen read-only; wasmtime's `--dir` has no
// per-directory read-only syntax, so this suffix is weft's extension.
struct DirOption {
  std::string host;
  std::string guest;
  bool read_only = false;
};

struct RunOptions {
  std::string module_path;           // as typed; also the guest's argv[0]
  std::vector<std::string> args;     // guest argv[1..] (or --invoke arguments)
  std::optional<std::string> invoke; // --invoke NAME
  std::vector<DirOption> dirs;       // --dir, repeatable, in order
  // --env NAME=VAL -> {NAME, VAL}; --env NAME -> {NAME, nullopt}: inherit from the host.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::vector<std::string> tcplisten;  // --tcplisten HOST:PORT, repeatable
  bool trace_wasi = false;             // --trace-wasi: one strace-like line per call on stderr
  bool cache = true;                   // -C cache=y|n: weft::wasm::CodeCache::DefaultDir()
  // Set by main(): once the guest has run, end the process from inside Run
  // (ExitNow) instead of returning through the Store, Module and Ctx destructors. Off for
  // callers that need Run to return.
  bool exit_when_done = false;
};

// Parses `weft run [OPTIONS] MODULE [ARGS...]` (argv after "run"). Options may be given as
// `--opt VALUE` or `--opt=VALUE`; `--` ends the options; everything after MODULE goes to the
// guest. On error returns nullopt and writes the reason to *error.
std::optional<RunOptions> ParseRunArgs(const std::vector<std::string>& argv, std::string* error);

// Reads a whole module file (tools/weft/read_module.cc) with open/fstat/read. On failure
// returns false with strerror's text in *error.
bool ReadModuleFile(const std::string& path, std::vector<uint8_t>* out, std::string* error);

// Runs a parsed `weft run`; returns the process exit code (or, with
// options.exit_when_done, ends the process with it once the guest has run).
int Run(const RunOptions& options);

// Where the store of a run puts what it touches first, so that those first touches need
// no new page tables (issue 5): its interpreter stacks in the executable's static array
// (run.cc, Store::UseExecStacks) and its first memory just above the vDSO
// (Store::PlaceNextMemoryAt). The array serves one store at a time: declare this before
// the store, so that it is released after the store is gone, then ApplyTo the store.
// While another store holds the array, the store maps its own stacks.
class RunStoreLayout {
 public:
  RunStoreLayout();
  ~RunStoreLayout();
  RunStoreLayout(const RunStoreLayout&) = delete;
  RunStoreLayout& operator=(const RunStoreLayout&) = delete;
  void ApplyTo(weft::wasm::Store& store) const;

 private:
  bool holds_stacks_ = false;
};

// Start-up (issue 5): ends the process with `code` without tearing anything down. The
// guest's output is never held in weft's memory (fd_write is a write(2) on the host fd),
// so flushing C stdio (results printed for --invoke, messages on stderr) is all that is
// left; the kernel releases the memory reservation, the slot stack and every fd in one
// go at exit, which is cheaper than the destructors' munmap and close calls one by one.
[[noreturn]] void ExitNow(int code);

// Prints "Error: MESSAGE" to stderr and returns 1, the exit code when setting up a run
// fails (nothing of the guest has run then).
int Fail(const std::string& message);

// Returns `code`, or ends the process with it when options.exit_when_done is set.
int Done(const RunOptions& options, int code);

// `weft pipe STAGE '|' STAGE ...` (argv after "pipe"; tools/weft/pipeline.cc): each STAGE
// is `[OPTIONS] MODULE [ARGS...]` as for `weft run`; stdout of one stage feeds stdin of the
// next through an in-process pipe, each stage on its own thread. Returns the exit code of
// the last stage (1 on a setup error, before anything runs).
int RunPipeline(const std::vector<std::string>& argv);

// The code cache of a run: CodeCache::DefaultDir(), or none with -C cache=n.
weft::wasm::CodeCache RunCache(const RunOptions& options);

// Whether `module` imports wasi_snapshot_preview1 (or wasi_unstable), so that `weft run`
// gives it a WASI context.
bool ImportsWasi(const weft::wasm::Module& module);

// Links `module` into `store`, with WASI when `ctx` is given (tools/weft/run_module.cc),
// instantiates it, runs it (--invoke NAME, else `_start`), then saves the code the run
// translated in `cache`. Returns the exit code: the guest's exit status, 134 after a trap
// report, 1 when linking or the invocation is wrong.
int RunModule(const RunOptions& options, weft::wasm::Store& store,
              std::shared_ptr<const weft::wasm::Module> module,
              std::shared_ptr<weft::wasi::Ctx> ctx, weft::wasm::CodeCache& cache);

// Builds the WASI context that `weft run` options describe (tools/weft/run_module.cc), for
// `weft run` and for each stage of `weft pipe`: the --tcplisten sockets at fds 3, 4, ...
// (wasmtime's order: before the --dir preopens), argv (the module path, then the
// arguments unless --invoke takes them), --env, --dir and --trace-wasi. `builder` comes
// with the guest's stdio already chosen. The error is the message to print.
weft::Result<std::shared_ptr<weft::wasi::Ctx>, std::string> BuildWasiCtx(
    const RunOptions& options, weft::wasi::CtxBuilder& builder);

// Parses one --invoke argument (decimal; i32 also accepts -2^31..2^32-1) as `type`.
bool ParseValue(const std::string& text, weft::wasm::ValType type, weft::wasm::Value* out);

// Prints a trap to stderr the way wasmtime does (`Error: failed to run main module ...`,
// the wasm backtrace, `wasm trap: ...`) and returns 134, the exit code for a trap.
// `what` is the failing step, e.g. "failed to invoke `f`"; may be empty.
int ReportTrap(const RunOptions& options, const weft::wasm::Trap& trap, const std::string& what);

}  // namespace weft::cli
