// Reading a module file with open/fstat/read into one exactly-sized buffer. The CLI used
// std::ifstream + istreambuf_iterator, which pulls iostreams and locale set-up into every
// start and grows the vector byte by byte; this is one allocation and one or two reads.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/populate.h"
#include "cli.h"

namespace weft::cli {
namespace {
constexpr size_t kPopulateBytes = 64 * 1024;  // below this, a fault or two at most
}  // namespace

bool ReadModuleFile(const std::string& path, std::vector<uint8_t>* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    *error = std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    *error = std::strerror(EISDIR);
    ::close(fd);
    return false;
  }
  // A regular file's size is known; a pipe or device (e.g. /dev/stdin) reports 0 and is
  // read in chunks until end of file.
  size_t capacity = S_ISREG(st.st_mode) && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  out->clear();
  // The buffer's pages are mapped in one call before the zero fill touches them
  // (base/populate.h): a 30 MB module is ~7,500 pages. A small one (hello.wasm, 5 KB)
  // lands in the heap top weft run has populated already, and the call would be wasted.
  size_t initial = capacity > 0 ? capacity : 64 * 1024;
  out->reserve(initial);
  if (initial >= kPopulateBytes) base::PopulateForWrite(out->data(), initial);
  out->resize(initial);
  size_t used = 0;
  for (;;) {
    ssize_t n;
    if (used < out->size()) {
      n = ::read(fd, out->data() + used, out->size() - used);
    } else if (capacity > 0) {
      break;  // a regular file is read to the size fstat gave: one system call fewer
    } else {
      // Full: confirm end of file through a small buffer rather than doubling a buffer
      // that is most likely exactly the file's size. Small enough not to reach a stack
      // page the process has not touched yet (a page fault at every start).
      uint8_t probe[256];
      n = ::read(fd, probe, sizeof probe);
      if (n > 0) {
        out->resize(out->size() * 2);
        std::memcpy(out->data() + used, probe, static_cast<size_t>(n));
      }
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  out->resize(used);
  return true;
}

}  // namespace weft::cli
