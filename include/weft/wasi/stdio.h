// The host's standard streams as handles.
#pragma once

#include <memory>

#include "weft/wasi/handle.h"

namespace weft::wasi {

// FdFiles over the host's fds 0, 1 and 2 that never close them. Writes go straight to
// the host fd (nothing is buffered), so no output is lost when a guest exits or traps.
std::shared_ptr<File> HostStdin();
std::shared_ptr<File> HostStdout();
std::shared_ptr<File> HostStderr();

// A File that accepts and discards every write (wasmtime's default stdout/stderr).
std::shared_ptr<File> NullSink();

}  // namespace weft::wasi
