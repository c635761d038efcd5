// poll_oneoff and interruptible blocking waits.
//
// One wait covers everything: host fds from Handle::GetPollSource (a host file's own
// fd, an in-process handle's eventfd) plus the context's wake eventfd, with the nearest
// clock deadline as the timeout. Readiness is then decided by Handle::CheckReadiness,
// so handles without a poll source still take part (they are re-checked every
// millisecond while nothing else is ready).
#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "wasi/abi/layout.h"
#include "wasi/preview1/bodies.h"
#include "wasi/sched/wait.h"

namespace weft::wasi {

namespace {

uint64_t HostMonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return b > std::numeric_limits<uint64_t>::max() - a ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

struct Sub {
  uint64_t userdata = 0;
  uint8_t type = 0;  // abi::kEventClock / kEventFdRead / kEventFdWrite
  uint64_t deadline = 0;  // clock: host monotonic ns
  std::shared_ptr<File> file;
  Errno error = Errno::kSuccess;  // fd: lookup failure, reported as an event
};

// Waits on `fds` (the last one is the wake fd) for at most `timeout_ns` (UINT64_MAX:
// forever). Returns false if the wake fd fired.
bool WaitOnce(std::span<pollfd> fds, uint64_t timeout_ns) {
  timespec ts;
  timespec* tsp = nullptr;
  if (timeout_ns != std::numeric_limits<uint64_t>::max()) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1000000000ull);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1000000000ull);
    tsp = &ts;
  }
  for (pollfd& p : fds) p.revents = 0;
  int r = ppoll(fds.data(), fds.size(), tsp, nullptr);
  if (r < 0) return true;  // EINTR and friends: the caller re-checks everything
  return (fds.back().revents & POLLIN) == 0;
}

}  // namespace

namespace sched {

wasm::Trap InterruptedTrap(const Call& call) {
  return wasm::Trap::Make(wasm::TrapKind::kInterrupted,
                          std::string(call.function()) + ": interrupted");
}

Result<void> WaitReadable(Call& call, File& file) {
  Filetype type = file.filetype();
  if (type == Filetype::kRegularFile || type == Filetype::kDirectory) return {};
  PollSource src = file.GetPollSource(Interest::kRead);
  if (src.fd < 0) return {};
  // Never wait where the read would not block: a handle in non-blocking mode (EAGAIN).
  // Ask the handle, not the poll fd: an in-process handle's poll fd is its own eventfd.
  // (A host fd not open for reading has no read poll source, so it returned above.)
  ErrnoOr<Fdflags> flags = file.GetFdflags();
  if (!flags.ok() || (*flags & kFdflagNonblock)) return {};
  Ctx& ctx = call.ctx();
  // A fixed array: fd_read of a pipe or socket is a hot path and must not allocate.
  pollfd fds[2] = {{src.fd, static_cast<short>(src.events ? src.events : POLLIN), 0},
                   {ctx.wake_fd(), POLLIN, 0}};
  for (;;) {
    if (ctx.interrupted()) return Err(InterruptedTrap(call));
    if (!WaitOnce(fds, std::numeric_limits<uint64_t>::max())) continue;  // re-check flag
    if (fds[0].revents != 0) return {};
  }
}

}  // namespace sched

namespace preview1 {

Result<void> poll_oneoff(Call& call, u32 in, u32 out, u32 nsubscriptions, u32 nevents_out) {
  if (nsubscriptions == 0) return Err(Errno::kInval);  // would sleep forever
  WEFT_TRY_ASSIGN(uint8_t* subs_mem,
                  call.Array(in, nsubscriptions, sizeof(abi::Subscription), 8));
  WEFT_TRY_ASSIGN(uint8_t* events_mem, call.Array(out, nsubscriptions, sizeof(abi::Event), 8));
  WEFT_TRY(call.Bytes(nevents_out, 4, 4));
  Ctx& ctx = call.ctx();

  std::vector<Sub> subs(nsubscriptions);
  const uint64_t start = HostMonotonicNs();
  for (u32 i = 0; i < nsubscriptions; ++i) {
    const uint8_t* s = subs_mem + i * sizeof(abi::Subscription);
    Sub& sub = subs[i];
    sub.userdata = abi::GetU64(s + offsetof(abi::Subscription, userdata));
    sub.type = s[offsetof(abi::Subscription, tag)];
    const uint8_t* u = s + offsetof(abi::Subscription, u);
    if (sub.type == abi::kEventClock) {
      u32 id = abi::GetU32(u + offsetof(abi::SubscriptionClock, id));
      u64 timeout = abi::GetU64(u + offsetof(abi::SubscriptionClock, timeout));
      uint16_t flags = abi::GetU16(u + offsetof(abi::SubscriptionClock, flags));
      if (flags & ~abi::kSubclockAbstime) return Err(Errno::kInval);
      // Only realtime and monotonic can be waited on (wasmtime: EINVAL otherwise).
      if (id != static_cast<u32>(Clockid::kRealtime) &&
          id != static_cast<u32>(Clockid::kMonotonic)) {
        return Err(Errno::kInval);
      }
      uint64_t relative = timeout;
      uint64_t from = start;
      if (flags & abi::kSubclockAbstime) {
        WEFT_TRY_ASSIGN(Timestamp now, ctx.clocks().Now(static_cast<Clockid>(id)));
        relative = timeout > now ? timeout - now : 0;
        // The wait is measured from a host reading taken after the guest clock's, never
        // before it (`start`), so that however long that read took, the deadline comes
        // late by it and never early.
        from = HostMonotonicNs();
      }
      sub.deadline = SaturatingAdd(from, relative);
    } else if (sub.type == abi::kEventFdRead || sub.type == abi::kEventFdWrite) {
      u32 fd = abi::GetU32(u);
      auto f = call.table().GetAs<File>(fd, rights::kPollFdReadwrite);
      if (f.ok()) {
        sub.file = std::move(f).value();
      } else {
        sub.error = f.error();
      }
    } else {
      return Err(Errno::kInval);
    }
  }

  std::vector<pollfd> fds;
  for (;;) {
    u32 nevents = 0;
    const uint64_t now = HostMonotonicNs();
    uint64_t next_deadline = std::numeric_limits<uint64_t>::max();
    bool recheck_soon = false;
    fds.clear();
    for (const Sub& sub : subs) {
      uint8_t* ev = events_mem + nevents * sizeof(abi::Event);
      if (sub.type == abi::kEventClock) {
        if (now >= sub.deadline) {
          abi::WriteEvent(ev, sub.userdata, Errno::kSuccess, sub.type, 0, 0);
          ++nevents;
        } else {
          next_deadline = std::min(next_deadline, sub.deadline);
        }
        continue;
      }
      if (!sub.file) {
        abi::WriteEvent(ev, sub.userdata, sub.error, sub.type, 0, 0);
        ++nevents;
        continue;
      }
      Interest interest = sub.type == abi::kEventFdRead ? Interest::kRead : Interest::kWrite;
      Readiness r = sub.file->CheckReadiness(interest);
      if (r.ready) {
        abi::WriteEvent(ev, sub.userdata, r.error, sub.type, r.nbytes,
                        r.hangup ? abi::kEventFdReadwriteHangup : 0);
        ++nevents;
        continue;
      }
      PollSource src = sub.file->GetPollSource(interest);
      if (src.fd >= 0) {
        short events = src.events ? src.events
                                  : static_cast<short>(interest == Interest::kRead ? POLLIN : POLLOUT);
        fds.push_back({src.fd, events, 0});
      } else {
        recheck_soon = true;
      }
    }
    if (nevents > 0) {
      WEFT_TRY(call.StoreU32(nevents_out, nevents));
      if (call.tracing()) call.Note("nevents=" + std::to_string(nevents));
      return {};
    }
    if (ctx.interrupted()) return Err(sched::InterruptedTrap(call));
    fds.push_back({ctx.wake_fd(), POLLIN, 0});
    uint64_t timeout = next_deadline == std::numeric_limits<uint64_t>::max()
                           ? next_deadline
                           : next_deadline - now;
    if (recheck_soon) timeout = std::min<uint64_t>(timeout, 1000000);  // 1 ms
    WaitOnce(fds, timeout);
  }
}

}  // namespace preview1
}  // namespace weft::wasi
