// Helpers shared by the preview1 bodies: typed fd lookups and guest iovec gathering.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "wasi/abi/layout.h"
#include "weft/wasi/handle.h"
#include "weft/wasi/preview1.h"

namespace weft::wasi::preview1 {

// A File with `required` rights. A missing FD_READ/FD_WRITE right is EBADF, as POSIX
// and wasmtime answer for reading a write-only (or writing a read-only) descriptor;
// other missing rights are ENOTCAPABLE. A non-file is EBADF.
inline Result<std::shared_ptr<File>> GetFile(Call& call, Fd fd, Rights required) {
  auto f = call.table().GetAs<File>(fd, required);
  if (!f.ok()) {
    Errno e = f.error();
    constexpr Rights kRw = rights::kFdRead | rights::kFdWrite;
    if (e == Errno::kNotcapable && (required & kRw) &&
        call.table().GetAs<File>(fd, required & ~kRw).ok()) {
      e = Errno::kBadf;  // the missing right was FD_READ or FD_WRITE
    }
    return Err(e);
  }
  return std::move(f).value();
}

// The directory a path_* call resolves under: EBADF if `fd` is not open, ENOTDIR if it
// is a regular file (wasmtime's answer), EBADF for other non-directories.
inline Result<std::shared_ptr<Dir>> GetDir(Call& call, Fd fd, Rights required) {
  WEFT_TRY_ASSIGN(auto hr, call.table().GetHandleAndRights(fd));
  std::shared_ptr<Handle>& h = hr.first;
  Dir* dir = h->AsDir();
  if (dir == nullptr) {
    return Err(h->filetype() == Filetype::kRegularFile ? Errno::kNotdir : Errno::kBadf);
  }
  if ((hr.second & required) != required) return Err(Errno::kNotcapable);
  return std::shared_ptr<Dir>(std::move(h), dir);  // (aliasing move: no count change)
}

// EINVAL for unknown fstflags bits or for X together with X_NOW.
Result<void> CheckFstflags(uint32_t flags);

// A guest iovec array translated to host buffers, every buffer bounds-checked first.
// Small arrays live on the stack, so the fd_read/fd_write hot path does not allocate.
template <class V>  // IoVec or ConstIoVec
class GuestIovs {
 public:
  Result<void> Load(const Call& call, uint32_t iovs, uint32_t count) {
    uint64_t bytes = uint64_t{count} * sizeof(abi::Iovec);
    if (!call.Fits(iovs, bytes, 4)) [[unlikely]] return Err(call.BadPointer(iovs, bytes, 4));
    const uint8_t* arr = call.At(iovs);
    if (count > kInline) {
      heap_.resize(count);
      data_ = heap_.data();
    }
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t buf = abi::GetU32(arr + 8 * i);
      uint32_t len = abi::GetU32(arr + 8 * i + 4);
      if (!call.Fits(buf, len)) [[unlikely]] return Err(call.BadPointer(buf, len, 1));
      data_[i] = V{call.At(buf), len};
      total_ += len;
    }
    size_ = count;
    return {};
  }
  std::span<const V> span() const { return {data_, size_}; }
  uint64_t total() const { return total_; }

 private:
  static constexpr uint32_t kInline = 16;
  V inline_[kInline];
  std::vector<V> heap_;
  V* data_ = inline_;
  size_t size_ = 0;
  uint64_t total_ = 0;
};

}  // namespace weft::wasi::preview1
