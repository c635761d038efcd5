// In-process pipes: ReadPipe hands the guest bytes to read; WritePipe collects what the
// guest writes into a buffer the host can read at any time.
//
// Thread safety: both are safe to use from several threads at once (one mutex each).
// Neither ever blocks: a ReadPipe at its end reads 0 bytes (end of file); a WritePipe
// always accepts everything. Both are always ready for poll_oneoff.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "weft/wasi/handle.h"

namespace weft::wasi {

class ReadPipe : public File {
 public:
  explicit ReadPipe(std::vector<uint8_t> bytes);
  explicit ReadPipe(std::string_view text);

  Filetype filetype() const override { return Filetype::kUnknown; }
  ErrnoOr<Filestat> Stat() override;
  ErrnoOr<size_t> Read(std::span<const IoVec> iovs) override;
  Readiness CheckReadiness(Interest interest) override;
  // Bytes not read yet.
  size_t remaining() const;

 private:
  mutable std::mutex mu_;
  std::vector<uint8_t> bytes_;  // guarded by mu_
  size_t pos_ = 0;              // guarded by mu_
};

class WritePipe : public File {
 public:
  WritePipe() = default;

  Filetype filetype() const override { return Filetype::kUnknown; }
  ErrnoOr<Filestat> Stat() override;
  ErrnoOr<size_t> Write(std::span<const ConstIoVec> iovs) override;
  Readiness CheckReadiness(Interest interest) override;

  // A copy of everything written so far.
  std::string Contents() const;
  std::vector<uint8_t> Bytes() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::vector<uint8_t> buffer_;  // guarded by mu_
};

}  // namespace weft::wasi
