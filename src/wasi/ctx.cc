#include "weft/wasi/ctx.h"

#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <typeinfo>

#include "wasi/host_clock.h"
#include "weft/wasi/pipe.h"
#include "weft/wasi/stdio.h"
#if WEFT_HOST_FS
#include "weft/wasi/host_fs.h"
#endif

extern char** environ;

namespace weft::wasi {

namespace {

ErrnoOr<clockid_t> HostClock(Clockid id) {
  clockid_t c;
  if (!HostClockId(static_cast<uint32_t>(id), &c)) return Err(Errno::kInval);
  return c;
}

ErrnoOr<void> HostRandom(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(ErrnoFromHost(errno));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

ErrnoOr<Timestamp> Clocks::Now(Clockid id) {
  WEFT_TRY_ASSIGN(clockid_t c, HostClock(id));
  timespec ts;
  if (clock_gettime(c, &ts) != 0) return Err(ErrnoFromHost(errno));
  return static_cast<Timestamp>(ts.tv_sec) * 1000000000ull + static_cast<Timestamp>(ts.tv_nsec);
}

ErrnoOr<Timestamp> Clocks::Resolution(Clockid id) {
  WEFT_TRY_ASSIGN(clockid_t c, HostClock(id));
  timespec ts;
  if (clock_getres(c, &ts) != 0) return Err(ErrnoFromHost(errno));
  return static_cast<Timestamp>(ts.tv_sec) * 1000000000ull + static_cast<Timestamp>(ts.tv_nsec);
}

Ctx::Ctx() = default;

Ctx::~Ctx() {
  int fd = wake_fd_.load(std::memory_order_acquire);
  if (fd >= 0) close(fd);
}

int Ctx::wake_fd() const {
  int fd = wake_fd_.load(std::memory_order_acquire);
  if (fd >= 0) return fd;
  int made = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (made < 0) return -1;
  // Two threads may race to create it: one eventfd wins, the other is closed.
  if (wake_fd_.compare_exchange_strong(fd, made, std::memory_order_acq_rel)) return made;
  close(made);
  return fd;
}

std::optional<int32_t> Ctx::exit_code() const {
  if (!exited_.load(std::memory_order_acquire)) return std::nullopt;
  return exit_code_.load(std::memory_order_relaxed);
}

void Ctx::set_exit_code(int32_t code) {
  exit_code_.store(code, std::memory_order_relaxed);
  exited_.store(true, std::memory_order_release);
}

void Ctx::Interrupt() {
  interrupted_.store(true, std::memory_order_release);
  uint64_t one = 1;
  // Created here if no poll has made it yet, so that a poll starting later sees it readable.
  if (int fd = wake_fd(); fd >= 0) {
    ssize_t r = write(fd, &one, sizeof one);
    (void)r;  // EAGAIN only when the counter is saturated: already readable
  }
  // Handles that block inside their own calls (in-process channels) are woken too.
  for (const std::shared_ptr<Handle>& h : table_->Handles()) {
    if (auto* i = dynamic_cast<Interruptible*>(h.get())) i->Interrupt();
  }
}

void Ctx::ClearInterrupt() {
  interrupted_.store(false, std::memory_order_release);
  uint64_t v;
  if (int fd = wake_fd_.load(std::memory_order_acquire); fd >= 0) {
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
  }
}

CtxBuilder::CtxBuilder() = default;

CtxBuilder& CtxBuilder::Arg(std::string arg) {
  args_.push_back(std::move(arg));
  return *this;
}

CtxBuilder& CtxBuilder::Args(std::vector<std::string> args) {
  for (std::string& a : args) args_.push_back(std::move(a));
  return *this;
}

CtxBuilder& CtxBuilder::Env(std::string name, std::string value) {
  env_.push_back(std::move(name) + "=" + std::move(value));
  return *this;
}

CtxBuilder& CtxBuilder::InheritEnv(const std::string& name) {
  if (const char* v = std::getenv(name.c_str())) Env(name, v);
  return *this;
}

CtxBuilder& CtxBuilder::InheritAllEnv() {
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env_.emplace_back(*e);
  return *this;
}

CtxBuilder& CtxBuilder::Stdin(std::shared_ptr<Handle> handle) {
  stdio_[0] = std::move(handle);
  return *this;
}
CtxBuilder& CtxBuilder::Stdout(std::shared_ptr<Handle> handle) {
  stdio_[1] = std::move(handle);
  return *this;
}
CtxBuilder& CtxBuilder::Stderr(std::shared_ptr<Handle> handle) {
  stdio_[2] = std::move(handle);
  return *this;
}
CtxBuilder& CtxBuilder::InheritStdin() { return Stdin(HostStdin()); }
CtxBuilder& CtxBuilder::InheritStdout() { return Stdout(HostStdout()); }
CtxBuilder& CtxBuilder::InheritStderr() { return Stderr(HostStderr()); }
CtxBuilder& CtxBuilder::InheritStdio() { return InheritStdin().InheritStdout().InheritStderr(); }

CtxBuilder& CtxBuilder::PreopenDir(std::shared_ptr<Dir> dir, std::string guest_path) {
  preopens_.push_back(Preopen{std::move(dir), {}, std::move(guest_path), false});
  return *this;
}

#if WEFT_HOST_FS
CtxBuilder& CtxBuilder::PreopenHostDir(std::string host_path, std::string guest_path,
                                       bool read_only) {
  preopens_.push_back(Preopen{nullptr, std::move(host_path), std::move(guest_path), read_only});
  return *this;
}
#endif

CtxBuilder& CtxBuilder::Table(std::shared_ptr<wasi::Table> table) {
  table_ = std::move(table);
  return *this;
}
CtxBuilder& CtxBuilder::Clocks(std::shared_ptr<wasi::Clocks> clocks) {
  clocks_ = std::move(clocks);
  return *this;
}
CtxBuilder& CtxBuilder::Random(RandomSource source) {
  random_ = std::move(source);
  return *this;
}
CtxBuilder& CtxBuilder::Trace(TraceSink sink) {
  trace_ = std::move(sink);
  return *this;
}
CtxBuilder& CtxBuilder::TraceToStderr() {
  return Trace([](std::string_view line) {
    // One write per line so that lines from several threads do not interleave.
    std::string s(line);
    s += '\n';
    ssize_t r = write(2, s.data(), s.size());
    (void)r;
  });
}

weft::Result<std::shared_ptr<Ctx>, std::string> CtxBuilder::Build() {
  std::shared_ptr<Ctx> ctx(new Ctx());
  ctx->args_ = args_;
  ctx->env_ = env_;
  ctx->clocks_ = clocks_ ? clocks_ : std::make_shared<wasi::Clocks>();
  ctx->host_clocks_ = typeid(*ctx->clocks_) == typeid(wasi::Clocks);
  ctx->random_ = random_ ? random_ : RandomSource(HostRandom);
  ctx->trace_ = trace_;
  bool own_table = table_ == nullptr;
  ctx->table_ = own_table ? std::make_shared<wasi::Table>() : table_;

  // Open every host preopen first, so a failure leaves a shared table untouched.
  std::vector<std::shared_ptr<Dir>> dirs;
  for (const Preopen& p : preopens_) {
    if (p.dir) {
      dirs.push_back(p.dir);
      continue;
    }
#if WEFT_HOST_FS
    auto d = OpenHostDir(p.host_path, p.read_only);
    if (!d.ok()) {
      return Err("cannot open directory '" + p.host_path + "': " + ErrnoMessage(d.error()));
    }
    dirs.push_back(std::move(d).value());
#endif
  }

  for (int fd = 0; fd < 3; ++fd) {
    std::shared_ptr<Handle> h = stdio_[fd];
    if (!h && own_table) {
      h = fd == 0 ? std::shared_ptr<Handle>(std::make_shared<ReadPipe>(std::string_view()))
                  : std::shared_ptr<Handle>(NullSink());
    }
    if (!h) continue;
    auto r = ctx->table_->InsertAt(static_cast<Fd>(fd), Entry::For(std::move(h)));
    if (!r.ok()) return Err(std::string("cannot install stdio: ") + ErrnoMessage(r.error()));
  }
  for (size_t i = 0; i < dirs.size(); ++i) {
    auto r = ctx->table_->Push(Entry::For(dirs[i], preopens_[i].guest_path));
    if (!r.ok()) return Err(std::string("cannot install preopen: ") + ErrnoMessage(r.error()));
  }
  return ctx;
}

}  // namespace weft::wasi
