// MemFile: an anonymous in-memory regular file (like Linux memfd_create), and the
// handle type of every regular file opened from a virtual filesystem (virtual_fs.h).
//
// A MemFile object is one open file description: it owns the offset and the fd flags.
// Tables holding the same shared_ptr<MemFile> share them (like dup(2)). Several
// descriptions may refer to the same inode (a virtual file opened twice); they share
// the bytes, size and times but each has its own offset.
//
// Thread safety: every method may be called from any thread at once. A Read/Write is
// atomic with respect to other calls on the same inode (no torn writes), and the
// offset update is atomic with the transfer.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "weft/wasi/handle.h"

namespace weft::wasi {

namespace virt {
struct Node;
}  // namespace virt

class MemFile : public File {
 public:
  // A description of `node` (a regular-file inode). `readable`/`writable` come from the
  // open rights; a transfer in a direction not opened answers EBADF, as POSIX does.
  // `read_only` (opened under a read-only VirtualDir): never writable, and SetSize,
  // Allocate and SetTimes answer EPERM, as HostFile does under a read-only preopen.
  MemFile(std::shared_ptr<virt::Node> node, Fdflags flags, bool readable, bool writable,
          bool read_only = false);
  ~MemFile() override;

  // A copy of the current contents (for the host, e.g. to read what a guest wrote).
  std::string Contents() const;

  Filetype filetype() const override { return Filetype::kRegularFile; }
  ErrnoOr<Filestat> Stat() override;
  ErrnoOr<Fdflags> GetFdflags() override;
  // APPEND and NONBLOCK can change; the sync flags stay as opened (like F_SETFL);
  // unknown bits are EINVAL.
  ErrnoOr<void> SetFdflags(Fdflags flags) override;
  ErrnoOr<void> SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) override;
  ErrnoOr<void> Sync() override { return {}; }
  ErrnoOr<void> Datasync() override { return {}; }
  // Always ready: no fd to wait on; nbytes for kRead is what remains after the offset.
  PollSource GetPollSource(Interest) override { return {}; }
  Readiness CheckReadiness(Interest interest) override;

  ErrnoOr<size_t> Read(std::span<const IoVec> iovs) override;
  ErrnoOr<size_t> Write(std::span<const ConstIoVec> iovs) override;
  ErrnoOr<size_t> Pread(std::span<const IoVec> iovs, Filesize offset) override;
  // Writes at `offset` even with APPEND (POSIX; Linux would append instead).
  ErrnoOr<size_t> Pwrite(std::span<const ConstIoVec> iovs, Filesize offset) override;
  ErrnoOr<Filesize> Seek(int64_t offset, Whence whence) override;
  ErrnoOr<Filesize> Tell() override;
  ErrnoOr<void> Advise(Filesize offset, Filesize len, Advice advice) override;
  // Grows the file to offset+len if shorter (zero-filled); EINVAL for len 0.
  ErrnoOr<void> Allocate(Filesize offset, Filesize len) override;
  ErrnoOr<void> SetSize(Filesize size) override;

 private:
  const std::shared_ptr<virt::Node> node_;
  const bool readable_;
  const bool writable_;
  const bool read_only_;
  mutable std::mutex mu_;  // guards offset_ and flags_; taken before node_->mu
  Filesize offset_ = 0;
  Fdflags flags_;
};

// A new anonymous in-memory file holding `initial`, open for reading and writing at
// offset 0. Its inode has no name; it lives as long as a handle refers to it.
std::shared_ptr<MemFile> MakeMemFile(std::string_view initial = {});

}  // namespace weft::wasi
