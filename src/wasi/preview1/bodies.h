// Declarations of every wasi_snapshot_preview1 body (one per row of preview1.def).
// Parameters are the raw wasm values: uint32_t for i32, uint64_t for i64. Results are
// stored through the guest out-pointers by the body; the return value is the errno.
#pragma once

#include <cstdint>

#include "weft/wasi/preview1.h"

namespace weft::wasi::preview1 {

using u32 = uint32_t;
using u64 = uint64_t;

Result<void> args_get(Call&, u32 argv, u32 argv_buf);
Result<void> args_sizes_get(Call&, u32 argc_out, u32 argv_buf_size_out);
Result<void> environ_get(Call&, u32 environ, u32 environ_buf);
Result<void> environ_sizes_get(Call&, u32 count_out, u32 buf_size_out);
Result<void> clock_res_get(Call&, u32 id, u32 res_out);
Result<void> clock_time_get(Call&, u32 id, u64 precision, u32 time_out);
Result<void> fd_advise(Call&, u32 fd, u64 offset, u64 len, u32 advice);
Result<void> fd_allocate(Call&, u32 fd, u64 offset, u64 len);
Result<void> fd_close(Call&, u32 fd);
Result<void> fd_datasync(Call&, u32 fd);
Result<void> fd_fdstat_get(Call&, u32 fd, u32 stat_out);
Result<void> fd_fdstat_set_flags(Call&, u32 fd, u32 flags);
Result<void> fd_fdstat_set_rights(Call&, u32 fd, u64 base, u64 inheriting);
Result<void> fd_filestat_get(Call&, u32 fd, u32 stat_out);
Result<void> fd_filestat_set_size(Call&, u32 fd, u64 size);
Result<void> fd_filestat_set_times(Call&, u32 fd, u64 atim, u64 mtim, u32 fst_flags);
Result<void> fd_pread(Call&, u32 fd, u32 iovs, u32 iovs_len, u64 offset, u32 nread_out);
Result<void> fd_prestat_get(Call&, u32 fd, u32 prestat_out);
Result<void> fd_prestat_dir_name(Call&, u32 fd, u32 path, u32 path_len);
Result<void> fd_pwrite(Call&, u32 fd, u32 iovs, u32 iovs_len, u64 offset, u32 nwritten_out);
Result<void> fd_read(Call&, u32 fd, u32 iovs, u32 iovs_len, u32 nread_out);
Result<void> fd_readdir(Call&, u32 fd, u32 buf, u32 buf_len, u64 cookie, u32 bufused_out);
Result<void> fd_renumber(Call&, u32 from, u32 to);
Result<void> fd_seek(Call&, u32 fd, u64 offset, u32 whence, u32 newoffset_out);
Result<void> fd_sync(Call&, u32 fd);
Result<void> fd_tell(Call&, u32 fd, u32 offset_out);
Result<void> fd_write(Call&, u32 fd, u32 iovs, u32 iovs_len, u32 nwritten_out);
Result<void> path_create_directory(Call&, u32 fd, u32 path, u32 path_len);
Result<void> path_filestat_get(Call&, u32 fd, u32 flags, u32 path, u32 path_len, u32 stat_out);
Result<void> path_filestat_set_times(Call&, u32 fd, u32 flags, u32 path, u32 path_len, u64 atim,
                                     u64 mtim, u32 fst_flags);
Result<void> path_link(Call&, u32 old_fd, u32 old_flags, u32 old_path, u32 old_len, u32 new_fd,
                       u32 new_path, u32 new_len);
Result<void> path_open(Call&, u32 fd, u32 dirflags, u32 path, u32 path_len, u32 oflags,
                       u64 rights_base, u64 rights_inheriting, u32 fdflags, u32 fd_out);
Result<void> path_readlink(Call&, u32 fd, u32 path, u32 path_len, u32 buf, u32 buf_len,
                           u32 bufused_out);
Result<void> path_remove_directory(Call&, u32 fd, u32 path, u32 path_len);
Result<void> path_rename(Call&, u32 fd, u32 old_path, u32 old_len, u32 new_fd, u32 new_path,
                         u32 new_len);
Result<void> path_symlink(Call&, u32 old_path, u32 old_len, u32 fd, u32 new_path, u32 new_len);
Result<void> path_unlink_file(Call&, u32 fd, u32 path, u32 path_len);
Result<void> poll_oneoff(Call&, u32 in, u32 out, u32 nsubscriptions, u32 nevents_out);
Result<void> proc_exit(Call&, u32 code);
Result<void> proc_raise(Call&, u32 sig);
Result<void> sched_yield(Call&);
Result<void> random_get(Call&, u32 buf, u32 buf_len);
Result<void> sock_accept(Call&, u32 fd, u32 flags, u32 fd_out);
Result<void> sock_recv(Call&, u32 fd, u32 ri_data, u32 ri_data_len, u32 ri_flags,
                       u32 ro_datalen_out, u32 ro_flags_out);
Result<void> sock_send(Call&, u32 fd, u32 si_data, u32 si_data_len, u32 si_flags,
                       u32 so_datalen_out);
Result<void> sock_shutdown(Call&, u32 fd, u32 how);

}  // namespace weft::wasi::preview1
