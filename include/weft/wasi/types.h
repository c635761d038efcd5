// wasi_snapshot_preview1 ABI types and constants (witx), engine-agnostic.
#pragma once

#include <cstdint>
#include <cstddef>
#include <string>

#include "base/result.h"

namespace weft::wasi {

enum class Errno : uint16_t {
#define WEFT_ERRNO(name, value, text) name = value,
#include "weft/wasi/errno.def"
#undef WEFT_ERRNO
};
const char* ErrnoName(Errno e);     // "EBADF"-style name: "badf"
const char* ErrnoMessage(Errno e);  // "bad file descriptor"
Errno ErrnoFromHost(int host_errno);  // maps a POSIX errno to WASI

// Handle operations return a value or an Errno. (Traps are the binding's business:
// handles never see guest pointers.)
template <class T>
using ErrnoOr = weft::Result<T, Errno>;

using Fd = uint32_t;
using Filesize = uint64_t;
using Timestamp = uint64_t;  // nanoseconds
using Dircookie = uint64_t;
using Device = uint64_t;
using Inode = uint64_t;

enum class Filetype : uint8_t {
  kUnknown = 0, kBlockDevice = 1, kCharacterDevice = 2, kDirectory = 3,
  kRegularFile = 4, kSocketDgram = 5, kSocketStream = 6, kSymbolicLink = 7,
};

enum class Whence : uint8_t { kSet = 0, kCur = 1, kEnd = 2 };
enum class Advice : uint8_t { kNormal = 0, kSequential, kRandom, kWillneed, kDontneed, kNoreuse };
enum class Clockid : uint32_t { kRealtime = 0, kMonotonic = 1, kProcessCputime = 2, kThreadCputime = 3 };

using Fdflags = uint16_t;
inline constexpr Fdflags kFdflagAppend = 1 << 0, kFdflagDsync = 1 << 1, kFdflagNonblock = 1 << 2,
                         kFdflagRsync = 1 << 3, kFdflagSync = 1 << 4;
using Oflags = uint16_t;
inline constexpr Oflags kOflagCreat = 1 << 0, kOflagDirectory = 1 << 1, kOflagExcl = 1 << 2,
                        kOflagTrunc = 1 << 3;
using Lookupflags = uint32_t;
inline constexpr Lookupflags kLookupSymlinkFollow = 1 << 0;
using Fstflags = uint16_t;
inline constexpr Fstflags kFstAtim = 1 << 0, kFstAtimNow = 1 << 1, kFstMtim = 1 << 2,
                          kFstMtimNow = 1 << 3;
using Riflags = uint16_t;
inline constexpr Riflags kRiRecvPeek = 1 << 0, kRiRecvWaitall = 1 << 1;
using Roflags = uint16_t;
inline constexpr Roflags kRoRecvDataTruncated = 1 << 0;
using Siflags = uint16_t;
using Sdflags = uint8_t;
inline constexpr Sdflags kSdRd = 1 << 0, kSdWr = 1 << 1;

using Rights = uint64_t;
namespace rights {
inline constexpr Rights kFdDatasync = 1ull << 0, kFdRead = 1ull << 1, kFdSeek = 1ull << 2,
    kFdFdstatSetFlags = 1ull << 3, kFdSync = 1ull << 4, kFdTell = 1ull << 5, kFdWrite = 1ull << 6,
    kFdAdvise = 1ull << 7, kFdAllocate = 1ull << 8, kPathCreateDirectory = 1ull << 9,
    kPathCreateFile = 1ull << 10, kPathLinkSource = 1ull << 11, kPathLinkTarget = 1ull << 12,
    kPathOpen = 1ull << 13, kFdReaddir = 1ull << 14, kPathReadlink = 1ull << 15,
    kPathRenameSource = 1ull << 16, kPathRenameTarget = 1ull << 17, kPathFilestatGet = 1ull << 18,
    kPathFilestatSetSize = 1ull << 19, kPathFilestatSetTimes = 1ull << 20,
    kFdFilestatGet = 1ull << 21, kFdFilestatSetSize = 1ull << 22, kFdFilestatSetTimes = 1ull << 23,
    kPathSymlink = 1ull << 24, kPathRemoveDirectory = 1ull << 25, kPathUnlinkFile = 1ull << 26,
    kPollFdReadwrite = 1ull << 27, kSockShutdown = 1ull << 28, kSockAccept = 1ull << 29;
inline constexpr Rights kAll = (1ull << 30) - 1;
}  // namespace rights

// filestat (64 bytes in guest memory; this is the host-side form).
struct Filestat {
  Device dev = 0;
  Inode ino = 0;
  Filetype filetype = Filetype::kUnknown;
  uint64_t nlink = 0;
  Filesize size = 0;
  Timestamp atim = 0, mtim = 0, ctim = 0;
};

// One directory entry as Dir::Readdir produces it.
struct DirEntry {
  Dircookie next = 0;  // cookie of the entry after this one
  Inode ino = 0;
  Filetype type = Filetype::kUnknown;
  std::string name;
};

// A host-side scatter/gather buffer (already translated from guest memory and checked).
struct IoVec {
  uint8_t* data;
  size_t len;
};
struct ConstIoVec {
  const uint8_t* data;
  size_t len;
};

}  // namespace weft::wasi
