// `weft pipe STAGE '|' STAGE ...`: several WASI commands in one process connected like
// a shell pipeline. Each STAGE is what `weft run` takes ([OPTIONS] MODULE [ARGS...]).
// Stage k's stdout is an in-process pipe (weft::wasi::MakePipe) whose read end is stage
// k+1's stdin; the first stage reads the host's stdin, the last writes the host's
// stdout, every stage's stderr is the host's. Each stage runs on its own thread. When a
// stage ends (exit, return from main, trap) its context and so its pipe ends are
// released: the next stage reads end of file, the previous one gets EPIPE on writing.
// The exit status is the last stage's (a shell without pipefail).
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "weft/wasi/channel.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/stdio.h"
#include "weft/wasm/runtime.h"

namespace weft::cli {
namespace {

constexpr size_t kPipeCapacity = 64 * 1024;

struct Stage {
  RunOptions options;
  weft::wasm::CodeCache cache{""};  // RunCache(options), read by LoadModule, saved to after
  std::shared_ptr<const weft::wasm::Module> module;
  std::shared_ptr<weft::wasi::Ctx> ctx;
  int status = 0;
};

bool LoadModule(Stage& stage, std::string* error) {
  std::vector<uint8_t> bytes;
  std::string read_error;
  if (!ReadModuleFile(stage.options.module_path, &bytes, &read_error)) {
    *error = "failed to read `" + stage.options.module_path + "`: " + read_error;
    return false;
  }
  stage.cache = RunCache(stage.options);
  auto module = stage.cache.Decode(std::move(bytes));
  if (!module.ok()) {
    *error = "failed to load `" + stage.options.module_path + "`: " + module.error().ToString();
    return false;
  }
  stage.module = *module;
  return true;
}

}  // namespace

int RunPipeline(const std::vector<std::string>& argv) {
  // Split at the '|' arguments.
  std::vector<std::vector<std::string>> parts(1);
  for (const std::string& a : argv) {
    if (a == "|") {
      parts.emplace_back();
    } else {
      parts.back().push_back(a);
    }
  }
  std::vector<Stage> stages(parts.size());
  for (size_t k = 0; k < parts.size(); ++k) {
    if (parts[k].empty()) return Fail("pipe: stage " + std::to_string(k + 1) + " is empty");
    std::string error;
    auto options = ParseRunArgs(parts[k], &error);
    if (!options) return Fail("pipe: stage " + std::to_string(k + 1) + ": " + error);
    if (options->invoke) return Fail("pipe: --invoke cannot be used in a pipeline");
    stages[k].options = std::move(*options);
    if (!LoadModule(stages[k], &error)) return Fail(error);
  }

  // Build every context first so that a setup error runs nothing.
  {
    std::shared_ptr<weft::wasi::Handle> next_stdin = weft::wasi::HostStdin();
    for (size_t k = 0; k < stages.size(); ++k) {
      std::shared_ptr<weft::wasi::Handle> out;
      std::shared_ptr<weft::wasi::Handle> after;
      if (k + 1 < stages.size()) {
        auto [read_end, write_end] = weft::wasi::MakePipe(kPipeCapacity);
        out = std::move(write_end);
        after = std::move(read_end);
      } else {
        out = weft::wasi::HostStdout();
      }
      weft::wasi::CtxBuilder builder;
      builder.Stdin(std::move(next_stdin)).Stdout(std::move(out))
          .Stderr(weft::wasi::HostStderr());
      next_stdin = std::move(after);
      auto ctx = BuildWasiCtx(stages[k].options, builder);
      if (!ctx.ok()) return Fail(ctx.error());
      stages[k].ctx = std::move(*ctx);
    }
  }

  // Each thread takes the only reference to its context, so the stage's pipe ends are
  // released as soon as the stage ends.
  std::vector<std::thread> threads;
  threads.reserve(stages.size());
  for (Stage& stage : stages) {
    threads.emplace_back([&stage, ctx = std::move(stage.ctx), module = stage.module]() mutable {
      weft::wasm::Store store;
      stage.status = RunModule(stage.options, store, std::move(module), std::move(ctx), stage.cache);
      std::fflush(stdout);
    });
  }
  for (std::thread& t : threads) t.join();
  return stages.back().status;
}

}  // namespace weft::cli
