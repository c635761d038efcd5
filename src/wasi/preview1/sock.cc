// sock_* bodies. An fd that is open but not a socket answers ENOTSOCK (as wasmtime's
// preview1 does); the File defaults do so for files, and directories are refused here.
#include <string>

#include "wasi/preview1/bodies.h"
#include "wasi/sched/wait.h"
#include "wasi/preview1/common.h"

namespace weft::wasi::preview1 {

namespace {
Result<std::shared_ptr<File>> GetSocket(Call& call, Fd fd, Rights required) {
  WEFT_TRY_ASSIGN(auto hr, call.table().GetHandleAndRights(fd));
  File* f = hr.first->AsFile();
  if (f == nullptr) return Err(Errno::kNotsock);
  if ((hr.second & required) != required) return Err(Errno::kNotcapable);
  return std::shared_ptr<File>(hr.first, f);
}
}  // namespace

Result<void> sock_accept(Call& call, u32 fd, u32 flags, u32 fd_out) {
  if (flags & ~u32{kFdflagNonblock}) return Err(Errno::kInval);
  WEFT_TRY(call.Bytes(fd_out, 4, 4));
  WEFT_TRY_ASSIGN(auto sock, GetSocket(call, fd, rights::kSockAccept));
  // Like fd_read: a blocking accept waits where Ctx::Interrupt() can wake it.
  WEFT_TRY(sched::WaitReadable(call, *sock));
  WEFT_TRY_ASSIGN(std::shared_ptr<File> conn, sock->SockAccept(static_cast<Fdflags>(flags)));
  WEFT_TRY_ASSIGN(Fd new_fd, call.table().Push(Entry::For(std::move(conn))));
  WEFT_TRY(call.StoreU32(fd_out, new_fd));
  return {};
}

Result<void> sock_recv(Call& call, u32 fd, u32 ri_data, u32 ri_data_len, u32 ri_flags,
                       u32 ro_datalen_out, u32 ro_flags_out) {
  if (ri_flags & ~u32{kRiRecvPeek | kRiRecvWaitall}) return Err(Errno::kInval);
  GuestIovs<IoVec> bufs;
  WEFT_TRY(bufs.Load(call, ri_data, ri_data_len));
  WEFT_TRY(call.Bytes(ro_datalen_out, 4, 4));
  WEFT_TRY(call.Bytes(ro_flags_out, 2, 2));
  WEFT_TRY_ASSIGN(auto sock, GetSocket(call, fd, rights::kFdRead));
  if (bufs.total() > 0) WEFT_TRY(sched::WaitReadable(call, *sock));
  WEFT_TRY_ASSIGN(File::RecvResult r, sock->SockRecv(bufs.span(), static_cast<Riflags>(ri_flags)));
  WEFT_TRY(call.StoreU32(ro_datalen_out, static_cast<u32>(r.size)));
  WEFT_TRY_ASSIGN(uint8_t* fl, call.Bytes(ro_flags_out, 2, 2));
  abi::PutU16(fl, r.flags);
  return {};
}

Result<void> sock_send(Call& call, u32 fd, u32 si_data, u32 si_data_len, u32 si_flags,
                       u32 so_datalen_out) {
  if (si_flags != 0) return Err(Errno::kInval);  // witx defines no siflags
  GuestIovs<ConstIoVec> bufs;
  WEFT_TRY(bufs.Load(call, si_data, si_data_len));
  WEFT_TRY(call.Bytes(so_datalen_out, 4, 4));
  WEFT_TRY_ASSIGN(auto sock, GetSocket(call, fd, rights::kFdWrite));
  WEFT_TRY_ASSIGN(size_t n, sock->SockSend(bufs.span(), static_cast<Siflags>(si_flags)));
  WEFT_TRY(call.StoreU32(so_datalen_out, static_cast<u32>(n)));
  return {};
}

Result<void> sock_shutdown(Call& call, u32 fd, u32 how) {
  if (how & ~u32{kSdRd | kSdWr}) return Err(Errno::kInval);
  WEFT_TRY_ASSIGN(auto sock, GetSocket(call, fd, rights::kSockShutdown));
  if (how == 0) return Err(Errno::kInval);  // neither direction
  WEFT_TRY(sock->SockShutdown(static_cast<Sdflags>(how)));
  return {};
}

}  // namespace weft::wasi::preview1
