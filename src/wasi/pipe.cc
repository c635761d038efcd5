#include "weft/wasi/pipe.h"

#include <algorithm>
#include <cstring>

namespace weft::wasi {
namespace {

// An in-memory pipe has no device, inode or times: only its type and one link.
Filestat PipeStat(Filetype type) {
  Filestat st;
  st.filetype = type;
  st.nlink = 1;
  return st;
}

}  // namespace

ReadPipe::ReadPipe(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
ReadPipe::ReadPipe(std::string_view text) : bytes_(text.begin(), text.end()) {}

ErrnoOr<Filestat> ReadPipe::Stat() { return PipeStat(filetype()); }

ErrnoOr<size_t> ReadPipe::Read(std::span<const IoVec> iovs) {
  std::lock_guard lock(mu_);
  size_t total = 0;
  for (const IoVec& v : iovs) {
    size_t n = std::min(v.len, bytes_.size() - pos_);
    if (n) std::memcpy(v.data, bytes_.data() + pos_, n);
    pos_ += n;
    total += n;
    if (pos_ == bytes_.size()) break;
  }
  return total;
}

Readiness ReadPipe::CheckReadiness(Interest interest) {
  Readiness r;
  if (interest == Interest::kWrite) {
    r.error = Errno::kBadf;
    return r;
  }
  std::lock_guard lock(mu_);
  r.nbytes = bytes_.size() - pos_;
  r.hangup = r.nbytes == 0;  // end of data: fd_read returns 0
  return r;
}

size_t ReadPipe::remaining() const {
  std::lock_guard lock(mu_);
  return bytes_.size() - pos_;
}

ErrnoOr<Filestat> WritePipe::Stat() { return PipeStat(filetype()); }

ErrnoOr<size_t> WritePipe::Write(std::span<const ConstIoVec> iovs) {
  std::lock_guard lock(mu_);
  size_t total = 0;
  for (const ConstIoVec& v : iovs) {
    buffer_.insert(buffer_.end(), v.data, v.data + v.len);
    total += v.len;
  }
  return total;
}

Readiness WritePipe::CheckReadiness(Interest interest) {
  Readiness r;
  if (interest == Interest::kRead) {
    r.error = Errno::kBadf;
    return r;
  }
  r.nbytes = 65536;  // always accepts; report a pipe-buffer's worth
  return r;
}

std::string WritePipe::Contents() const {
  std::lock_guard lock(mu_);
  return std::string(buffer_.begin(), buffer_.end());
}

std::vector<uint8_t> WritePipe::Bytes() const {
  std::lock_guard lock(mu_);
  return buffer_;
}

void WritePipe::Clear() {
  std::lock_guard lock(mu_);
  buffer_.clear();
}

}  // namespace weft::wasi
