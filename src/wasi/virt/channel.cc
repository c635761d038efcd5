// In-process channels and pipes. See channel.h.
//
// Both ends of a pair share one ChannelCore: two ring buffers (ring[s] carries what
// side s writes), one mutex and one condition variable that every state change
// notifies. Readiness eventfds are re-synchronised under the mutex after each change,
// so a poll(2) on them never sees a stale state once the change has returned.
#include "weft/wasi/channel.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "wasi/virt/iovec_util.h"
#include "wasi/virt/node.h"

namespace weft::wasi {

namespace virt {

struct ChannelCore {
  struct Ring {
    std::vector<uint8_t> buf;  // `capacity` bytes, allocated on the first write
    size_t head = 0;
    size_t size = 0;
    bool writer_open = true;  // the writing side may still add bytes (else: EOF)
    bool reader_open = true;  // the reading side still consumes (else: EPIPE)
  };
  struct Side {
    bool can_read = true;
    bool can_write = true;
    bool alive = true;
    Fdflags flags = 0;
    uint64_t interrupts = 0;   // bumped by Interrupt(); waiters compare
    int efd[2] = {-1, -1};     // per Interest, created on first GetPollSource
    bool signaled[2] = {false, false};
    Inode ino = NextInode();
  };

  ChannelCore(size_t cap, bool channel) : capacity(std::max<size_t>(cap, 1)), is_channel(channel) {}

  const size_t capacity;
  const bool is_channel;
  std::mutex mu;
  std::condition_variable cv;
  Ring ring[2];
  Side side[2];

  // REQUIRES mu.
  bool ReadyLocked(int s, Interest interest) const {
    if (interest == Interest::kRead) {
      const Ring& in = ring[1 - s];
      return side[s].can_read && (in.size > 0 || !in.writer_open || !in.reader_open);
    }
    const Ring& out = ring[s];
    return side[s].can_write && (out.size < capacity || !out.reader_open || !out.writer_open);
  }

  // Makes every live eventfd readable exactly while its end is ready. REQUIRES mu.
  void SyncSignalsLocked() {
    for (int s = 0; s < 2; ++s) {
      if (!side[s].alive) continue;
      for (int i = 0; i < 2; ++i) {
        int fd = side[s].efd[i];
        if (fd < 0) continue;
        bool want = ReadyLocked(s, static_cast<Interest>(i));
        if (want == side[s].signaled[i]) continue;
        uint64_t v = 1;
        ssize_t r = want ? write(fd, &v, sizeof v) : read(fd, &v, sizeof v);
        (void)r;  // cannot block: `signaled` says the counter is 0 (write) or 1 (read)
        side[s].signaled[i] = want;
      }
    }
  }

  // A state change: wake waiters and re-sync readiness. REQUIRES mu.
  void ChangedLocked() {
    SyncSignalsLocked();
    cv.notify_all();
  }
};

}  // namespace virt

namespace {

using Core = virt::ChannelCore;
using virt::TotalLen;

// Why a read or write that cannot go on now must return instead of waiting: EAGAIN on a
// non-blocking end, EINTR once Interrupt() has run since the call began (`interrupts`
// is the count it saw then); kSuccess when it may wait. REQUIRES core mu.
Errno WhyNotWait(const Core::Side& me, uint64_t interrupts) {
  if (me.flags & kFdflagNonblock) return Errno::kAgain;
  if (me.interrupts != interrupts) return Errno::kIntr;
  return Errno::kSuccess;
}

// Copies up to `n` bytes of `ring` (from its head, skipping nothing) into `iovs` at
// byte position `at`; consumes them unless `peek`. Returns the count. REQUIRES mu.
size_t RingRead(Core::Ring& ring, size_t cap, std::span<const IoVec> iovs, size_t at, size_t n,
                bool peek) {
  n = std::min(n, ring.size);
  size_t copied = 0;
  size_t pos = ring.head;
  for (const IoVec& v : iovs) {
    if (copied == n) break;
    if (at >= v.len) {
      at -= v.len;
      continue;
    }
    size_t room = std::min(v.len - at, n - copied);
    uint8_t* dst = v.data + at;
    at = 0;
    while (room > 0) {
      size_t chunk = std::min(room, cap - pos);
      std::memcpy(dst, ring.buf.data() + pos, chunk);
      dst += chunk;
      room -= chunk;
      copied += chunk;
      pos = (pos + chunk) % cap;
    }
  }
  if (!peek) {
    ring.head = pos;
    ring.size -= copied;
    if (ring.size == 0) ring.head = 0;
  }
  return copied;
}

// Appends up to `n` bytes from `iovs` (starting at byte position `at`) to `ring`.
// REQUIRES mu and n <= free space.
size_t RingWrite(Core::Ring& ring, size_t cap, std::span<const ConstIoVec> iovs, size_t at,
                 size_t n) {
  if (ring.buf.size() != cap) ring.buf.resize(cap);
  size_t copied = 0;
  size_t pos = (ring.head + ring.size) % cap;
  for (const ConstIoVec& v : iovs) {
    if (copied == n) break;
    if (at >= v.len) {
      at -= v.len;
      continue;
    }
    size_t room = std::min(v.len - at, n - copied);
    const uint8_t* src = v.data + at;
    at = 0;
    while (room > 0) {
      size_t chunk = std::min(room, cap - pos);
      std::memcpy(ring.buf.data() + pos, src, chunk);
      src += chunk;
      room -= chunk;
      copied += chunk;
      pos = (pos + chunk) % cap;
    }
  }
  ring.size += copied;
  return copied;
}

Device ChannelDevice() {
  static const Device dev = virt::NextDevice();
  return dev;
}

}  // namespace

ChannelEnd::ChannelEnd(std::shared_ptr<virt::ChannelCore> core, int side)
    : core_(std::move(core)), side_(side) {}

ChannelEnd::~ChannelEnd() {
  std::lock_guard<std::mutex> lock(core_->mu);
  Core::Side& me = core_->side[side_];
  me.alive = false;
  core_->ring[side_].writer_open = false;  // the peer reads EOF after the buffered bytes
  Core::Ring& in = core_->ring[1 - side_];
  in.reader_open = false;                  // the peer's writes fail with EPIPE
  in.size = 0;
  in.head = 0;
  in.buf = {};
  for (int& fd : me.efd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  core_->ChangedLocked();
}

size_t ChannelEnd::capacity() const { return core_->capacity; }
bool ChannelEnd::can_read() const { return core_->side[side_].can_read; }
bool ChannelEnd::can_write() const { return core_->side[side_].can_write; }

Filetype ChannelEnd::filetype() const {
  return core_->is_channel ? Filetype::kSocketStream : Filetype::kUnknown;
}

ErrnoOr<Filestat> ChannelEnd::Stat() {
  Filestat st;
  st.dev = ChannelDevice();
  st.ino = core_->side[side_].ino;
  st.filetype = filetype();
  st.nlink = 1;
  return st;
}

ErrnoOr<Fdflags> ChannelEnd::GetFdflags() {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->side[side_].flags;
}

ErrnoOr<void> ChannelEnd::SetFdflags(Fdflags flags) {
  constexpr Fdflags kKnown =
      kFdflagAppend | kFdflagDsync | kFdflagNonblock | kFdflagRsync | kFdflagSync;
  if (flags & ~kKnown) return Err(Errno::kInval);
  if (flags & (kFdflagDsync | kFdflagRsync | kFdflagSync)) return Err(Errno::kInval);
  std::lock_guard<std::mutex> lock(core_->mu);
  core_->side[side_].flags = flags & kFdflagNonblock;
  return {};
}

PollSource ChannelEnd::GetPollSource(Interest interest) {
  std::lock_guard<std::mutex> lock(core_->mu);
  Core::Side& me = core_->side[side_];
  if (interest == Interest::kRead ? !me.can_read : !me.can_write) return {};
  int i = static_cast<int>(interest);
  if (me.efd[i] < 0) {
    // Blocking mode on purpose: pollers treat an O_NONBLOCK fd as "never wait here"
    // (see sched::WaitReadable). Our own read/write on it never blocks: we read only
    // while the counter is non-zero and write 1 only while it is zero.
    me.efd[i] = eventfd(0, EFD_CLOEXEC);
    if (me.efd[i] < 0) return {};  // out of fds: CheckReadiness alone decides
    me.signaled[i] = false;
    core_->SyncSignalsLocked();
  }
  return PollSource{me.efd[i], POLLIN};
}

Readiness ChannelEnd::CheckReadiness(Interest interest) {
  std::lock_guard<std::mutex> lock(core_->mu);
  const Core::Side& me = core_->side[side_];
  Readiness r;
  if (interest == Interest::kRead) {
    if (!me.can_read) {
      r.error = Errno::kBadf;
      return r;
    }
    const Core::Ring& in = core_->ring[1 - side_];
    r.nbytes = in.size;
    r.hangup = !in.writer_open || !in.reader_open;
  } else {
    if (!me.can_write) {
      r.error = Errno::kBadf;
      return r;
    }
    const Core::Ring& out = core_->ring[side_];
    r.nbytes = out.reader_open && out.writer_open ? core_->capacity - out.size : 0;
    r.hangup = !out.reader_open;
    if (!out.writer_open) r.error = Errno::kPipe;
  }
  r.ready = core_->ReadyLocked(side_, interest);
  return r;
}

ErrnoOr<size_t> ChannelEnd::Read(std::span<const IoVec> iovs) {
  return ReadImpl(iovs, /*peek=*/false, /*wait_all=*/false);
}

ErrnoOr<size_t> ChannelEnd::ReadImpl(std::span<const IoVec> iovs, bool peek, bool wait_all) {
  if (!core_->side[side_].can_read) return Err(Errno::kBadf);
  const size_t total = TotalLen(iovs);
  if (total == 0) return size_t{0};
  std::unique_lock<std::mutex> lock(core_->mu);
  Core::Side& me = core_->side[side_];
  Core::Ring& in = core_->ring[1 - side_];
  const uint64_t interrupts = me.interrupts;
  size_t done = 0;
  for (;;) {
    const bool eof = !in.writer_open || !in.reader_open;
    if (peek) {
      if (in.size > 0 && (!wait_all || in.size >= total || eof)) {
        return RingRead(in, core_->capacity, iovs, 0, total, /*peek=*/true);
      }
    } else if (in.size > 0) {
      done += RingRead(in, core_->capacity, iovs, done, total - done, /*peek=*/false);
      core_->ChangedLocked();
      if (!wait_all || done == total) return done;
      continue;
    }
    if (eof) return done;
    if (Errno e = WhyNotWait(me, interrupts); e != Errno::kSuccess) {
      if (done > 0) return done;
      return Err(e);
    }
    core_->cv.wait(lock);
  }
}

ErrnoOr<size_t> ChannelEnd::Write(std::span<const ConstIoVec> iovs) {
  if (!core_->side[side_].can_write) return Err(Errno::kBadf);
  const size_t total = TotalLen(iovs);
  std::unique_lock<std::mutex> lock(core_->mu);
  Core::Side& me = core_->side[side_];
  Core::Ring& out = core_->ring[side_];
  if (!out.writer_open) return Err(Errno::kPipe);  // shut down for writing
  if (total == 0) return size_t{0};
  const uint64_t interrupts = me.interrupts;
  size_t done = 0;
  while (done < total) {
    if (!out.reader_open) {
      if (done > 0) return done;
      return Err(Errno::kPipe);
    }
    size_t space = core_->capacity - out.size;
    if (space > 0) {
      done += RingWrite(out, core_->capacity, iovs, done, std::min(space, total - done));
      core_->ChangedLocked();
      continue;
    }
    if (Errno e = WhyNotWait(me, interrupts); e != Errno::kSuccess) {
      if (done > 0) return done;
      return Err(e);
    }
    core_->cv.wait(lock);
  }
  return done;
}

ErrnoOr<File::RecvResult> ChannelEnd::SockRecv(std::span<const IoVec> iovs, Riflags flags) {
  if (!core_->is_channel) return Err(Errno::kNotsock);
  if (flags & ~(kRiRecvPeek | kRiRecvWaitall)) return Err(Errno::kInval);
  WEFT_TRY_ASSIGN(size_t n, ReadImpl(iovs, flags & kRiRecvPeek, flags & kRiRecvWaitall));
  return RecvResult{n, Roflags{0}};
}

ErrnoOr<size_t> ChannelEnd::SockSend(std::span<const ConstIoVec> iovs, Siflags flags) {
  if (!core_->is_channel) return Err(Errno::kNotsock);
  if (flags != 0) return Err(Errno::kInval);
  return Write(iovs);
}

ErrnoOr<void> ChannelEnd::SockShutdown(Sdflags how) {
  if (!core_->is_channel) return Err(Errno::kNotsock);
  if (how == 0 || (how & ~(kSdRd | kSdWr))) return Err(Errno::kInval);
  std::lock_guard<std::mutex> lock(core_->mu);
  if (how & kSdWr) core_->ring[side_].writer_open = false;
  if (how & kSdRd) {
    Core::Ring& in = core_->ring[1 - side_];
    in.reader_open = false;
    in.size = 0;
    in.head = 0;
  }
  core_->ChangedLocked();
  return {};
}

void ChannelEnd::Interrupt() {
  std::lock_guard<std::mutex> lock(core_->mu);
  ++core_->side[side_].interrupts;
  core_->cv.notify_all();
}

std::pair<std::shared_ptr<ChannelEnd>, std::shared_ptr<ChannelEnd>> MakeChannel(size_t capacity) {
  auto core = std::make_shared<virt::ChannelCore>(capacity, /*channel=*/true);
  return {std::make_shared<ChannelEnd>(core, 0), std::make_shared<ChannelEnd>(core, 1)};
}

std::pair<std::shared_ptr<ChannelEnd>, std::shared_ptr<ChannelEnd>> MakePipe(size_t capacity) {
  auto core = std::make_shared<virt::ChannelCore>(capacity, /*channel=*/false);
  // Side 0 reads, side 1 writes: only ring[1] carries data.
  core->side[0].can_write = false;
  core->side[1].can_read = false;
  core->ring[0].writer_open = false;
  core->ring[0].reader_open = false;
  return {std::make_shared<ChannelEnd>(core, 0), std::make_shared<ChannelEnd>(core, 1)};
}

}  // namespace weft::wasi
