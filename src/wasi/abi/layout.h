// Guest-memory layouts of the wasi_snapshot_preview1 structs, exactly as witx lays them
// out for wasm32, and field-by-field little-endian (de)serialisation. The structs are
// never memcpy'd whole: they exist to pin offsets and sizes with static_asserts.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "weft/wasi/types.h"

namespace weft::wasi::abi {

static_assert(std::endian::native == std::endian::little,
              "the guest ABI is little-endian; add byte swaps for a big-endian host");

inline void PutU8(uint8_t* p, uint8_t v) { *p = v; }
inline void PutU16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void PutU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void PutU64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint16_t GetU16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t GetU32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t GetU64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

struct Iovec {  // iovec and ciovec
  uint32_t buf;
  uint32_t buf_len;
};
static_assert(sizeof(Iovec) == 8 && alignof(Iovec) == 4);

struct Fdstat {
  uint8_t fs_filetype;
  uint16_t fs_flags;
  uint64_t fs_rights_base;
  uint64_t fs_rights_inheriting;
};
static_assert(sizeof(Fdstat) == 24 && alignof(Fdstat) == 8);
static_assert(offsetof(Fdstat, fs_flags) == 2 && offsetof(Fdstat, fs_rights_base) == 8 &&
              offsetof(Fdstat, fs_rights_inheriting) == 16);

struct Filestat {
  uint64_t dev;
  uint64_t ino;
  uint8_t filetype;
  uint64_t nlink;
  uint64_t size;
  uint64_t atim;
  uint64_t mtim;
  uint64_t ctim;
};
static_assert(sizeof(Filestat) == 64 && alignof(Filestat) == 8);
static_assert(offsetof(Filestat, filetype) == 16 && offsetof(Filestat, nlink) == 24 &&
              offsetof(Filestat, size) == 32 && offsetof(Filestat, atim) == 40 &&
              offsetof(Filestat, mtim) == 48 && offsetof(Filestat, ctim) == 56);

struct Dirent {  // followed by d_namlen bytes of name
  uint64_t d_next;
  uint64_t d_ino;
  uint32_t d_namlen;
  uint8_t d_type;
};
static_assert(sizeof(Dirent) == 24 && alignof(Dirent) == 8);
static_assert(offsetof(Dirent, d_ino) == 8 && offsetof(Dirent, d_namlen) == 16 &&
              offsetof(Dirent, d_type) == 20);

struct Prestat {
  uint8_t tag;  // 0 = dir
  uint32_t pr_name_len;
};
static_assert(sizeof(Prestat) == 8 && alignof(Prestat) == 4 && offsetof(Prestat, pr_name_len) == 4);

struct SubscriptionClock {
  uint32_t id;
  uint64_t timeout;
  uint64_t precision;
  uint16_t flags;
};
static_assert(sizeof(SubscriptionClock) == 32 && offsetof(SubscriptionClock, timeout) == 8 &&
              offsetof(SubscriptionClock, precision) == 16 && offsetof(SubscriptionClock, flags) == 24);

struct Subscription {
  uint64_t userdata;
  uint8_t tag;  // 0 clock, 1 fd_read, 2 fd_write
  union {
    SubscriptionClock clock;
    uint32_t fd;
  } u;
};
static_assert(sizeof(Subscription) == 48 && alignof(Subscription) == 8);
static_assert(offsetof(Subscription, tag) == 8 && offsetof(Subscription, u) == 16);

struct Event {
  uint64_t userdata;
  uint16_t error;
  uint8_t type;
  uint64_t nbytes;  // event_fd_readwrite
  uint16_t flags;
};
static_assert(sizeof(Event) == 32 && alignof(Event) == 8);
static_assert(offsetof(Event, error) == 8 && offsetof(Event, type) == 10 &&
              offsetof(Event, nbytes) == 16 && offsetof(Event, flags) == 24);

inline constexpr uint8_t kEventClock = 0, kEventFdRead = 1, kEventFdWrite = 2;
inline constexpr uint16_t kSubclockAbstime = 1;
inline constexpr uint16_t kEventFdReadwriteHangup = 1;

inline void WriteFdstat(uint8_t* p, Filetype type, Fdflags flags, Rights base, Rights inheriting) {
  std::memset(p, 0, sizeof(Fdstat));
  PutU8(p + offsetof(Fdstat, fs_filetype), static_cast<uint8_t>(type));
  PutU16(p + offsetof(Fdstat, fs_flags), flags);
  PutU64(p + offsetof(Fdstat, fs_rights_base), base);
  PutU64(p + offsetof(Fdstat, fs_rights_inheriting), inheriting);
}

inline void WriteFilestat(uint8_t* p, const wasi::Filestat& st) {
  std::memset(p, 0, sizeof(Filestat));
  PutU64(p + offsetof(Filestat, dev), st.dev);
  PutU64(p + offsetof(Filestat, ino), st.ino);
  PutU8(p + offsetof(Filestat, filetype), static_cast<uint8_t>(st.filetype));
  PutU64(p + offsetof(Filestat, nlink), st.nlink);
  PutU64(p + offsetof(Filestat, size), st.size);
  PutU64(p + offsetof(Filestat, atim), st.atim);
  PutU64(p + offsetof(Filestat, mtim), st.mtim);
  PutU64(p + offsetof(Filestat, ctim), st.ctim);
}

// Writes a dirent header into a 24-byte buffer.
inline void WriteDirentHeader(uint8_t* p, const DirEntry& e) {
  std::memset(p, 0, sizeof(Dirent));
  PutU64(p + offsetof(Dirent, d_next), e.next);
  PutU64(p + offsetof(Dirent, d_ino), e.ino);
  PutU32(p + offsetof(Dirent, d_namlen), static_cast<uint32_t>(e.name.size()));
  PutU8(p + offsetof(Dirent, d_type), static_cast<uint8_t>(e.type));
}

inline void WritePrestatDir(uint8_t* p, uint32_t name_len) {
  std::memset(p, 0, sizeof(Prestat));
  PutU8(p + offsetof(Prestat, tag), 0);
  PutU32(p + offsetof(Prestat, pr_name_len), name_len);
}

inline void WriteEvent(uint8_t* p, uint64_t userdata, Errno error, uint8_t type, uint64_t nbytes,
                       uint16_t flags) {
  std::memset(p, 0, sizeof(Event));
  PutU64(p + offsetof(Event, userdata), userdata);
  PutU16(p + offsetof(Event, error), static_cast<uint16_t>(error));
  PutU8(p + offsetof(Event, type), type);
  PutU64(p + offsetof(Event, nbytes), nbytes);
  PutU16(p + offsetof(Event, flags), flags);
}

// True when [s, s+n) is valid UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool IsValidUtf8(const uint8_t* s, size_t n);

}  // namespace weft::wasi::abi
