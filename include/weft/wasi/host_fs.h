// The sandboxed host filesystem (only with WEFT_HOST_FS=1; see DESIGN.md "Sandboxing").
#pragma once

#include <memory>
#include <string_view>

#include "weft/wasi/handle.h"

namespace weft::wasi {

// Opens `host_path` (a directory) as a preopen. Every path a guest resolves under the
// returned Dir stays beneath it. With `read_only`, every operation that would modify
// the filesystem fails (EROFS... or ENOTCAPABLE/EPERM as documented in host_dir.cc)
// and files open only for reading.
ErrnoOr<std::shared_ptr<Dir>> OpenHostDir(std::string_view host_path, bool read_only);

}  // namespace weft::wasi
