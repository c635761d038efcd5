// Helpers shared by the File and Dir tests of every backend (host, virtual, channel,
// socket): building OpenOptions, taking the errno of a result, writing a string.
// Header-only, no host filesystem needed (built with WEFT_HOST_FS=OFF too).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "weft/wasi/handle.h"

namespace weft::wasi::testing {

// OpenOptions for Dir::OpenAt; by default a plain read-only open.
inline OpenOptions Opts(Oflags oflags = 0, bool read = true, bool write = false,
                        Lookupflags lookup = 0, Fdflags fdflags = 0) {
  OpenOptions o;
  o.oflags = oflags;
  o.read = read;
  o.write = write;
  o.lookup = lookup;
  o.fdflags = fdflags;
  return o;
}

// The errno of a result: kSuccess when it holds a value.
template <class R>
Errno ErrOf(const R& r) {
  return r.ok() ? Errno::kSuccess : r.error();
}

// One File::Write of all of `s`; the count written or the errno.
inline ErrnoOr<size_t> WriteStr(File& f, std::string_view s) {
  ConstIoVec v{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  return f.Write(std::span<const ConstIoVec>(&v, 1));
}

// WriteStr for a write that must succeed: the count written (0, and a test failure,
// on error).
inline size_t WriteOk(File& f, std::string_view s) {
  auto r = WriteStr(f, s);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : 0;
}

}  // namespace weft::wasi::testing
