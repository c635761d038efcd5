// In-process byte streams: a bidirectional Channel pair (like socketpair(2)) and a
// one-way Pipe (like pipe(2)), both bounded buffers with backpressure.
//
// Semantics (per end; NONBLOCK is a per-end fd flag, set with SetFdflags or at build):
// - Read returns what is buffered (up to the request); when empty it waits, or answers
//   EAGAIN with NONBLOCK; once the peer's writing side is gone (end destroyed or
//   SockShutdown(SD_WR)) and the buffer is drained it returns 0 (EOF).
// - Write copies as much as fits and, when blocking, waits for space until everything
//   is written (the buffer never holds more than `capacity` bytes); with NONBLOCK it
//   returns the short count, or EAGAIN when nothing fits. Writing after the peer's
//   reading side is gone answers EPIPE (or the short count if some bytes went first).
// - Interrupt() wakes every call blocked on this end with EINTR (or its short count).
// - poll_oneoff: GetPollSource gives an eventfd per interest that is readable exactly
//   while the end is ready for it (data or EOF to read; space or a gone peer to
//   write); CheckReadiness reports nbytes (buffered / free) and hangup. The eventfds
//   are in blocking mode (so a scheduler that skips O_NONBLOCK fds still waits on
//   them); only poll them, never read or write them.
// An end is released when its last shared_ptr goes; that is what the peer sees as
// EOF/EPIPE.
//
// Thread safety: every method may be called from any thread at once; the two ends of
// one pair share one mutex. The eventfds are owned by the ends and closed with them.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "weft/wasi/handle.h"

namespace weft::wasi {

namespace virt {
struct ChannelCore;
}  // namespace virt

class ChannelEnd : public File, public Interruptible {
 public:
  // Use MakeChannel / MakePipe. `side` is 0 or 1 of `core`.
  ChannelEnd(std::shared_ptr<virt::ChannelCore> core, int side);
  ~ChannelEnd() override;

  size_t capacity() const;
  bool can_read() const;
  bool can_write() const;

  // A channel end reports SOCKET_STREAM (it answers the sock_* calls, like one end of a
  // socketpair); a pipe end reports UNKNOWN, as wasmtime does for pipes.
  Filetype filetype() const override;
  ErrnoOr<Filestat> Stat() override;
  ErrnoOr<Fdflags> GetFdflags() override;
  // Only NONBLOCK may change (APPEND is meaningless on a stream); other bits EINVAL.
  ErrnoOr<void> SetFdflags(Fdflags flags) override;
  PollSource GetPollSource(Interest interest) override;
  Readiness CheckReadiness(Interest interest) override;

  ErrnoOr<size_t> Read(std::span<const IoVec> iovs) override;
  ErrnoOr<size_t> Write(std::span<const ConstIoVec> iovs) override;

  // Channel ends only (a pipe end answers ENOTSOCK). RECV_PEEK leaves the bytes
  // buffered; RECV_WAITALL waits until the buffers are full or EOF.
  ErrnoOr<RecvResult> SockRecv(std::span<const IoVec> iovs, Riflags flags) override;
  ErrnoOr<size_t> SockSend(std::span<const ConstIoVec> iovs, Siflags flags) override;
  // SD_WR: the peer reads EOF after the buffered bytes. SD_RD: buffered bytes are
  // dropped, later reads return 0 and the peer's writes fail with EPIPE.
  ErrnoOr<void> SockShutdown(Sdflags how) override;

  void Interrupt() override;

 private:
  ErrnoOr<size_t> ReadImpl(std::span<const IoVec> iovs, bool peek, bool wait_all);

  const std::shared_ptr<virt::ChannelCore> core_;
  const int side_;
};

// A connected pair: each end reads what the other writes. Each direction buffers at
// most `capacity` bytes (at least 1).
std::pair<std::shared_ptr<ChannelEnd>, std::shared_ptr<ChannelEnd>> MakeChannel(
    size_t capacity = 64 * 1024);

// A one-way pipe: (read end, write end). Write on the read end or read on the write
// end answers EBADF.
std::pair<std::shared_ptr<ChannelEnd>, std::shared_ptr<ChannelEnd>> MakePipe(
    size_t capacity = 64 * 1024);

}  // namespace weft::wasi
