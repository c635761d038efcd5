// The sandboxed host filesystem (only with WEFT_HOST_FS=1; see DESIGN.md "Sandboxing").
#pragma once

#include <memory>
#include <string_view>

#include "weft/wasi/handle.h"

namespace weft::wasi {

// Opens `host_path` (a directory) as a preopen. `host_path` itself is the embedder's and
// is resolved normally (symlinks allowed); every path a guest resolves under the
// returned Dir stays beneath it: an absolute path, ".." above it, or a symlink leading
// out (at any depth, followed or not, or swapped in concurrently) fails with EPERM, as
// in wasmtime. With `read_only`, every operation that would modify the filesystem
// (create, open for writing, truncate, unlink, rename, link, symlink, mkdir, rmdir,
// set_times, set_size) fails with EPERM (wasmtime's answer for a preopen without
// mutate/write permission), files open only for reading, and directories opened
// beneath it are read-only too. Errors: ENOENT, ENOTDIR, EACCES... from open(2).
// Thread-safe; the returned Dir may be shared by any number of tables and threads.
ErrnoOr<std::shared_ptr<Dir>> OpenHostDir(std::string_view host_path, bool read_only);

}  // namespace weft::wasi
