// fd_* bodies.
#include <cstring>
#include <string>

#include "wasi/abi/layout.h"
#include "wasi/preview1/bodies.h"
#include "wasi/preview1/common.h"
#include "wasi/sched/wait.h"

namespace weft::wasi::preview1 {

namespace {
constexpr Fdflags kAllFdflags =
    kFdflagAppend | kFdflagDsync | kFdflagNonblock | kFdflagRsync | kFdflagSync;
constexpr Fstflags kAllFstflags = kFstAtim | kFstAtimNow | kFstMtim | kFstMtimNow;
}  // namespace

// Shared by fd_filestat_set_times and path_filestat_set_times.
Result<void> CheckFstflags(u32 flags) {
  if (flags & ~u32{kAllFstflags}) return Err(Errno::kInval);
  if ((flags & kFstAtim) && (flags & kFstAtimNow)) return Err(Errno::kInval);
  if ((flags & kFstMtim) && (flags & kFstMtimNow)) return Err(Errno::kInval);
  return {};
}

Result<void> fd_advise(Call& call, u32 fd, u64 offset, u64 len, u32 advice) {
  if (advice > static_cast<u32>(Advice::kNoreuse)) return Err(Errno::kInval);
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, rights::kFdAdvise));
  WEFT_TRY(file->Advise(offset, len, static_cast<Advice>(advice)));
  return {};
}

Result<void> fd_allocate(Call& call, u32 fd, u64 offset, u64 len) {
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, rights::kFdAllocate));
  WEFT_TRY(file->Allocate(offset, len));
  return {};
}

// Close, not Remove: a handle whose type was never needed is not stat'ed now.
Result<void> fd_close(Call& call, u32 fd) {
  WEFT_TRY(call.table().Close(fd));
  return {};
}

Result<void> fd_datasync(Call& call, u32 fd) {
  WEFT_TRY_ASSIGN(auto h, call.table().GetHandle(fd, rights::kFdDatasync));
  WEFT_TRY(h->Datasync());
  return {};
}

// A table lookup plus the handle's flags: no path resolution, no stat.
Result<void> fd_fdstat_get(Call& call, u32 fd, u32 stat_out) {
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(stat_out, sizeof(abi::Fdstat), 8));
  WEFT_TRY_ASSIGN(Table::HandleRights e, call.table().GetHandleRights(fd));
  WEFT_TRY_ASSIGN(Fdflags flags, e.handle->GetFdflags());
  abi::WriteFdstat(out, e.handle->filetype(), flags, e.base, e.inheriting);
  return {};
}

Result<void> fd_fdstat_set_flags(Call& call, u32 fd, u32 flags) {
  if (flags & ~u32{kAllFdflags}) return Err(Errno::kInval);
  WEFT_TRY_ASSIGN(auto h, call.table().GetHandle(fd, rights::kFdFdstatSetFlags));
  WEFT_TRY(h->SetFdflags(static_cast<Fdflags>(flags)));
  return {};
}

// Rights may only be removed (witx: "returns notcapable if called in a way that would
// attempt to add rights").
Result<void> fd_fdstat_set_rights(Call& call, u32 fd, u64 base, u64 inheriting) {
  WEFT_TRY(call.table().SetRights(fd, base, inheriting));
  return {};
}

Result<void> fd_filestat_get(Call& call, u32 fd, u32 stat_out) {
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(stat_out, sizeof(abi::Filestat), 8));
  WEFT_TRY_ASSIGN(auto h, call.table().GetHandle(fd, rights::kFdFilestatGet));
  WEFT_TRY_ASSIGN(Filestat st, h->Stat());
  abi::WriteFilestat(out, st);
  return {};
}

Result<void> fd_filestat_set_size(Call& call, u32 fd, u64 size) {
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, rights::kFdFilestatSetSize));
  WEFT_TRY(file->SetSize(size));
  return {};
}

Result<void> fd_filestat_set_times(Call& call, u32 fd, u64 atim, u64 mtim, u32 fst_flags) {
  WEFT_TRY(CheckFstflags(fst_flags));
  WEFT_TRY_ASSIGN(auto h, call.table().GetHandle(fd, rights::kFdFilestatSetTimes));
  WEFT_TRY(h->SetTimes(atim, mtim, static_cast<Fstflags>(fst_flags)));
  return {};
}

Result<void> fd_pread(Call& call, u32 fd, u32 iovs, u32 iovs_len, u64 offset, u32 nread_out) {
  GuestIovs<IoVec> bufs;
  WEFT_TRY(bufs.Load(call, iovs, iovs_len));
  WEFT_TRY(call.Bytes(nread_out, 4, 4));
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, rights::kFdRead | rights::kFdSeek));
  WEFT_TRY_ASSIGN(size_t n, file->Pread(bufs.span(), offset));
  WEFT_TRY(call.StoreU32(nread_out, static_cast<u32>(n)));
  if (call.tracing()) call.Note("nread=" + std::to_string(n));
  return {};
}

Result<void> fd_prestat_get(Call& call, u32 fd, u32 prestat_out) {
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(prestat_out, sizeof(abi::Prestat), 4));
  WEFT_TRY_ASSIGN(Entry e, call.table().Get(fd));
  if (!e.preopen) return Err(Errno::kBadf);
  abi::WritePrestatDir(out, static_cast<u32>(e.preopen->size()));
  return {};
}

// A buffer shorter than the name is ENAMETOOLONG (wasmtime); the name is not
// NUL-terminated.
Result<void> fd_prestat_dir_name(Call& call, u32 fd, u32 path, u32 path_len) {
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(path, path_len));
  WEFT_TRY_ASSIGN(Entry e, call.table().Get(fd));
  if (!e.preopen) return Err(Errno::kBadf);
  if (path_len < e.preopen->size()) return Err(Errno::kNametoolong);
  std::memcpy(out, e.preopen->data(), e.preopen->size());
  return {};
}

Result<void> fd_pwrite(Call& call, u32 fd, u32 iovs, u32 iovs_len, u64 offset,
                       u32 nwritten_out) {
  GuestIovs<ConstIoVec> bufs;
  WEFT_TRY(bufs.Load(call, iovs, iovs_len));
  WEFT_TRY(call.Bytes(nwritten_out, 4, 4));
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, rights::kFdWrite | rights::kFdSeek));
  WEFT_TRY_ASSIGN(size_t n, file->Pwrite(bufs.span(), offset));
  WEFT_TRY(call.StoreU32(nwritten_out, static_cast<u32>(n)));
  if (call.tracing()) call.Note("nwritten=" + std::to_string(n));
  return {};
}

Result<void> fd_read(Call& call, u32 fd, u32 iovs, u32 iovs_len, u32 nread_out) {
  GuestIovs<IoVec> bufs;
  WEFT_TRY(bufs.Load(call, iovs, iovs_len));
  if (!call.Fits(nread_out, 4, 4)) [[unlikely]] return Err(call.BadPointer(nread_out, 4, 4));
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, rights::kFdRead));
  if (bufs.total() > 0) WEFT_TRY(sched::WaitReadable(call, *file));
  auto read = file->Read(bufs.span());
  if (!read.ok() && read.error() == Errno::kIntr && call.ctx().interrupted()) {
    return Err(sched::InterruptedTrap(call));
  }
  WEFT_TRY_ASSIGN(size_t n, std::move(read));
  abi::PutU32(call.At(nread_out), static_cast<u32>(n));  // checked above
  if (call.tracing()) call.Note("nread=" + std::to_string(n));
  return {};
}

// Serialises dirents (24-byte header + name) into the buffer. The last entry is cut
// off when it does not fit; bufused == buf_len then tells the guest to call again
// from that entry's cookie.
Result<void> fd_readdir(Call& call, u32 fd, u32 buf, u32 buf_len, u64 cookie, u32 bufused_out) {
  WEFT_TRY_ASSIGN(uint8_t* out, call.Bytes(buf, buf_len));
  WEFT_TRY(call.Bytes(bufused_out, 4, 4));
  WEFT_TRY_ASSIGN(auto dir, call.table().GetAs<Dir>(fd, rights::kFdReaddir));
  size_t used = 0;
  WEFT_TRY(dir->Readdir(cookie, [&](const DirEntry& e) {
    uint8_t header[sizeof(abi::Dirent)];
    abi::WriteDirentHeader(header, e);
    size_t room = buf_len - used;
    size_t n = std::min(room, sizeof header);
    std::memcpy(out + used, header, n);
    used += n;
    if (n < sizeof header) return false;
    room = buf_len - used;
    n = std::min(room, e.name.size());
    std::memcpy(out + used, e.name.data(), n);
    used += n;
    return n == e.name.size() && used < buf_len;
  }));
  WEFT_TRY(call.StoreU32(bufused_out, static_cast<u32>(used)));
  if (call.tracing()) call.Note("bufused=" + std::to_string(used));
  return {};
}

Result<void> fd_renumber(Call& call, u32 from, u32 to) {
  WEFT_TRY(call.table().Renumber(from, to));
  return {};
}

Result<void> fd_seek(Call& call, u32 fd, u64 offset, u32 whence, u32 newoffset_out) {
  if (whence > static_cast<u32>(Whence::kEnd)) return Err(Errno::kInval);
  WEFT_TRY(call.Bytes(newoffset_out, 8, 8));
  // Like wasi-common: a pure "where am I" query needs only FD_TELL.
  Rights need = (offset == 0 && whence == static_cast<u32>(Whence::kCur))
                    ? rights::kFdTell
                    : rights::kFdSeek;
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, need));
  WEFT_TRY_ASSIGN(Filesize pos, file->Seek(static_cast<int64_t>(offset), static_cast<Whence>(whence)));
  WEFT_TRY(call.StoreU64(newoffset_out, pos));
  if (call.tracing()) call.Note("newoffset=" + std::to_string(pos));
  return {};
}

Result<void> fd_sync(Call& call, u32 fd) {
  WEFT_TRY_ASSIGN(auto h, call.table().GetHandle(fd, rights::kFdSync));
  WEFT_TRY(h->Sync());
  return {};
}

Result<void> fd_tell(Call& call, u32 fd, u32 offset_out) {
  WEFT_TRY(call.Bytes(offset_out, 8, 8));
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, rights::kFdTell));
  WEFT_TRY_ASSIGN(Filesize pos, file->Tell());
  WEFT_TRY(call.StoreU64(offset_out, pos));
  return {};
}

Result<void> fd_write(Call& call, u32 fd, u32 iovs, u32 iovs_len, u32 nwritten_out) {
  GuestIovs<ConstIoVec> bufs;
  WEFT_TRY(bufs.Load(call, iovs, iovs_len));
  if (!call.Fits(nwritten_out, 4, 4)) [[unlikely]] return Err(call.BadPointer(nwritten_out, 4, 4));
  WEFT_TRY_ASSIGN(auto file, GetFile(call, fd, rights::kFdWrite));
  // A write into a full in-process channel blocks inside the handle, which
  // Ctx::Interrupt() wakes; do not start one once interrupted. (A host pipe's write(2)
  // is not interruptible this way; it rarely blocks for long.)
  if (call.ctx().interrupted()) return Err(sched::InterruptedTrap(call));
  auto written = file->Write(bufs.span());
  if (!written.ok() && written.error() == Errno::kIntr && call.ctx().interrupted()) {
    return Err(sched::InterruptedTrap(call));
  }
  WEFT_TRY_ASSIGN(size_t n, std::move(written));
  abi::PutU32(call.At(nwritten_out), static_cast<u32>(n));  // checked above
  if (call.tracing()) call.Note("nwritten=" + std::to_string(n));
  return {};
}

}  // namespace weft::wasi::preview1
