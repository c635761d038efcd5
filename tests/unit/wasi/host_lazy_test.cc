// Lazily typed handles from path_open on a host preopen: the open does no fstat(2)
// (path_open + fd_close never learns the type) and every later call still answers
// exactly as when the type was found at open: a directory opened read-only without
// O_DIRECTORY serves path_* and fd_readdir, a file opened for writing reports its
// filetype and rights, /dev/null and a FIFO are what they are.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "host_test_util.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/fd_file.h"
#include "weft/wasi/preview1.h"
#include "weft/wasi/table.h"

namespace weft::wasi {
namespace {

using testing::MakeTempDir;
using testing::RemoveTree;
using testing::WriteHostFile;

constexpr uint32_t E(Errno e) { return static_cast<uint32_t>(e); }
constexpr uint32_t kOut = 2000;  // where path_open stores the new fd
constexpr uint32_t kStat = 3000;  // fdstat / filestat out buffers
constexpr uint32_t kBuf = 8000;
// What wasi-libc asks for on open(O_RDONLY): no write right (a directory opened for
// writing is EISDIR).
constexpr Rights kRead =
    rights::kAll & ~(rights::kFdWrite | rights::kFdAllocate | rights::kFdFilestatSetSize);

class HostLazyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    auto ctx = CtxBuilder().PreopenHostDir(base_, "/sandbox", false).Build();
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    ctx_ = *ctx;
    mem_.assign(65536, 0);
  }
  void TearDown() override {
    ctx_.reset();
    if (!base_.empty()) RemoveTree(base_);
  }
  std::string P(const std::string& rel) { return base_ + "/" + rel; }

  uint32_t Run(const char* name, std::initializer_list<uint64_t> args) {
    const Preview1Function* f = FindPreview1Function(name);
    EXPECT_NE(f, nullptr) << name;
    Call call(*ctx_, mem_.data(), mem_.size(), f->name);
    std::vector<uint64_t> a(args);
    a.resize(16);
    auto r = InvokePreview1(*f, call, a.data());
    EXPECT_TRUE(r.ok()) << name << " trapped";
    return r.ok() ? *r : 0xffff;
  }
  uint32_t PutStr(uint32_t at, std::string_view s) {
    std::memcpy(&mem_[at], s.data(), s.size());
    return static_cast<uint32_t>(s.size());
  }
  uint32_t Get32(uint32_t at) { uint32_t v; std::memcpy(&v, &mem_[at], 4); return v; }
  uint64_t Get64(uint32_t at) { uint64_t v; std::memcpy(&v, &mem_[at], 8); return v; }

  // path_open beneath `dirfd`; returns the errno, the fd in *fd.
  uint32_t OpenAt(uint32_t dirfd, std::string_view path, uint32_t oflags, Rights rights,
                  uint32_t* fd) {
    uint32_t len = PutStr(1000, path);
    uint32_t e = Run("path_open", {dirfd, 1, 1000, len, oflags, rights, rights, 0, kOut});
    *fd = Get32(kOut);
    return e;
  }
  uint32_t Open(std::string_view path, uint32_t oflags = 0, Rights rights = kRead) {
    uint32_t fd = 0;
    EXPECT_EQ(OpenAt(3, path, oflags, rights, &fd), 0u) << path;
    return fd;
  }
  struct Fdstat {
    uint8_t filetype;
    uint16_t flags;
    uint64_t base, inheriting;
    bool operator==(const Fdstat&) const = default;
  };
  Fdstat FdstatOf(uint32_t fd) {
    EXPECT_EQ(Run("fd_fdstat_get", {fd, kStat}), 0u);
    uint16_t flags;
    std::memcpy(&flags, &mem_[kStat + 2], 2);
    return Fdstat{mem_[kStat], flags, Get64(kStat + 8), Get64(kStat + 16)};
  }
  // The handle behind `fd`, straight from the table's snapshot (which does not settle).
  std::shared_ptr<Handle> RawHandle(uint32_t fd) {
    std::vector<Fd> fds = ctx_->table().Fds();
    std::vector<std::shared_ptr<Handle>> hs = ctx_->table().Handles();
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i] == fd) return hs[i];
    }
    return nullptr;
  }
  std::set<std::string> Readdir(uint32_t fd) {
    EXPECT_EQ(Run("fd_readdir", {fd, kBuf, 4096, 0, kStat}), 0u);
    uint32_t used = Get32(kStat);
    std::set<std::string> names;
    for (uint32_t pos = 0; pos + 24 <= used;) {
      uint32_t namlen = Get32(kBuf + pos + 16);
      names.emplace(reinterpret_cast<char*>(&mem_[kBuf + pos + 24]), namlen);
      pos += 24 + namlen;
    }
    return names;
  }
  std::string Read(uint32_t fd) {
    uint32_t iov[2] = {kBuf, 100};
    std::memcpy(&mem_[kStat], iov, 8);
    EXPECT_EQ(Run("fd_read", {fd, kStat, 1, kStat + 8}), 0u);
    return std::string(reinterpret_cast<char*>(&mem_[kBuf]), Get32(kStat + 8));
  }
  uint32_t Write(uint32_t fd, std::string_view s) {
    uint32_t iov[2] = {kBuf, PutStr(kBuf, s)};
    std::memcpy(&mem_[kStat], iov, 8);
    return Run("fd_write", {fd, kStat, 1, kStat + 8});
  }

  std::string base_;
  std::shared_ptr<Ctx> ctx_;
  std::vector<uint8_t> mem_;
};

constexpr uint8_t kFtUnknown = 0, kFtCharDev = 2, kFtDir = 3, kFtRegular = 4;

TEST_F(HostLazyTest, OpenAndCloseNeverFindTheType) {
  WriteHostFile(P("f"), "abc");
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  for (const char* path : {"f", "d"}) {
    uint32_t fd = Open(path);
    std::shared_ptr<Handle> h = RawHandle(fd);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->pending_type(), Handle::PendingType::kFileOrDir) << path;
    EXPECT_EQ(Run("fd_close", {fd}), 0u);
    EXPECT_EQ(h->pending_type(), Handle::PendingType::kFileOrDir) << path;
  }
  uint32_t w = Open("w", kOflagCreat | kOflagTrunc, rights::kAll);
  std::shared_ptr<Handle> h = RawHandle(w);
  EXPECT_EQ(h->pending_type(), Handle::PendingType::kFile);
  EXPECT_EQ(Write(w, "xy"), 0u);  // FD_WRITE is the same for every kind of file
  EXPECT_EQ(h->pending_type(), Handle::PendingType::kFile);
  EXPECT_EQ(Run("fd_close", {w}), 0u);
  EXPECT_EQ(h->pending_type(), Handle::PendingType::kFile);
}

// Each first use of a lazily typed directory fd: path_open beneath it, fd_readdir,
// path_filestat_get, fd_fdstat_get, fd_read (EBADF: not a file), as with O_DIRECTORY.
TEST_F(HostLazyTest, DirectoryOpenedReadOnlyWithoutODirectory) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  WriteHostFile(P("d/f"), "inside");
  WriteHostFile(P("d/g"), "");
  uint32_t with_flag = Open("d", kOflagDirectory);
  Fdstat expected = FdstatOf(with_flag);
  EXPECT_EQ(expected.filetype, kFtDir);
  EXPECT_EQ(expected.base, rights::kDirBase);
  EXPECT_EQ(expected.inheriting, kRead);

  uint32_t a = Open("d");
  uint32_t f = 0;
  ASSERT_EQ(OpenAt(a, "f", 0, kRead, &f), 0u);
  EXPECT_EQ(Read(f), "inside");
  EXPECT_EQ(FdstatOf(a), expected);

  uint32_t b = Open("d");
  EXPECT_EQ(Readdir(b), (std::set<std::string>{".", "..", "f", "g"}));
  EXPECT_EQ(FdstatOf(b), expected);

  uint32_t c = Open("d");
  uint32_t len = PutStr(1000, "g");
  EXPECT_EQ(Run("path_filestat_get", {c, 0, 1000, len, kStat}), 0u);
  EXPECT_EQ(mem_[kStat + 16], kFtRegular);

  uint32_t d = Open("d");
  EXPECT_EQ(FdstatOf(d), expected);
  EXPECT_EQ(FdstatOf(d), expected);  // a table lookup from now on
  EXPECT_EQ(RawHandle(d)->pending_type(), Handle::PendingType::kNone);
  EXPECT_NE(RawHandle(d)->AsDir(), nullptr);

  uint32_t e = Open("d");
  uint32_t iov[2] = {kBuf, 10};
  std::memcpy(&mem_[kStat], iov, 8);
  EXPECT_EQ(Run("fd_read", {e, kStat, 1, kStat + 8}), E(Errno::kBadf));
  EXPECT_EQ(FdstatOf(e), expected);

  // fd_filestat_get first, then fd_fdstat_set_rights narrowing against the dir rights.
  uint32_t g = Open("d");
  EXPECT_EQ(Run("fd_filestat_get", {g, kStat}), 0u);
  EXPECT_EQ(mem_[kStat + 16], kFtDir);
  uint32_t h = Open("d");
  EXPECT_EQ(Run("fd_fdstat_set_rights", {h, rights::kFdRead, 0}), E(Errno::kNotcapable));
  EXPECT_EQ(Run("fd_fdstat_set_rights", {h, rights::kFdReaddir, 0}), 0u);
  EXPECT_EQ(FdstatOf(h).base, rights::kFdReaddir);
}

TEST_F(HostLazyTest, FileOpenedReadOnlyIsAFile) {
  WriteHostFile(P("f"), "content");
  uint32_t a = Open("f");
  EXPECT_EQ(Read(a), "content");
  Fdstat st = FdstatOf(a);
  EXPECT_EQ(st.filetype, kFtRegular);
  EXPECT_EQ(st.base, rights::kFileBase & kRead);
  EXPECT_EQ(st.inheriting, 0u);
  uint32_t b = Open("f");
  EXPECT_EQ(FdstatOf(b), st);
  uint32_t len = PutStr(1000, "x");
  EXPECT_EQ(Run("path_open", {b, 1, 1000, len, 0, kRead, kRead, 0, kOut}), E(Errno::kNotdir));
  uint32_t c = Open("f");
  EXPECT_EQ(Run("fd_readdir", {c, kBuf, 4096, 0, kStat}), E(Errno::kBadf));
  // Narrowed rights on request stay narrowed once the type is found.
  uint32_t d = Open("f", 0, rights::kFdRead | rights::kFdSeek | rights::kPathOpen);
  EXPECT_EQ(FdstatOf(d).base, rights::kFdRead | rights::kFdSeek);
}

TEST_F(HostLazyTest, FileOpenedForWritingReportsItsType) {
  uint32_t w = Open("new", kOflagCreat, rights::kAll);
  EXPECT_EQ(Write(w, "abc"), 0u);
  Fdstat st = FdstatOf(w);
  EXPECT_EQ(st.filetype, kFtRegular);
  EXPECT_EQ(st.base, rights::kFileBase);
  EXPECT_EQ(st.inheriting, 0u);
  EXPECT_EQ(RawHandle(w)->pending_type(), Handle::PendingType::kNone);
  // fd_seek needs FD_SEEK, which settling could drop: it settles, and works.
  uint32_t t = Open("new", kOflagTrunc, rights::kAll);
  EXPECT_EQ(Run("fd_seek", {t, 0, 2, kStat}), 0u);
  EXPECT_EQ(Get64(kStat), 0u);
  // fd_filestat_get first.
  uint32_t s = Open("new", 0, rights::kFdWrite | rights::kFdFilestatGet);
  EXPECT_EQ(Run("fd_filestat_get", {s, kStat}), 0u);
  EXPECT_EQ(mem_[kStat + 16], kFtRegular);
  EXPECT_EQ(FdstatOf(s).base, rights::kFdWrite | rights::kFdFilestatGet);
}

TEST_F(HostLazyTest, FifoOpenedForWritingIsUnknown) {
  ASSERT_EQ(mkfifo(P("p").c_str(), 0644), 0);
  // O_RDWR on a FIFO does not wait for a peer (Linux).
  uint32_t fd = Open("p", 0, rights::kFdRead | rights::kFdWrite | rights::kFdSeek);
  EXPECT_EQ(RawHandle(fd)->pending_type(), Handle::PendingType::kFile);
  EXPECT_EQ(Write(fd, "z"), 0u);
  EXPECT_EQ(Read(fd), "z");
  Fdstat st = FdstatOf(fd);
  EXPECT_EQ(st.filetype, kFtUnknown);
  EXPECT_EQ(st.base, rights::kFdRead | rights::kFdWrite | rights::kFdSeek);
}

class HostLazyDevTest : public HostLazyTest {
 protected:
  void SetUp() override {
    auto ctx = CtxBuilder().PreopenHostDir("/dev", "/dev", false).Build();
    if (!ctx.ok()) GTEST_SKIP() << "no /dev: " << ctx.error();
    ctx_ = *ctx;
    mem_.assign(65536, 0);
  }
};

// /dev/null is a character device: no FD_SEEK/FD_TELL (how wasi-libc's isatty tells),
// whether fd_seek, fd_fdstat_get or nothing at all comes first.
TEST_F(HostLazyDevTest, DevNullLosesSeekAndTell) {
  struct stat st;
  if (stat("/dev/null", &st) != 0 || !S_ISCHR(st.st_mode)) GTEST_SKIP() << "no /dev/null";
  const Rights want = rights::kFdWrite | rights::kFdSeek | rights::kFdTell;
  uint32_t a = Open("null", 0, want);
  EXPECT_EQ(RawHandle(a)->pending_type(), Handle::PendingType::kFile);
  EXPECT_EQ(Write(a, "gone"), 0u);
  EXPECT_EQ(Run("fd_seek", {a, 0, 0, kStat}), E(Errno::kNotcapable));
  EXPECT_EQ(Run("fd_tell", {a, kStat}), E(Errno::kNotcapable));
  Fdstat fs = FdstatOf(a);
  EXPECT_EQ(fs.filetype, kFtCharDev);
  EXPECT_EQ(fs.base, rights::kFdWrite);

  uint32_t b = Open("null", 0, want);
  EXPECT_EQ(FdstatOf(b), fs);

  uint32_t c = Open("null", 0, rights::kFdRead | rights::kFdSeek);  // read-only: either kind
  EXPECT_EQ(RawHandle(c)->pending_type(), Handle::PendingType::kFileOrDir);
  Fdstat rs = FdstatOf(c);
  EXPECT_EQ(rs.filetype, kFtCharDev);
  EXPECT_EQ(rs.base, rights::kFdRead);
}

// The table settles an entry once and swaps in the settled handle; two tables sharing
// one lazily typed handle end up sharing the same settled handle.
TEST_F(HostLazyTest, SharedLazyHandleSettlesToOneHandle) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  uint32_t fd = Open("d");
  std::shared_ptr<Handle> lazy = RawHandle(fd);
  ASSERT_EQ(lazy->pending_type(), Handle::PendingType::kFileOrDir);
  Table other;
  Entry e;
  e.handle = lazy;
  e.base = kRead & (rights::kFileBase | rights::kDirBase);
  e.inheriting = kRead;
  e.unsettled = rights::kAll;
  ASSERT_EQ(*other.Push(std::move(e)), 0u);

  auto mine = ctx_->table().GetHandleRights(fd);
  ASSERT_TRUE(mine.ok());
  EXPECT_NE(mine->handle, lazy);
  EXPECT_EQ(mine->base, rights::kDirBase);
  auto theirs = other.GetHandle(0, rights::kPathOpen);
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(*theirs, mine->handle);
  EXPECT_EQ(lazy->Settle(), mine->handle);
  EXPECT_EQ(lazy->pending_type(), Handle::PendingType::kNone);
  EXPECT_EQ(lazy->filetype(), Filetype::kDirectory);
  EXPECT_NE(lazy->AsDir(), nullptr);  // the forwarder answers as the directory
}

// The sandbox holds for the single-name fast path of open: a symlink final is followed
// only inside, a symlink leading out is refused, and one not to follow is ELOOP.
TEST_F(HostLazyTest, SingleNameOpenThroughSymlinks) {
  std::string outside = MakeTempDir();
  WriteHostFile(outside + "/secret", "SECRET");
  WriteHostFile(P("f"), "inside");
  ASSERT_EQ(symlink("f", P("in").c_str()), 0);
  ASSERT_EQ(symlink((outside + "/secret").c_str(), P("abs").c_str()), 0);
  std::string rel = "../" + outside.substr(outside.rfind('/') + 1) + "/secret";
  ASSERT_EQ(symlink(rel.c_str(), P("rel").c_str()), 0);
  ASSERT_EQ(symlink("missing", P("dangling").c_str()), 0);
  uint32_t len = PutStr(1000, "in");
  ASSERT_EQ(Run("path_open", {3, 1, 1000, len, 0, rights::kAll, rights::kAll, 0, kOut}), 0u);
  EXPECT_EQ(Read(Get32(kOut)), "inside");
  EXPECT_EQ(Run("path_open", {3, 0, 1000, len, 0, rights::kAll, rights::kAll, 0, kOut}),
            E(Errno::kLoop));
  for (const char* name : {"abs", "rel"}) {
    len = PutStr(1000, name);
    EXPECT_EQ(Run("path_open", {3, 1, 1000, len, 0, rights::kAll, rights::kAll, 0, kOut}),
              E(Errno::kPerm))
        << name;
    EXPECT_EQ(Run("path_open",
                  {3, 1, 1000, len, kOflagCreat | kOflagTrunc, rights::kAll, rights::kAll, 0, kOut}),
              E(Errno::kPerm))
        << name;
  }
  // O_CREAT through a dangling symlink creates its (inside) target when following.
  len = PutStr(1000, "dangling");
  EXPECT_EQ(Run("path_open", {3, 0, 1000, len, kOflagCreat, rights::kAll, rights::kAll, 0, kOut}),
            E(Errno::kLoop));
  EXPECT_EQ(Run("path_open", {3, 1, 1000, len, kOflagCreat, rights::kAll, rights::kAll, 0, kOut}),
            0u);
  struct stat st;
  EXPECT_EQ(stat(P("missing").c_str(), &st), 0);
  EXPECT_EQ(testing::ReadHostFile(outside + "/secret"), "SECRET");
  RemoveTree(outside);
}

}  // namespace
}  // namespace weft::wasi
