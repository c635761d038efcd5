// MemFile: an open description of an in-memory regular file. See memfile.h.
#include "weft/wasi/memfile.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "wasi/virt/iovec_util.h"
#include "wasi/virt/node.h"

namespace weft::wasi {
namespace {

constexpr Fdflags kSyncFlags = kFdflagDsync | kFdflagRsync | kFdflagSync;
constexpr Fdflags kAllFdflags = kFdflagAppend | kFdflagNonblock | kSyncFlags;
constexpr Errno kReadOnlyErrno = virt::kReadOnlyErrno;

using virt::TotalLen;

// Copies from `node.bytes` at `pos` into `iovs`. REQUIRES node.mu.
size_t ReadAtLocked(virt::Node& node, Filesize pos, std::span<const IoVec> iovs) {
  const std::vector<uint8_t>& bytes = node.bytes;
  if (pos >= bytes.size()) return 0;
  size_t done = 0;
  size_t at = static_cast<size_t>(pos);
  for (const IoVec& v : iovs) {
    if (at >= bytes.size()) break;
    size_t n = std::min(v.len, bytes.size() - at);
    if (n > 0) std::memcpy(v.data, bytes.data() + at, n);
    at += n;
    done += n;
  }
  return done;
}

// Copies `iovs` into `node.bytes` at `pos`, growing the file (zero-filled) as needed.
// REQUIRES node.mu.
ErrnoOr<size_t> WriteAtLocked(virt::Node& node, Filesize pos, std::span<const ConstIoVec> iovs) {
  size_t total = TotalLen(iovs);
  if (total == 0) return size_t{0};
  if (pos > virt::kMaxFileSize || total > virt::kMaxFileSize - pos) return Err(Errno::kFbig);
  size_t end = static_cast<size_t>(pos + total);
  if (end > node.bytes.size()) node.bytes.resize(end);
  size_t at = static_cast<size_t>(pos);
  for (const ConstIoVec& v : iovs) {
    if (v.len > 0) std::memcpy(node.bytes.data() + at, v.data, v.len);
    at += v.len;
  }
  node.TouchLocked();
  return total;
}

}  // namespace

MemFile::MemFile(std::shared_ptr<virt::Node> node, Fdflags flags, bool readable, bool writable,
                 bool read_only)
    : node_(std::move(node)), readable_(readable), writable_(writable && !read_only),
      read_only_(read_only), flags_(flags & kAllFdflags) {}

MemFile::~MemFile() = default;

std::string MemFile::Contents() const {
  std::lock_guard<std::mutex> lock(node_->mu);
  return std::string(node_->bytes.begin(), node_->bytes.end());
}

ErrnoOr<Filestat> MemFile::Stat() {
  std::lock_guard<std::mutex> lock(node_->mu);
  Filestat st;
  st.dev = node_->dev;
  st.ino = node_->ino;
  st.filetype = Filetype::kRegularFile;
  st.nlink = node_->nlink;
  st.size = node_->bytes.size();
  st.atim = node_->atim;
  st.mtim = node_->mtim;
  st.ctim = node_->ctim;
  return st;
}

ErrnoOr<Fdflags> MemFile::GetFdflags() {
  std::lock_guard<std::mutex> lock(mu_);
  return flags_;
}

ErrnoOr<void> MemFile::SetFdflags(Fdflags flags) {
  if (flags & ~kAllFdflags) return Err(Errno::kInval);
  std::lock_guard<std::mutex> lock(mu_);
  flags_ = static_cast<Fdflags>((flags_ & kSyncFlags) | (flags & (kFdflagAppend | kFdflagNonblock)));
  return {};
}

ErrnoOr<void> MemFile::SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) {
  if (read_only_) {
    Timestamp a = 0, m = 0;
    WEFT_TRY(virt::ApplyTimes(atim, mtim, flags, &a, &m));  // EINVAL first, as HostFile
    return Err(kReadOnlyErrno);
  }
  std::lock_guard<std::mutex> lock(node_->mu);
  WEFT_TRY(virt::ApplyTimes(atim, mtim, flags, &node_->atim, &node_->mtim));
  node_->ctim = virt::NowRealtime();
  return {};
}

Readiness MemFile::CheckReadiness(Interest interest) {
  Readiness r;
  if (interest == Interest::kRead) {
    std::lock_guard<std::mutex> lock(mu_);
    std::lock_guard<std::mutex> node_lock(node_->mu);
    r.nbytes = node_->bytes.size() > offset_ ? node_->bytes.size() - offset_ : 0;
  }
  return r;
}

ErrnoOr<size_t> MemFile::Read(std::span<const IoVec> iovs) {
  if (!readable_) return Err(Errno::kBadf);
  std::lock_guard<std::mutex> lock(mu_);
  std::lock_guard<std::mutex> node_lock(node_->mu);
  size_t n = ReadAtLocked(*node_, offset_, iovs);
  offset_ += n;
  return n;
}

ErrnoOr<size_t> MemFile::Write(std::span<const ConstIoVec> iovs) {
  if (!writable_) return Err(Errno::kBadf);
  std::lock_guard<std::mutex> lock(mu_);
  std::lock_guard<std::mutex> node_lock(node_->mu);
  // With APPEND, moving to the end and writing is one step under the inode lock, so
  // concurrent appenders (even through other descriptions) never overwrite each other.
  if (flags_ & kFdflagAppend) offset_ = node_->bytes.size();
  WEFT_TRY_ASSIGN(size_t n, WriteAtLocked(*node_, offset_, iovs));
  offset_ += n;
  return n;
}

ErrnoOr<size_t> MemFile::Pread(std::span<const IoVec> iovs, Filesize offset) {
  if (!readable_) return Err(Errno::kBadf);
  std::lock_guard<std::mutex> node_lock(node_->mu);
  return ReadAtLocked(*node_, offset, iovs);
}

ErrnoOr<size_t> MemFile::Pwrite(std::span<const ConstIoVec> iovs, Filesize offset) {
  if (!writable_) return Err(Errno::kBadf);
  std::lock_guard<std::mutex> node_lock(node_->mu);
  return WriteAtLocked(*node_, offset, iovs);
}

ErrnoOr<Filesize> MemFile::Seek(int64_t offset, Whence whence) {
  std::lock_guard<std::mutex> lock(mu_);
  Filesize base = 0;
  switch (whence) {
    case Whence::kSet: base = 0; break;
    case Whence::kCur: base = offset_; break;
    case Whence::kEnd: {
      std::lock_guard<std::mutex> node_lock(node_->mu);
      base = node_->bytes.size();
      break;
    }
    default: return Err(Errno::kInval);
  }
  constexpr Filesize kMaxOffset = static_cast<Filesize>(std::numeric_limits<int64_t>::max());
  Filesize result;
  if (offset < 0) {
    Filesize back = static_cast<Filesize>(-(offset + 1)) + 1;  // no overflow for INT64_MIN
    if (back > base) return Err(Errno::kInval);
    result = base - back;
  } else {
    if (static_cast<Filesize>(offset) > kMaxOffset - base) return Err(Errno::kOverflow);
    result = base + static_cast<Filesize>(offset);
  }
  offset_ = result;
  return result;
}

ErrnoOr<Filesize> MemFile::Tell() {
  std::lock_guard<std::mutex> lock(mu_);
  return offset_;
}

ErrnoOr<void> MemFile::Advise(Filesize offset, Filesize len, Advice advice) {
  if (static_cast<uint8_t>(advice) > static_cast<uint8_t>(Advice::kNoreuse)) {
    return Err(Errno::kInval);
  }
  return {};  // memory has no read-ahead to tune
}

ErrnoOr<void> MemFile::Allocate(Filesize offset, Filesize len) {
  if (len == 0) return Err(Errno::kInval);
  if (read_only_) return Err(kReadOnlyErrno);
  if (!writable_) return Err(Errno::kBadf);
  if (offset > virt::kMaxFileSize || len > virt::kMaxFileSize - offset) return Err(Errno::kFbig);
  std::lock_guard<std::mutex> node_lock(node_->mu);
  if (offset + len > node_->bytes.size()) {
    node_->bytes.resize(static_cast<size_t>(offset + len));
    node_->TouchLocked();
  }
  return {};
}

ErrnoOr<void> MemFile::SetSize(Filesize size) {
  if (read_only_) return Err(kReadOnlyErrno);
  // ftruncate(2) on a description not open for writing is EINVAL on Linux.
  if (!writable_) return Err(Errno::kInval);
  if (size > virt::kMaxFileSize) return Err(Errno::kFbig);
  std::lock_guard<std::mutex> node_lock(node_->mu);
  node_->bytes.resize(static_cast<size_t>(size));
  node_->TouchLocked();
  return {};
}

std::shared_ptr<MemFile> MakeMemFile(std::string_view initial) {
  static const Device kAnonDevice = virt::NextDevice();
  auto node = std::make_shared<virt::Node>(Filetype::kRegularFile, kAnonDevice);
  node->bytes.assign(initial.begin(), initial.end());
  // An anonymous file has no directory entry: nlink 0, as fstat reports for memfd.
  node->nlink = 0;
  return std::make_shared<MemFile>(std::move(node), Fdflags{0}, true, true);
}

}  // namespace weft::wasi
