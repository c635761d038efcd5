// path_* bodies. Path resolution and the sandbox are the Dir's business (see
// handle.h); these bodies check guest memory, flags, rights and UTF-8, then delegate.
#include <algorithm>
#include <cstring>
#include <string>

#include "wasi/abi/layout.h"
#include "wasi/preview1/bodies.h"
#include "wasi/preview1/common.h"

namespace weft::wasi::preview1 {

namespace {
constexpr Oflags kAllOflags = kOflagCreat | kOflagDirectory | kOflagExcl | kOflagTrunc;
constexpr Fdflags kAllFdflags =
    kFdflagAppend | kFdflagDsync | kFdflagNonblock | kFdflagRsync | kFdflagSync;

Result<void> CheckLookup(u32 flags) {
  if (flags & ~u32{kLookupSymlinkFollow}) return Err(Errno::kInval);
  return {};
}
}  // namespace

Result<void> path_create_directory(Call& call, u32 fd, u32 path, u32 path_len) {
  WEFT_TRY_ASSIGN(std::string_view p, call.String(path, path_len));
  WEFT_TRY_ASSIGN(auto dir, GetDir(call, fd, rights::kPathCreateDirectory));
  WEFT_TRY(dir->CreateDir(p));
  return {};
}

Result<void> path_filestat_get(Call& call, u32 fd, u32 flags, u32 path, u32 path_len,
                               u32 stat_out) {
  WEFT_TRY(CheckLookup(flags));
  WEFT_TRY_ASSIGN(std::string_view p, call.String(path, path_len));
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(stat_out, sizeof(abi::Filestat), 8));
  WEFT_TRY_ASSIGN(auto dir, GetDir(call, fd, rights::kPathFilestatGet));
  WEFT_TRY_ASSIGN(Filestat st, dir->StatAt(flags, p));
  abi::WriteFilestat(out, st);
  return {};
}

Result<void> path_filestat_set_times(Call& call, u32 fd, u32 flags, u32 path, u32 path_len,
                                     u64 atim, u64 mtim, u32 fst_flags) {
  WEFT_TRY(CheckLookup(flags));
  WEFT_TRY(CheckFstflags(fst_flags));
  WEFT_TRY_ASSIGN(std::string_view p, call.String(path, path_len));
  WEFT_TRY_ASSIGN(auto dir, GetDir(call, fd, rights::kPathFilestatSetTimes));
  WEFT_TRY(dir->SetTimesAt(flags, p, atim, mtim, static_cast<Fstflags>(fst_flags)));
  return {};
}

Result<void> path_link(Call& call, u32 old_fd, u32 old_flags, u32 old_path, u32 old_len,
                       u32 new_fd, u32 new_path, u32 new_len) {
  WEFT_TRY(CheckLookup(old_flags));
  WEFT_TRY_ASSIGN(std::string_view op, call.String(old_path, old_len));
  WEFT_TRY_ASSIGN(std::string_view np, call.String(new_path, new_len));
  WEFT_TRY_ASSIGN(auto old_dir, GetDir(call, old_fd, rights::kPathLinkSource));
  WEFT_TRY_ASSIGN(auto new_dir, GetDir(call, new_fd, rights::kPathLinkTarget));
  WEFT_TRY(old_dir->Link(old_flags, op, *new_dir, np));
  return {};
}

// Read/write access derives from the requested rights (as wasmtime: FD_READ and
// FD_WRITE; weft also counts FD_READDIR as read and FD_ALLOCATE/FD_FILESTAT_SET_SIZE
// as write). The new fd gets the requested rights narrowed to what the directory may
// hand down (its inheriting rights) and to what makes sense for the opened handle.
Result<void> path_open(Call& call, u32 fd, u32 dirflags, u32 path, u32 path_len, u32 oflags,
                       u64 rights_base, u64 rights_inheriting, u32 fdflags, u32 fd_out) {
  WEFT_TRY(CheckLookup(dirflags));
  if (oflags & ~u32{kAllOflags}) return Err(Errno::kInval);
  if (fdflags & ~u32{kAllFdflags}) return Err(Errno::kInval);
  WEFT_TRY_ASSIGN(std::string_view p, call.String(path, path_len));
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(fd_out, 4, 4));
  WEFT_TRY_ASSIGN(Table::HandleRights parent, call.table().GetHandleRights(fd));
  if (parent.handle->AsDir() == nullptr) {
    return Err(parent.handle->filetype() == Filetype::kRegularFile ? Errno::kNotdir
                                                                    : Errno::kBadf);
  }
  if ((parent.base & rights::kPathOpen) == 0) return Err(Errno::kNotcapable);
  OpenOptions opts;
  opts.lookup = dirflags;
  opts.oflags = static_cast<Oflags>(oflags);
  opts.fdflags = static_cast<Fdflags>(fdflags);
  opts.read = (rights_base & (rights::kFdRead | rights::kFdReaddir)) != 0;
  opts.write = (rights_base & (rights::kFdWrite | rights::kFdAllocate |
                               rights::kFdFilestatSetSize)) != 0;
  // The handle may come back with its type unknown (no fstat(2)); the table finds it
  // when a later call needs it (Entry::unsettled), which open + close never does.
  opts.defer_type = true;
  WEFT_TRY_ASSIGN(std::shared_ptr<Handle> h, parent.handle->AsDir()->OpenAt(p, opts));
  if ((oflags & kOflagDirectory) && h->AsDir() == nullptr) return Err(Errno::kNotdir);
  WEFT_TRY_ASSIGN(Fd new_fd,
                  call.table().PushNarrowed(std::move(h), rights_base & parent.inheriting,
                                            rights_inheriting & parent.inheriting));
  abi::PutU32(out, new_fd);  // checked above (Call's view of memory is fixed for the call)
  if (call.tracing()) call.Note("fd=" + std::to_string(new_fd));
  return {};
}

// The link text is truncated to the buffer, as readlink(2) and wasmtime do.
Result<void> path_readlink(Call& call, u32 fd, u32 path, u32 path_len, u32 buf, u32 buf_len,
                           u32 bufused_out) {
  WEFT_TRY_ASSIGN(std::string_view p, call.String(path, path_len));
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(buf, buf_len));
  WEFT_TRY(call.Bytes(bufused_out, 4, 4));
  WEFT_TRY_ASSIGN(auto dir, GetDir(call, fd, rights::kPathReadlink));
  WEFT_TRY_ASSIGN(std::string target, dir->Readlink(p));
  size_t n = std::min<size_t>(target.size(), buf_len);
  std::memcpy(out, target.data(), n);
  WEFT_TRY(call.StoreU32(bufused_out, static_cast<u32>(n)));
  return {};
}

Result<void> path_remove_directory(Call& call, u32 fd, u32 path, u32 path_len) {
  WEFT_TRY_ASSIGN(std::string_view p, call.String(path, path_len));
  WEFT_TRY_ASSIGN(auto dir, GetDir(call, fd, rights::kPathRemoveDirectory));
  WEFT_TRY(dir->RemoveDir(p));
  return {};
}

Result<void> path_rename(Call& call, u32 fd, u32 old_path, u32 old_len, u32 new_fd,
                         u32 new_path, u32 new_len) {
  WEFT_TRY_ASSIGN(std::string_view op, call.String(old_path, old_len));
  WEFT_TRY_ASSIGN(std::string_view np, call.String(new_path, new_len));
  WEFT_TRY_ASSIGN(auto old_dir, GetDir(call, fd, rights::kPathRenameSource));
  WEFT_TRY_ASSIGN(auto new_dir, GetDir(call, new_fd, rights::kPathRenameTarget));
  WEFT_TRY(old_dir->Rename(op, *new_dir, np));
  return {};
}

Result<void> path_symlink(Call& call, u32 old_path, u32 old_len, u32 fd, u32 new_path,
                          u32 new_len) {
  WEFT_TRY_ASSIGN(std::string_view target, call.String(old_path, old_len));
  WEFT_TRY_ASSIGN(std::string_view link, call.String(new_path, new_len));
  WEFT_TRY_ASSIGN(auto dir, GetDir(call, fd, rights::kPathSymlink));
  WEFT_TRY(dir->Symlink(target, link));
  return {};
}

Result<void> path_unlink_file(Call& call, u32 fd, u32 path, u32 path_len) {
  WEFT_TRY_ASSIGN(std::string_view p, call.String(path, path_len));
  WEFT_TRY_ASSIGN(auto dir, GetDir(call, fd, rights::kPathUnlinkFile));
  WEFT_TRY(dir->UnlinkFile(p));
  return {};
}

}  // namespace weft::wasi::preview1
