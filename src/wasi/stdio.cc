#include "weft/wasi/stdio.h"

#include "weft/wasi/fd_file.h"

namespace weft::wasi {

namespace {
class NullFile final : public File {
 public:
  Filetype filetype() const override { return Filetype::kUnknown; }
  ErrnoOr<size_t> Write(std::span<const ConstIoVec> iovs) override {
    size_t n = 0;
    for (const ConstIoVec& v : iovs) n += v.len;
    return n;
  }
};
}  // namespace

std::shared_ptr<File> HostStdin() { return std::make_shared<FdFile>(0, false); }
std::shared_ptr<File> HostStdout() { return std::make_shared<FdFile>(1, false); }
std::shared_ptr<File> HostStderr() { return std::make_shared<FdFile>(2, false); }
std::shared_ptr<File> NullSink() { return std::make_shared<NullFile>(); }

}  // namespace weft::wasi
