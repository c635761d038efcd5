// Ctx: everything one WASI "process" sees (args, env, the fd table, clocks, random,
// exit status, tracing) and CtxBuilder, which builds it. Everything the CLI can set up,
// the builder can set up from C++.
//
// Ownership: a Ctx is held by shared_ptr (the binding keeps it alive as long as the
// linked functions exist). Its Table is a shared_ptr too and may be shared with other
// contexts (CtxBuilder::Table).
//
// Thread safety: a Ctx may be used by several guests on several threads at once: the
// table is internally synchronised, args/env/clocks/random are immutable after Build(),
// Interrupt() may be called from any thread, and the exit status is atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "weft/wasi/handle.h"
#include "weft/wasi/table.h"
#include "weft/wasi/types.h"

namespace weft::wasi {

// The clocks a context reads. Override to make time deterministic in tests.
class Clocks {
 public:
  virtual ~Clocks() = default;
  // Nanoseconds, from clock_gettime/clock_getres: realtime, monotonic, and the
  // process and thread CPU-time clocks; EINVAL for an unknown id.
  virtual ErrnoOr<Timestamp> Now(Clockid id);
  virtual ErrnoOr<Timestamp> Resolution(Clockid id);
};

// Fills a buffer with random bytes (default: getrandom(2)).
using RandomSource = std::function<ErrnoOr<void>(std::span<uint8_t>)>;
// Receives one strace-like line per WASI call, without the trailing newline.
using TraceSink = std::function<void(std::string_view line)>;

class Ctx {
 public:
  ~Ctx();
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;

  const std::vector<std::string>& args() const { return args_; }
  // "NAME=VALUE" strings, in the order they were added.
  const std::vector<std::string>& env() const { return env_; }

  wasi::Table& table() const { return *table_; }
  const std::shared_ptr<wasi::Table>& shared_table() const { return table_; }

  Clocks& clocks() const { return *clocks_; }
  // True when clocks() is the built-in Clocks (no override): clock_time_get then reads
  // the host clock without the virtual call.
  bool host_clocks() const { return host_clocks_; }
  ErrnoOr<void> Random(std::span<uint8_t> out) const { return random_(out); }

  // The status passed to proc_exit, once a guest called it.
  std::optional<int32_t> exit_code() const;
  void set_exit_code(int32_t code);

  // Wakes every guest of this context blocked in poll_oneoff or in a blocking fd_read
  // of a pollable handle (they return a kInterrupted trap), and calls Interrupt() on
  // every Interruptible handle of the table (channel.h). Stays set until
  // ClearInterrupt(). Any thread, any time. (Store::Interrupt stops running wasm code;
  // an embedder that wants both calls both.)
  void Interrupt();
  void ClearInterrupt();
  bool interrupted() const { return interrupted_.load(std::memory_order_acquire); }
  // An eventfd that is readable while interrupted (the scheduler polls it). Created on
  // first use (start-up: most guests never poll); -1 if it cannot be created.
  int wake_fd() const;

  bool tracing() const { return static_cast<bool>(trace_); }
  void Trace(std::string_view line) const {
    if (trace_) trace_(line);
  }

 private:
  friend class CtxBuilder;
  Ctx();

  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::shared_ptr<wasi::Table> table_;
  std::shared_ptr<Clocks> clocks_;
  bool host_clocks_ = false;
  RandomSource random_;
  TraceSink trace_;
  std::atomic<bool> interrupted_{false};
  std::atomic<bool> exited_{false};
  std::atomic<int32_t> exit_code_{0};
  mutable std::atomic<int> wake_fd_{-1};
};

class CtxBuilder {
 public:
  CtxBuilder();

  // argv: the first one is argv[0] (the CLI passes the module path as typed).
  CtxBuilder& Arg(std::string arg);
  CtxBuilder& Args(std::vector<std::string> args);
  // Environment: nothing of the host's unless asked for.
  CtxBuilder& Env(std::string name, std::string value);
  // Copies the host's value of `name`, if it is set.
  CtxBuilder& InheritEnv(const std::string& name);
  CtxBuilder& InheritAllEnv();

  // Stdio. Without a call, a context with its own table gets an empty stdin and
  // stdout/stderr that discard (as wasmtime's default). With a shared table, only what
  // is set explicitly is installed at fds 0..2.
  CtxBuilder& Stdin(std::shared_ptr<Handle> handle);
  CtxBuilder& Stdout(std::shared_ptr<Handle> handle);
  CtxBuilder& Stderr(std::shared_ptr<Handle> handle);
  // The host's fds 0/1/2 as FdFiles that do not own (close) them.
  CtxBuilder& InheritStdin();
  CtxBuilder& InheritStdout();
  CtxBuilder& InheritStderr();
  CtxBuilder& InheritStdio();

  // Preopens, pushed in this order at the lowest free fds (3, 4, ... for a new table).
  // They may nest or overlap; each is its own fd.
  CtxBuilder& PreopenDir(std::shared_ptr<Dir> dir, std::string guest_path);
#if WEFT_HOST_FS
  // Opens `host_path` when Build() runs; a failure makes Build() fail naming it.
  CtxBuilder& PreopenHostDir(std::string host_path, std::string guest_path, bool read_only);
#endif

  // Use (and share) this table instead of a new one.
  CtxBuilder& Table(std::shared_ptr<wasi::Table> table);
  CtxBuilder& Clocks(std::shared_ptr<wasi::Clocks> clocks);
  CtxBuilder& Random(RandomSource source);
  CtxBuilder& Trace(TraceSink sink);
  // Trace lines go to the host's stderr.
  CtxBuilder& TraceToStderr();

  // The error names what failed (e.g. "cannot open directory 'x': no such file...").
  weft::Result<std::shared_ptr<Ctx>, std::string> Build();

 private:
  struct Preopen {
    std::shared_ptr<Dir> dir;
    std::string host_path;  // when dir is null: opened by Build()
    std::string guest_path;
    bool read_only = false;
  };
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::shared_ptr<Handle> stdio_[3];
  std::vector<Preopen> preopens_;
  std::shared_ptr<wasi::Table> table_;
  std::shared_ptr<wasi::Clocks> clocks_;
  RandomSource random_;
  TraceSink trace_;
};

}  // namespace weft::wasi
