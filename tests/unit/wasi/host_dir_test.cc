// HostDir: every Dir method's success and error cases, for both resolvers.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host_test_util.h"
#include "wasi/host/dir_watch.h"
#include "wasi/host/host_dir.h"
#include "wasi/host/host_util.h"
#include "wasi/host/resolve.h"
#include "weft/wasi/fd_file.h"
#include "weft/wasi/host_fs.h"

namespace weft::wasi {
namespace {

using testing::ErrOf;
using testing::HostExists;
using testing::MakeTempDir;
using testing::ModeName;
using testing::Opts;
using testing::ReadAll;
using testing::ReadHostFile;
using testing::RemoveTree;
using testing::WriteHostFile;
using testing::WriteStr;

// The process's open fds (plus "." and ".."), or -1 without /proc. DirWatch's own fds,
// made once and kept (the process's inotify and epoll fds, this thread's io_uring
// doorbell), are made first, so that they are never taken for a HostDir's.
int CountOpenFds() {
  for (int i = 0; i < host::DirWatch::kReadsBeforeRing; ++i) {
    host::DirWatch::Process().Read(-1, -1);
  }
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n;
}

class HostDirTest : public testing::HostDirFixture {
 protected:
  void SetUp() override {
    HostDirFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    OpenRoot();
  }

  std::shared_ptr<File> OpenFile(const std::string& path, OpenOptions o) {
    auto h = dir_->OpenAt(path, o);
    EXPECT_TRUE(h.ok()) << path << " errno " << ErrnoName(ErrOf(h));
    if (!h.ok()) return nullptr;
    File* f = (*h)->AsFile();
    EXPECT_NE(f, nullptr);
    return std::shared_ptr<File>(*h, f);
  }

  // For the tests of a held subdirectory: creates "sub/f" (3 bytes) and returns the
  // HostDir under test, or nullptr when this resolver mode holds no subdirectory fds
  // (they need openat2), for the test to skip.
  host::HostDir* HostDirWithSub() {
    if (GetParam() != host::ResolverMode::kAuto) return nullptr;
    auto* host_dir = dynamic_cast<host::HostDir*>(dir_.get());
    EXPECT_NE(host_dir, nullptr);
    EXPECT_EQ(mkdir(P("sub").c_str(), 0755), 0);
    WriteHostFile(P("sub/f"), "one");
    return host_dir;
  }

  // Stats "sub/f" from two threads while `move` runs (as another program would);
  // returns how many answers were not `acceptable`.
  int StatSubFWhile(const std::function<bool(const ErrnoOr<Filestat>&)>& acceptable,
                    const std::function<void()>& move, const std::string& path = "sub/f") {
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t) {
      readers.emplace_back([&] {
        while (!stop.load()) {
          if (!acceptable(dir_->StatAt(0, path))) ++bad;
        }
      });
    }
    move();
    stop.store(true);
    for (auto& r : readers) r.join();
    return bad.load();
  }

  // "outside/f", beside the preopen: what an escape would reach.
  void MakeOutsideFile() {
    ASSERT_EQ(mkdir((base_ + "/outside").c_str(), 0755), 0);
    WriteHostFile(base_ + "/outside/f", "outside!");
  }

  // Stats "sub/f" twice (so that what can be held is), then `times` more times with
  // `lookup`, each expected to answer `want`; returns how far `counter` moved over those.
  uint64_t StatSubFAgain(Filesize want, Lookupflags lookup, int times,
                         const std::function<uint64_t()>& counter) {
    return StatAgain("sub/f", want, lookup, times, counter);
  }
  // The same for any path, stat'ed three times first.
  uint64_t StatAgain(const std::string& path, Filesize want, Lookupflags lookup, int times,
                     const std::function<uint64_t()>& counter) {
    for (int i = 0; i < 3; ++i) {
      auto st = dir_->StatAt(0, path);
      EXPECT_TRUE(st.ok()) << path;
      if (st.ok()) {
        EXPECT_EQ(st->size, want) << path;
      }
    }
    uint64_t before = counter();
    for (int i = 0; i < times; ++i) {
      auto st = dir_->StatAt(lookup, path);
      EXPECT_TRUE(st.ok()) << path;
      if (st.ok()) {
        EXPECT_EQ(st->size, want) << path;
      }
    }
    return counter() - before;
  }
};

TEST_P(HostDirTest, OpenCreateWriteReadBack) {
  auto f = OpenFile("a.txt", Opts(kOflagCreat, false, true));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->filetype(), Filetype::kRegularFile);
  auto n = WriteStr(*f, "hello");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(ReadHostFile(P("a.txt")), "hello");
  auto g = OpenFile("a.txt", Opts(0, true, false));
  ASSERT_TRUE(g);
  EXPECT_EQ(ReadAll(*g), "hello");
  // Read-only open: writing is EBADF from the host.
  EXPECT_EQ(ErrOf(WriteStr(*g, "x")), Errno::kBadf);
}

TEST_P(HostDirTest, OpenErrors) {
  WriteHostFile(P("f"), "data");
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  EXPECT_EQ(ErrOf(dir_->OpenAt("missing", Opts(0, true, false))), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->OpenAt("nodir/x", Opts(kOflagCreat, false, true))), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->OpenAt("f", Opts(kOflagCreat | kOflagExcl, false, true))), Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->OpenAt("f", Opts(kOflagDirectory, true, false))), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->OpenAt("f/", Opts(0, true, false))), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->OpenAt("f/x", Opts(0, true, false))), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->OpenAt("d", Opts(0, false, true))), Errno::kIsdir);
  EXPECT_EQ(ErrOf(dir_->OpenAt("d", Opts(kOflagDirectory | kOflagCreat, true, false))),
            Errno::kInval);
  EXPECT_EQ(ErrOf(dir_->OpenAt("d", Opts(kOflagDirectory | kOflagTrunc, true, false))),
            Errno::kInval);
  EXPECT_EQ(ErrOf(dir_->OpenAt("f", Opts(0x10, true, false))), Errno::kInval);
  EXPECT_EQ(ErrOf(dir_->OpenAt("f", Opts(0, true, false, 0, 0x20))), Errno::kInval);
  EXPECT_EQ(ErrOf(dir_->OpenAt("", Opts(0, true, false))), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->OpenAt(std::string_view("f\0x", 3), Opts(0, true, false))), Errno::kInval);
  EXPECT_EQ(ErrOf(dir_->OpenAt("new/", Opts(kOflagCreat, false, true))), Errno::kIsdir);
  EXPECT_FALSE(HostExists(P("new")));
}

TEST_P(HostDirTest, OpenTruncAndAppend) {
  WriteHostFile(P("f"), "0123456789");
  auto f = OpenFile("f", Opts(kOflagTrunc, false, true));
  ASSERT_TRUE(f);
  EXPECT_EQ(ReadHostFile(P("f")), "");
  ASSERT_TRUE(WriteStr(*f, "abc").ok());
  auto g = OpenFile("f", Opts(0, true, true, 0, kFdflagAppend));
  ASSERT_TRUE(g);
  auto flags = g->GetFdflags();
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(*flags & kFdflagAppend, kFdflagAppend);
  ASSERT_TRUE(g->Seek(0, Whence::kSet).ok());
  ASSERT_TRUE(WriteStr(*g, "def").ok());
  EXPECT_EQ(ReadHostFile(P("f")), "abcdef");
}

TEST_P(HostDirTest, OpenSyncFlagsReachTheHost) {
  auto f = OpenFile("s", Opts(kOflagCreat, false, true, 0, kFdflagSync));
  ASSERT_TRUE(f);
  auto flags = f->GetFdflags();
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(*flags & kFdflagSync, kFdflagSync);
}

TEST_P(HostDirTest, OpenDirectoryGivesNestedDir) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("d/e").c_str(), 0755), 0);
  WriteHostFile(P("d/e/f"), "nested");
  auto h = dir_->OpenAt("d", Opts(kOflagDirectory, true, false));
  ASSERT_TRUE(h.ok());
  Dir* d = (*h)->AsDir();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*h)->filetype(), Filetype::kDirectory);
  auto st = (*h)->Stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->filetype, Filetype::kDirectory);
  auto f = d->OpenAt("e/f", Opts(0, true, false));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadAll(*(*f)->AsFile()), "nested");
  // The nested dir is itself a sandbox: ".." above it is refused even though the
  // preopen root is above.
  EXPECT_EQ(ErrOf(d->OpenAt("../d/e/f", Opts(0, true, false))), Errno::kPerm);
  // Without O_DIRECTORY a directory still opens as a Dir.
  auto h2 = dir_->OpenAt("d/e", Opts(0, true, false));
  ASSERT_TRUE(h2.ok());
  EXPECT_NE((*h2)->AsDir(), nullptr);
  // "." opens the directory itself.
  auto self = dir_->OpenAt(".", Opts(kOflagDirectory, true, false));
  ASSERT_TRUE(self.ok());
  EXPECT_NE((*self)->AsDir(), nullptr);
}

TEST_P(HostDirTest, OpenSymlinkFollowAndNofollow) {
  WriteHostFile(P("target"), "T");
  ASSERT_EQ(symlink("target", P("link").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->OpenAt("link", Opts(0, true, false))), Errno::kLoop);
  auto f = dir_->OpenAt("link", Opts(0, true, false, kLookupSymlinkFollow));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadAll(*(*f)->AsFile()), "T");
  // Intermediate symlinks are always followed.
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  WriteHostFile(P("d/x"), "X");
  ASSERT_EQ(symlink("d", P("dl").c_str()), 0);
  auto g = dir_->OpenAt("dl/x", Opts(0, true, false));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(ReadAll(*(*g)->AsFile()), "X");
  // A trailing slash follows the final link and requires a directory.
  auto h = dir_->OpenAt("dl/", Opts(0, true, false));
  ASSERT_TRUE(h.ok());
  EXPECT_NE((*h)->AsDir(), nullptr);
  EXPECT_EQ(ErrOf(dir_->OpenAt("link/", Opts(0, true, false))), Errno::kNotdir);
  // Creating through a dangling in-sandbox link creates its target.
  ASSERT_EQ(symlink("made", P("dangling").c_str()), 0);
  ASSERT_TRUE(dir_->OpenAt("dangling", Opts(kOflagCreat, false, true, kLookupSymlinkFollow)).ok());
  EXPECT_TRUE(HostExists(P("made")));
}

TEST_P(HostDirTest, RedundantSlashesAndDotsResolve) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("d/e").c_str(), 0755), 0);
  WriteHostFile(P("d/e/f"), "F");
  for (const char* p : {"d//e/./f", "./d/e/f", "d/./e//f", "d/e/../e/f", "d/../d/e/f"}) {
    SCOPED_TRACE(p);
    auto f = dir_->OpenAt(p, Opts(0, true, false));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(ReadAll(*(*f)->AsFile()), "F");
    EXPECT_EQ(dir_->StatAt(0, p)->size, 1u);
  }
  EXPECT_EQ(ErrOf(dir_->OpenAt("d/e/f/", Opts(0, true, false))), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->OpenAt("d/e/f/.", Opts(0, true, false))), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->OpenAt("d/missing/../e/f", Opts(0, true, false))), Errno::kNoent);
  ASSERT_TRUE(dir_->CreateDir("d//e/./g//").ok());
  EXPECT_TRUE(HostExists(P("d/e/g")));
  ASSERT_TRUE(dir_->RemoveDir("d/./e/g/").ok());
  EXPECT_FALSE(HostExists(P("d/e/g")));
}

TEST_P(HostDirTest, SymlinkLoopsAreEloop) {
  ASSERT_EQ(symlink("b", P("a").c_str()), 0);
  ASSERT_EQ(symlink("a", P("b").c_str()), 0);
  ASSERT_EQ(symlink("self", P("self").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->OpenAt("a", Opts(0, true, false, kLookupSymlinkFollow))), Errno::kLoop);
  EXPECT_EQ(ErrOf(dir_->OpenAt("a/x", Opts(0, true, false))), Errno::kLoop);
  EXPECT_EQ(ErrOf(dir_->StatAt(kLookupSymlinkFollow, "self")), Errno::kLoop);
  EXPECT_EQ(ErrOf(dir_->CreateDir("self/x")), Errno::kLoop);
  // Not following: the link itself is stat'ed.
  auto st = dir_->StatAt(0, "self");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->filetype, Filetype::kSymbolicLink);
}

TEST_P(HostDirTest, LongInSandboxSymlinkChainWithinBudget) {
  // 30 hops (under the 40 limit) resolve; 45 do not.
  WriteHostFile(P("end"), "E");
  std::string prev = "end";
  for (int i = 0; i < 45; ++i) {
    std::string name = "l";  // (not "l" + ...: a gcc 12 -Wrestrict false positive)
    name += std::to_string(i);
    ASSERT_EQ(symlink(prev.c_str(), P(name).c_str()), 0);
    prev = name;
  }
  auto f = dir_->OpenAt("l29", Opts(0, true, false, kLookupSymlinkFollow));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadAll(*(*f)->AsFile()), "E");
  EXPECT_EQ(ErrOf(dir_->OpenAt("l44", Opts(0, true, false, kLookupSymlinkFollow))), Errno::kLoop);
}

TEST_P(HostDirTest, IntermediateSymlinkChainWithinBudget) {
  ASSERT_EQ(mkdir(P("dir").c_str(), 0755), 0);
  WriteHostFile(P("dir/f"), "F");
  std::string prev = "dir";
  for (int i = 0; i < 45; ++i) {
    std::string name = "d";  // (not "d" + ...: a gcc 12 -Wrestrict false positive)
    name += std::to_string(i);
    ASSERT_EQ(symlink(prev.c_str(), P(name).c_str()), 0);
    prev = name;
  }
  auto f = dir_->OpenAt("d30/f", Opts(0, true, false));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadAll(*(*f)->AsFile()), "F");
  EXPECT_TRUE(dir_->StatAt(0, "d30/f").ok());
  EXPECT_EQ(ErrOf(dir_->OpenAt("d44/f", Opts(0, true, false))), Errno::kLoop);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "d44/f")), Errno::kLoop);
}

TEST_P(HostDirTest, CreateDir) {
  WriteHostFile(P("f"), "");
  ASSERT_TRUE(dir_->CreateDir("d").ok());
  struct stat st;
  ASSERT_EQ(stat(P("d").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_TRUE(dir_->CreateDir("d/e/").ok());
  EXPECT_TRUE(HostExists(P("d/e")));
  EXPECT_EQ(ErrOf(dir_->CreateDir("d")), Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->CreateDir("f")), Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->CreateDir("missing/x")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->CreateDir("f/x")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->CreateDir(".")), Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->CreateDir("d/..")), Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->CreateDir("")), Errno::kNoent);
}

TEST_P(HostDirTest, RemoveDir) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("full").c_str(), 0755), 0);
  WriteHostFile(P("full/x"), "");
  WriteHostFile(P("f"), "");
  ASSERT_EQ(symlink("d", P("dl").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->RemoveDir("full")), Errno::kNotempty);
  EXPECT_EQ(ErrOf(dir_->RemoveDir("missing")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->RemoveDir("f")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->RemoveDir("f/")), Errno::kNotdir);
  // A symlink to a directory is not removed as a directory.
  EXPECT_EQ(ErrOf(dir_->RemoveDir("dl")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->RemoveDir(".")), Errno::kInval);
  ASSERT_TRUE(dir_->RemoveDir("d/").ok());
  EXPECT_FALSE(HostExists(P("d")));
  EXPECT_TRUE(HostExists(P("dl")));
}

TEST_P(HostDirTest, UnlinkFile) {
  WriteHostFile(P("f"), "");
  WriteHostFile(P("target"), "keep");
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(symlink("target", P("link").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->UnlinkFile("missing")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->UnlinkFile("d")), Errno::kIsdir);
  EXPECT_EQ(ErrOf(dir_->UnlinkFile("d/")), Errno::kIsdir);
  EXPECT_EQ(ErrOf(dir_->UnlinkFile("f/")), Errno::kNotdir);
  ASSERT_TRUE(dir_->UnlinkFile("f").ok());
  EXPECT_FALSE(HostExists(P("f")));
  ASSERT_TRUE(dir_->UnlinkFile("link").ok());  // the link, not its target
  EXPECT_FALSE(HostExists(P("link")));
  EXPECT_EQ(ReadHostFile(P("target")), "keep");
}

TEST_P(HostDirTest, RenameWithinOneDir) {
  WriteHostFile(P("a"), "A");
  WriteHostFile(P("b"), "B");
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("full").c_str(), 0755), 0);
  WriteHostFile(P("full/x"), "");
  ASSERT_TRUE(dir_->Rename("a", *dir_, "b").ok());  // replaces b
  EXPECT_FALSE(HostExists(P("a")));
  EXPECT_EQ(ReadHostFile(P("b")), "A");
  ASSERT_TRUE(dir_->Rename("b", *dir_, "d/moved").ok());
  EXPECT_EQ(ReadHostFile(P("d/moved")), "A");
  EXPECT_EQ(ErrOf(dir_->Rename("missing", *dir_, "x")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->Rename("d/moved", *dir_, "full")), Errno::kIsdir);
  ASSERT_EQ(mkdir(P("e").c_str(), 0755), 0);
  EXPECT_EQ(ErrOf(dir_->Rename("e", *dir_, "d/moved")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->Rename("e", *dir_, "full")), Errno::kNotempty);
  EXPECT_EQ(ErrOf(dir_->Rename("e", *dir_, "e/sub")), Errno::kInval);
  ASSERT_TRUE(dir_->Rename("e/", *dir_, "e2/").ok());
  EXPECT_TRUE(HostExists(P("e2")));
}

class NotAHostDir : public Dir {};

TEST_P(HostDirTest, RenameAndLinkAcrossPreopens) {
  std::string other = base_ + "/other";
  ASSERT_EQ(mkdir(other.c_str(), 0755), 0);
  auto d2 = OpenHostDir(other, false);
  ASSERT_TRUE(d2.ok());
  WriteHostFile(P("a"), "A");
  WriteHostFile(P("b"), "B");
  ASSERT_TRUE(dir_->Rename("a", **d2, "a2").ok());
  EXPECT_FALSE(HostExists(P("a")));
  EXPECT_EQ(ReadHostFile(other + "/a2"), "A");
  ASSERT_TRUE(dir_->Link(0, "b", **d2, "b2").ok());
  EXPECT_EQ(ReadHostFile(other + "/b2"), "B");
  struct stat st;
  ASSERT_EQ(stat(P("b").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  NotAHostDir foreign;
  EXPECT_EQ(ErrOf(dir_->Rename("b", foreign, "x")), Errno::kXdev);
  EXPECT_EQ(ErrOf(dir_->Link(0, "b", foreign, "x")), Errno::kXdev);
  // The other preopen's sandbox applies to the new path.
  EXPECT_EQ(ErrOf(dir_->Rename("b", **d2, "../root/b3")), Errno::kPerm);
  EXPECT_TRUE(HostExists(P("b")));
}

TEST_P(HostDirTest, Link) {
  WriteHostFile(P("f"), "F");
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(symlink("f", P("sl").c_str()), 0);
  ASSERT_TRUE(dir_->Link(0, "f", *dir_, "d/g").ok());
  EXPECT_EQ(ReadHostFile(P("d/g")), "F");
  EXPECT_EQ(ErrOf(dir_->Link(0, "f", *dir_, "d/g")), Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->Link(0, "missing", *dir_, "x")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->Link(0, "d", *dir_, "dd")), Errno::kPerm);  // no hard links to dirs
  EXPECT_EQ(ErrOf(dir_->Link(0, "f/", *dir_, "x")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->Link(kLookupSymlinkFollow, "sl", *dir_, "x")), Errno::kInval);
  // Without follow, the link itself is linked.
  ASSERT_TRUE(dir_->Link(0, "sl", *dir_, "sl2").ok());
  struct stat st;
  ASSERT_EQ(lstat(P("sl2").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_P(HostDirTest, SymlinkAndReadlink) {
  WriteHostFile(P("f"), "F");
  ASSERT_TRUE(dir_->Symlink("f", "l").ok());
  auto t = dir_->Readlink("l");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "f");
  EXPECT_EQ(ErrOf(dir_->Symlink("f", "l")), Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->Symlink("f", "missing/l")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->Symlink("", "e")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->Symlink("/etc/passwd", "abs")), Errno::kPerm);
  EXPECT_FALSE(HostExists(P("abs")));
  EXPECT_EQ(ErrOf(dir_->Symlink("f", "nolink/")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->Readlink("f")), Errno::kInval);
  EXPECT_EQ(ErrOf(dir_->Readlink("missing")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->Readlink("l/")), Errno::kNotdir);
  // A long target round-trips.
  std::string long_target(1000, 'x');
  ASSERT_TRUE(dir_->Symlink(long_target, "long").ok());
  auto lt = dir_->Readlink("long");
  ASSERT_TRUE(lt.ok());
  EXPECT_EQ(*lt, long_target);
}

TEST_P(HostDirTest, StatAt) {
  WriteHostFile(P("f"), "12345");
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(symlink("f", P("l").c_str()), 0);
  auto st = dir_->StatAt(0, "f");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->filetype, Filetype::kRegularFile);
  EXPECT_EQ(st->size, 5u);
  EXPECT_EQ(st->nlink, 1u);
  struct stat hs;
  ASSERT_EQ(stat(P("f").c_str(), &hs), 0);
  EXPECT_EQ(st->ino, hs.st_ino);
  EXPECT_EQ(st->mtim,
            static_cast<Timestamp>(hs.st_mtim.tv_sec) * 1000000000ull + hs.st_mtim.tv_nsec);
  auto sl = dir_->StatAt(0, "l");
  ASSERT_TRUE(sl.ok());
  EXPECT_EQ(sl->filetype, Filetype::kSymbolicLink);
  auto sf = dir_->StatAt(kLookupSymlinkFollow, "l");
  ASSERT_TRUE(sf.ok());
  EXPECT_EQ(sf->filetype, Filetype::kRegularFile);
  EXPECT_EQ(sf->ino, hs.st_ino);
  auto sd = dir_->StatAt(0, "d/");
  ASSERT_TRUE(sd.ok());
  EXPECT_EQ(sd->filetype, Filetype::kDirectory);
  auto root = dir_->StatAt(0, ".");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->filetype, Filetype::kDirectory);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "missing")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "f/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "l/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "f/x")), Errno::kNotdir);
}

// Paths of several components take the openat2(O_PATH)+fstat route under kAuto and the
// component walk otherwise; both must answer alike.
TEST_P(HostDirTest, StatAtNestedPaths) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("d/e").c_str(), 0755), 0);
  WriteHostFile(P("d/f"), "123");
  WriteHostFile(P("top"), "1234567");
  ASSERT_EQ(symlink("f", P("d/l").c_str()), 0);
  ASSERT_EQ(symlink("../top", P("d/up").c_str()), 0);
  ASSERT_EQ(symlink("e", P("d/le").c_str()), 0);
  ASSERT_EQ(symlink("missing", P("d/dangling").c_str()), 0);
  struct stat hs;
  ASSERT_EQ(stat(P("d/f").c_str(), &hs), 0);

  auto f = dir_->StatAt(0, "d/f");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->filetype, Filetype::kRegularFile);
  EXPECT_EQ(f->size, 3u);
  EXPECT_EQ(f->ino, hs.st_ino);
  EXPECT_EQ(dir_->StatAt(0, "d//f")->ino, hs.st_ino);
  EXPECT_EQ(dir_->StatAt(0, "d/./f")->ino, hs.st_ino);
  EXPECT_EQ(dir_->StatAt(0, "d/e/../f")->ino, hs.st_ino);
  // A final symlink: itself without the follow flag, its target with it.
  auto l = dir_->StatAt(0, "d/l");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->filetype, Filetype::kSymbolicLink);
  EXPECT_NE(l->ino, hs.st_ino);
  auto lf = dir_->StatAt(kLookupSymlinkFollow, "d/l");
  ASSERT_TRUE(lf.ok());
  EXPECT_EQ(lf->ino, hs.st_ino);
  auto up = dir_->StatAt(kLookupSymlinkFollow, "d/up");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->size, 7u);
  // Directories, through a symlink too, and with a trailing slash.
  EXPECT_EQ(dir_->StatAt(0, "d/e")->filetype, Filetype::kDirectory);
  EXPECT_EQ(dir_->StatAt(0, "d/e/")->filetype, Filetype::kDirectory);
  EXPECT_EQ(dir_->StatAt(0, "d/le/")->filetype, Filetype::kDirectory);
  EXPECT_EQ(dir_->StatAt(0, "d/le")->filetype, Filetype::kSymbolicLink);
  EXPECT_EQ(dir_->StatAt(0, "d/e/..")->filetype, Filetype::kDirectory);
  // Errors as the host answers them.
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "d/missing")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "nodir/f")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "d/f/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "d/f/x")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "d/l/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(dir_->StatAt(kLookupSymlinkFollow, "d/dangling")), Errno::kNoent);
  EXPECT_EQ(dir_->StatAt(0, "d/dangling")->filetype, Filetype::kSymbolicLink);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "d/../..")), Errno::kPerm);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "d/../../d")), Errno::kPerm);
}

// OpenAt learns the kind of what it opened from the flags where they say it
// (O_DIRECTORY, O_CREAT|O_EXCL) and from fstat otherwise; every route answers alike.
TEST_P(HostDirTest, OpenAtKnowsWhatItOpened) {
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  WriteHostFile(P("f"), "abc");
  ASSERT_EQ(symlink("f", P("l").c_str()), 0);
  auto d = dir_->OpenAt("d", Opts(kOflagDirectory, true, false));
  ASSERT_TRUE(d.ok());
  ASSERT_NE((*d)->AsDir(), nullptr);
  EXPECT_EQ((*d)->filetype(), Filetype::kDirectory);
  auto d2 = dir_->OpenAt("d", Opts(0, true, false));  // no O_DIRECTORY: fstat says
  ASSERT_TRUE(d2.ok());
  EXPECT_NE((*d2)->AsDir(), nullptr);
  EXPECT_EQ(ErrOf(dir_->OpenAt("f", Opts(kOflagDirectory, true, false))), Errno::kNotdir);
  auto n = dir_->OpenAt("new", Opts(kOflagCreat | kOflagExcl, false, true));
  ASSERT_TRUE(n.ok());
  ASSERT_NE((*n)->AsFile(), nullptr);
  EXPECT_EQ((*n)->filetype(), Filetype::kRegularFile);
  EXPECT_EQ((*n)->Stat()->filetype, Filetype::kRegularFile);
  EXPECT_EQ(ErrOf(dir_->OpenAt("new", Opts(kOflagCreat | kOflagExcl, false, true))),
            Errno::kExist);
  // O_EXCL never follows a final symlink, even one to a missing file.
  ASSERT_EQ(symlink("missing", P("dangling").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->OpenAt("dangling", Opts(kOflagCreat | kOflagExcl, false, true,
                                                kLookupSymlinkFollow))),
            Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->OpenAt("l", Opts(kOflagCreat | kOflagExcl, false, true))), Errno::kExist);
  struct stat hs;
  EXPECT_NE(stat(P("missing").c_str(), &hs), 0);
  auto f = dir_->OpenAt("f", Opts(0, true, false));
  ASSERT_TRUE(f.ok());
  ASSERT_NE((*f)->AsFile(), nullptr);
  EXPECT_EQ((*f)->filetype(), Filetype::kRegularFile);
}

// stat of "sub/name" may go through a held subdirectory fd; it must see every change
// made to "sub" since: renamed away and replaced, removed, turned into a file or into a
// symlink (inside: followed; outside: EPERM).
TEST_P(HostDirTest, StatAtSeesTheSubdirectoryChange) {
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  WriteHostFile(P("sub/f"), "one");
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  ASSERT_EQ(rename(P("sub").c_str(), P("old").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  WriteHostFile(P("sub/f"), "second");
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 6u);
  EXPECT_EQ(dir_->StatAt(0, "old/f")->size, 3u);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 6u);
  ASSERT_EQ(unlink(P("sub/f").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  ASSERT_EQ(rmdir(P("sub").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  WriteHostFile(P("sub"), "file");
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNotdir);
  ASSERT_EQ(unlink(P("sub").c_str()), 0);
  ASSERT_EQ(symlink("old", P("sub").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  ASSERT_EQ(unlink(P("sub").c_str()), 0);
  ASSERT_EQ(symlink("..", P("sub").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kPerm);
  // A final symlink in the subdirectory: itself, or followed (inside) on request.
  ASSERT_EQ(symlink("f", P("old/l").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "old/l")->filetype, Filetype::kSymbolicLink);
  EXPECT_EQ(dir_->StatAt(kLookupSymlinkFollow, "old/l")->size, 3u);
  ASSERT_EQ(symlink("../../x", P("old/out").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(kLookupSymlinkFollow, "old/out")), Errno::kPerm);
}

// The held subdirectory fd must never answer for a directory that is no longer "sub":
// moved out of the preopen, swapped atomically (RENAME_EXCHANGE) with a symlink
// leading out or with another directory, and back.
TEST_P(HostDirTest, StatAtNeverAnswersThroughAMovedOrSwappedSubdirectory) {
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  WriteHostFile(P("sub/f"), "one");
  MakeOutsideFile();
  ASSERT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);  // held from now on
  // Moved out of the preopen: "sub" is gone, whatever the held fd still reaches.
  ASSERT_EQ(rename(P("sub").c_str(), (base_ + "/moved").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  ASSERT_EQ(rename((base_ + "/moved").c_str(), P("sub").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  // Exchanged with a symlink leading out, then back.
  ASSERT_EQ(symlink("../outside", P("alt").c_str()), 0);
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD, P("alt").c_str(), RENAME_EXCHANGE),
            0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kPerm);
  EXPECT_EQ(ErrOf(dir_->StatAt(kLookupSymlinkFollow, "sub/f")), Errno::kPerm);
  EXPECT_EQ(dir_->StatAt(0, "alt/f")->size, 3u);
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD, P("alt").c_str(), RENAME_EXCHANGE),
            0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  // Exchanged with another directory inside.
  ASSERT_EQ(unlink(P("alt").c_str()), 0);
  ASSERT_EQ(mkdir(P("other").c_str(), 0755), 0);
  WriteHostFile(P("other/f"), "other-f");
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD, P("other").c_str(), RENAME_EXCHANGE),
            0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 7u);
  EXPECT_EQ(dir_->StatAt(0, "other/f")->size, 3u);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 7u);
}

// Several subdirectories are held (a few, never more), each answering only while its
// name still names it.
TEST_P(HostDirTest, StatAtAlternatingSubdirectories) {
  constexpr int kDirs = 7;
  for (int i = 0; i < kDirs; ++i) {
    std::string sub = "s" + std::to_string(i);
    ASSERT_EQ(mkdir(P(sub).c_str(), 0755), 0);
    WriteHostFile(P(sub + "/f"), std::string(static_cast<size_t>(i + 1), 'x'));
  }
  int before = CountOpenFds();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kDirs; ++i) {
      auto st = dir_->StatAt(0, "s" + std::to_string(i) + "/f");
      ASSERT_TRUE(st.ok()) << i;
      EXPECT_EQ(st->size, static_cast<Filesize>(i + 1)) << i;
    }
  }
  if (before >= 0) {
    EXPECT_LE(CountOpenFds(), before + 4);
  }
  ASSERT_EQ(renameat2(AT_FDCWD, P("s1").c_str(), AT_FDCWD, P("s2").c_str(), RENAME_EXCHANGE), 0);
  ASSERT_EQ(rename(P("s5").c_str(), P("gone").c_str()), 0);
  for (int i = 0; i < kDirs; ++i) {
    auto st = dir_->StatAt(0, "s" + std::to_string(i) + "/f");
    if (i == 5) {
      EXPECT_EQ(ErrOf(st), Errno::kNoent);
      continue;
    }
    ASSERT_TRUE(st.ok()) << i;
    int want = i == 1 ? 3 : i == 2 ? 2 : i + 1;
    EXPECT_EQ(st->size, static_cast<Filesize>(want)) << i;
  }
}

// While DirWatch (inotify) sees no subdirectory entry change in the root, stat of
// "sub/name" skips the identity check of the held fd; every change to "sub" made by
// someone else (here: this process, outside the HostDir, as another program would) ends
// that at once. Each change below follows stats that went through the unchecked path.
TEST_P(HostDirTest, StatAtSkipsTheSubdirectoryCheckOnlyWhileNothingMoved) {
  host::HostDir* host_dir = HostDirWithSub();
  if (host_dir == nullptr) GTEST_SKIP() << "the held fd needs openat2";
  auto checks = [&] { return host_dir->SubdirChecksForTesting(); };
  MakeOutsideFile();
  // Stats "sub/f" until the check is skipped, and asserts that it is.
  auto warm = [&](Filesize want) {
    ASSERT_EQ(StatSubFAgain(want, 0, 5, checks), 0u) << "the check was not skipped";
  };
  warm(3);
  // Files coming and going in the root, and in "sub", move no subdirectory entry.
  WriteHostFile(P("file"), "x");
  ASSERT_EQ(rename(P("file").c_str(), P("file2").c_str()), 0);
  ASSERT_EQ(unlink(P("file2").c_str()), 0);
  WriteHostFile(P("sub/g"), "gg");
  uint64_t before = checks();
  EXPECT_EQ(dir_->StatAt(0, "sub/g")->size, 2u);
  EXPECT_EQ(checks(), before);
  ASSERT_EQ(unlink(P("sub/g").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/g")), Errno::kNoent);
  EXPECT_EQ(checks(), before);
  // Moved out of the preopen.
  ASSERT_EQ(rename(P("sub").c_str(), (base_ + "/moved").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  ASSERT_EQ(rename((base_ + "/moved").c_str(), P("sub").c_str()), 0);
  warm(3);
  // Exchanged with a symlink leading out.
  ASSERT_EQ(symlink("../outside", P("alt").c_str()), 0);
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD, P("alt").c_str(), RENAME_EXCHANGE),
            0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kPerm);
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD, P("alt").c_str(), RENAME_EXCHANGE),
            0);
  ASSERT_EQ(unlink(P("alt").c_str()), 0);
  warm(3);
  // Exchanged with another directory inside.
  ASSERT_EQ(mkdir(P("other").c_str(), 0755), 0);
  WriteHostFile(P("other/f"), "other-f");
  warm(3);
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD, P("other").c_str(), RENAME_EXCHANGE),
            0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 7u);
  warm(7);
  // Another directory renamed over it.
  ASSERT_EQ(mkdir(P("third").c_str(), 0755), 0);
  WriteHostFile(P("third/f"), "third");
  ASSERT_EQ(unlink(P("sub/f").c_str()), 0);
  ASSERT_EQ(rename(P("third").c_str(), P("sub").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 5u);
  warm(5);
  // Removed, then a file of that name.
  ASSERT_EQ(unlink(P("sub/f").c_str()), 0);
  ASSERT_EQ(rmdir(P("sub").c_str()), 0);
  WriteHostFile(P("sub"), "file");
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNotdir);
}

// Stats of "sub/name" from several threads while another program (here a thread
// calling rename(2) directly) keeps moving "sub": every answer is one the path had at
// some moment, and once the moving stops the next stat sees where things ended up.
// (Run under ThreadSanitizer in CI: the held subdirectories and DirWatch are shared.)
TEST_P(HostDirTest, ConcurrentStatsWhileTheSubdirectoryMoves) {
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  WriteHostFile(P("sub/f"), "one");
  ASSERT_EQ(mkdir(P("other").c_str(), 0755), 0);
  WriteHostFile(P("other/f"), "other-f");
  // "sub" is the first directory, the other one (exchanged), or missing.
  auto acceptable = [](const ErrnoOr<Filestat>& st) {
    return st.ok() ? (st->size == 3 || st->size == 7) : ErrOf(st) == Errno::kNoent;
  };
  EXPECT_EQ(StatSubFWhile(acceptable, [&] {
              for (int i = 0; i < 300; ++i) {
                ASSERT_EQ(rename(P("sub").c_str(), P("moved").c_str()), 0);
                ASSERT_EQ(rename(P("moved").c_str(), P("sub").c_str()), 0);
                ASSERT_EQ(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD, P("other").c_str(),
                                    RENAME_EXCHANGE), 0);
              }
            }),
            0);
  // 300 exchanges: "sub" is the first directory again.
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  ASSERT_EQ(rename(P("sub").c_str(), P("moved").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  ASSERT_EQ(rename(P("other").c_str(), P("sub").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 7u);
}

// The same one level down: "a/sub/f" while "a/sub" and "a" move.
TEST_P(HostDirTest, ConcurrentStatsWhileADeepDirectoryMoves) {
  ASSERT_EQ(mkdir(P("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("a/sub").c_str(), 0755), 0);
  WriteHostFile(P("a/sub/f"), "one");
  ASSERT_EQ(mkdir(P("a/other").c_str(), 0755), 0);
  WriteHostFile(P("a/other/f"), "other-f");
  auto acceptable = [](const ErrnoOr<Filestat>& st) {
    return st.ok() ? (st->size == 3 || st->size == 7) : ErrOf(st) == Errno::kNoent;
  };
  EXPECT_EQ(StatSubFWhile(acceptable, [&] {
              for (int i = 0; i < 200; ++i) {
                ASSERT_EQ(rename(P("a/sub").c_str(), P("a/moved").c_str()), 0);
                ASSERT_EQ(rename(P("a/moved").c_str(), P("a/sub").c_str()), 0);
                ASSERT_EQ(renameat2(AT_FDCWD, P("a/sub").c_str(), AT_FDCWD, P("a/other").c_str(),
                                    RENAME_EXCHANGE), 0);
                ASSERT_EQ(rename(P("a").c_str(), P("a2").c_str()), 0);
                ASSERT_EQ(rename(P("a2").c_str(), P("a").c_str()), 0);
              }
            }, "a/sub/f"),
            0);
  EXPECT_EQ(dir_->StatAt(0, "a/sub/f")->size, 3u);
  ASSERT_EQ(rename(P("a").c_str(), P("a2").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/sub/f")), Errno::kNoent);
  ASSERT_EQ(rename(P("a2").c_str(), P("a").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "a/sub/f")->size, 3u);
  ASSERT_EQ(unlink(P("a/sub/f").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/sub/f")), Errno::kNoent);
}

// A forked child shares the process's inotify instance. Its HostDirs going away (here:
// the Unwatch its destructor would make) must not remove the parent's watch, and were
// the watch gone anyway, the parent must go back to checking, not trust a silent queue.
TEST_P(HostDirTest, StatAtStillSeesChangesAfterAForkedChildUnwatches) {
  host::HostDir* host_dir = HostDirWithSub();
  if (host_dir == nullptr) GTEST_SKIP() << "the held fd needs openat2";
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  }
  int id = host_dir->WatchIdForTesting();
  if (id < 0) GTEST_SKIP() << "this filesystem is not watched";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    host::DirWatch::Process().Unwatch(id);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  ASSERT_EQ(rename(P("sub").c_str(), P("moved").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
}

// Where the root cannot be watched (as on a remote filesystem), every stat of
// "sub/name" checks the held fd, and still sees every change.
TEST_P(HostDirTest, StatAtChecksTheSubdirectoryEveryTimeWhenUnwatched) {
  if (GetParam() != host::ResolverMode::kAuto) GTEST_SKIP() << "the held fd needs openat2";
  host::DirWatch::SetEnabledForTesting(false);
  struct Reenable {
    ~Reenable() { host::DirWatch::SetEnabledForTesting(true); }
  } reenable;
  host::HostDir* host_dir = HostDirWithSub();
  ASSERT_NE(host_dir, nullptr);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  }
  EXPECT_EQ(host_dir->SubdirChecksForTesting(), 4u);
  ASSERT_EQ(symlink("..", P("alt").c_str()), 0);
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD, P("alt").c_str(), RENAME_EXCHANGE),
            0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kPerm);
  EXPECT_EQ(dir_->StatAt(0, "alt/f")->size, 3u);
}

// A name stat'ed again in a held subdirectory is answered by fstat(2) of a held fd of
// it, with its attributes read live, until anything is removed, renamed or renamed over
// in the root or the subdirectory, or their metadata changes: each change below, made
// as another program would, follows stats that the held fd answered.
TEST_P(HostDirTest, StatAtAnswersARepeatedNameFromItsHeldFdOnlyWhileNothingMoved) {
  host::HostDir* host_dir = HostDirWithSub();
  if (host_dir == nullptr) GTEST_SKIP() << "the held fd needs openat2";
  ASSERT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  if (host_dir->WatchIdForTesting() < 0) GTEST_SKIP() << "this filesystem is not watched";
  auto hits = [&] { return host_dir->LeafHitsForTesting(); };
  MakeOutsideFile();
  // Stats "sub/f" until the held fd answers (following or not), and asserts that it does.
  auto warm = [&](Filesize want) {
    ASSERT_EQ(StatSubFAgain(want, kLookupSymlinkFollow, 3, hits), 3u)
        << "the held fd did not answer";
  };
  warm(3);
  // Attributes are the inode's own, read live: new contents, a new link.
  WriteHostFile(P("sub/f"), "longer");
  uint64_t before = hits();
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 6u);
  ASSERT_EQ(link(P("sub/f").c_str(), P("f2").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->nlink, 2u);
  EXPECT_EQ(hits(), before + 2);
  // Another file renamed over it.
  WriteHostFile(P("sub/g"), "ggggggg");
  ASSERT_EQ(rename(P("sub/g").c_str(), P("sub/f").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 7u);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->nlink, 1u);
  warm(7);
  // Removed, then created again.
  ASSERT_EQ(unlink(P("sub/f").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  WriteHostFile(P("sub/f"), "four");
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 4u);
  warm(4);
  // Exchanged with a symlink leading out, and back.
  ASSERT_EQ(symlink("../../outside/f", P("sub/l").c_str()), 0);
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub/f").c_str(), AT_FDCWD, P("sub/l").c_str(),
                      RENAME_EXCHANGE), 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->filetype, Filetype::kSymbolicLink);
  EXPECT_EQ(ErrOf(dir_->StatAt(kLookupSymlinkFollow, "sub/f")), Errno::kPerm);
  EXPECT_EQ(dir_->StatAt(0, "sub/l")->size, 4u);
  ASSERT_EQ(renameat2(AT_FDCWD, P("sub/f").c_str(), AT_FDCWD, P("sub/l").c_str(),
                      RENAME_EXCHANGE), 0);
  warm(4);
  // The file's own mode changes.
  ASSERT_EQ(chmod(P("sub/f").c_str(), 0600), 0);
  struct stat host_st;
  ASSERT_EQ(stat(P("sub/f").c_str(), &host_st), 0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->ctim,
            static_cast<Timestamp>(host_st.st_ctim.tv_sec) * 1000000000 +
                static_cast<Timestamp>(host_st.st_ctim.tv_nsec));
  warm(4);
  // The subdirectory loses its search permission (root searches anyway).
  if (geteuid() != 0) {
    ASSERT_EQ(chmod(P("sub").c_str(), 0600), 0);
    EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kAcces);
    ASSERT_EQ(chmod(P("sub").c_str(), 0755), 0);
    warm(4);
  }
  // The subdirectory moves out, and another takes its name.
  ASSERT_EQ(rename(P("sub").c_str(), (base_ + "/moved").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "sub/f")), Errno::kNoent);
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  WriteHostFile(P("sub/f"), "fifth");
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 5u);
  warm(5);
}

// A deeper directory ("a/b/c" of "a/b/c/f") is held once stat'ed through twice, and
// answers, with its leaves, without a check while nothing on the way moved; every
// change made on the way (as another program would) is seen at the next stat.
TEST_P(HostDirTest, StatAtHoldsADeepDirectoryOnlyWhileNothingOnTheWayMoved) {
  if (GetParam() != host::ResolverMode::kAuto) GTEST_SKIP() << "the held fd needs openat2";
  auto* host_dir = dynamic_cast<host::HostDir*>(dir_.get());
  ASSERT_NE(host_dir, nullptr);
  ASSERT_EQ(mkdir(P("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("a/b").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("a/b/c").c_str(), 0755), 0);
  WriteHostFile(P("a/b/c/f"), "three");
  MakeOutsideFile();
  ASSERT_EQ(dir_->StatAt(0, "a/b/c/f")->size, 5u);
  if (host_dir->WatchIdForTesting() == -1) GTEST_SKIP() << "this filesystem is not watched";
  auto checks = [&] { return host_dir->SubdirChecksForTesting(); };
  auto hits = [&] { return host_dir->LeafHitsForTesting(); };
  // Stats "a/b/c/f" until the held fds answer, and asserts that they do, unchecked.
  auto warm = [&](Filesize want) {
    ASSERT_EQ(StatAgain("a/b/c/f", want, 0, 4, checks), 0u) << "the directory was checked";
    ASSERT_EQ(StatAgain("a/b/c/f", want, 0, 4, hits), 4u) << "the held leaf did not answer";
  };
  warm(5);
  // Files coming and going on the way move no directory: no walk again.
  WriteHostFile(P("a/file"), "x");
  ASSERT_EQ(rename(P("a/file").c_str(), P("a/b/file2").c_str()), 0);
  ASSERT_EQ(unlink(P("a/b/file2").c_str()), 0);
  uint64_t walks = checks();
  EXPECT_EQ(dir_->StatAt(0, "a/b/c/f")->size, 5u);
  EXPECT_EQ(checks(), walks);
  // The held directory itself moved into another "a/b" built beside, which then takes
  // the old one's place: "a/b/c" names the same directory through directories that
  // were not on the way before; a change in them is seen too.
  ASSERT_EQ(mkdir(P("x").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("x/b").c_str(), 0755), 0);
  ASSERT_EQ(rename(P("a/b/c").c_str(), P("x/b/c").c_str()), 0);
  ASSERT_EQ(rename(P("a").c_str(), P("old").c_str()), 0);
  ASSERT_EQ(rename(P("x").c_str(), P("a").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "a/b/c/f")->size, 5u);
  warm(5);
  ASSERT_EQ(rename(P("a/b/c").c_str(), P("a/b/c2").c_str()), 0);
  ASSERT_EQ(mkdir(P("a/b/c").c_str(), 0755), 0);
  WriteHostFile(P("a/b/c/f"), "other dir");
  EXPECT_EQ(dir_->StatAt(0, "a/b/c/f")->size, 9u);
  ASSERT_EQ(unlink(P("a/b/c/f").c_str()), 0);
  ASSERT_EQ(rmdir(P("a/b/c").c_str()), 0);
  ASSERT_EQ(rename(P("a/b/c2").c_str(), P("a/b/c").c_str()), 0);
  warm(5);
  // Another name in the held directory: stat'ed through it.
  WriteHostFile(P("a/b/c/g"), "gg");
  EXPECT_EQ(dir_->StatAt(0, "a/b/c/g")->size, 2u);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/b/c/missing")), Errno::kNoent);
  // A directory in the middle renamed away, then back.
  ASSERT_EQ(rename(P("a/b").c_str(), P("a/b2").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/b/c/f")), Errno::kNoent);
  EXPECT_EQ(dir_->StatAt(0, "a/b2/c/f")->size, 5u);
  ASSERT_EQ(rename(P("a/b2").c_str(), P("a/b").c_str()), 0);
  warm(5);
  // The top directory moved out of the preopen, and another built in its place.
  ASSERT_EQ(rename(P("a").c_str(), (base_ + "/moved").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/b/c/f")), Errno::kNoent);
  ASSERT_EQ(mkdir(P("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("a/b").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("a/b/c").c_str(), 0755), 0);
  WriteHostFile(P("a/b/c/f"), "fresh!");
  EXPECT_EQ(dir_->StatAt(0, "a/b/c/f")->size, 6u);
  warm(6);
  // What the old directories hold now changes nothing here.
  WriteHostFile(base_ + "/moved/b/c/f", "changed outside");
  ASSERT_EQ(rename((base_ + "/moved/b").c_str(), (base_ + "/moved/b9").c_str()), 0);
  EXPECT_EQ(dir_->StatAt(0, "a/b/c/f")->size, 6u);
  // A directory in the middle exchanged with a symlink leading out, and back.
  ASSERT_EQ(symlink("../../outside", P("a/l").c_str()), 0);
  ASSERT_EQ(renameat2(AT_FDCWD, P("a/b").c_str(), AT_FDCWD, P("a/l").c_str(), RENAME_EXCHANGE),
            0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/b/f")), Errno::kPerm);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/b/c/f")), Errno::kPerm);
  ASSERT_EQ(renameat2(AT_FDCWD, P("a/b").c_str(), AT_FDCWD, P("a/l").c_str(), RENAME_EXCHANGE),
            0);
  warm(6);
  // A symlink inside the root on the way is followed (by the general path), every time.
  ASSERT_EQ(unlink(P("a/l").c_str()), 0);
  ASSERT_EQ(symlink("b", P("a/l").c_str()), 0);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(dir_->StatAt(0, "a/l/c/f")->size, 6u);
  }
  // The middle directory loses its search permission (root searches anyway).
  if (geteuid() != 0) {
    ASSERT_EQ(chmod(P("a/b").c_str(), 0600), 0);
    EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/b/c/f")), Errno::kAcces);
    ASSERT_EQ(chmod(P("a/b").c_str(), 0755), 0);
    warm(6);
  }
  // The held directory itself removed, then a file of its name.
  ASSERT_EQ(unlink(P("a/b/c/f").c_str()), 0);
  ASSERT_EQ(rmdir(P("a/b/c").c_str()), 0);
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/b/c/f")), Errno::kNoent);
  WriteHostFile(P("a/b/c"), "file");
  EXPECT_EQ(ErrOf(dir_->StatAt(0, "a/b/c/f")), Errno::kNotdir);
}

// Deep directories are held only when seen again: a walk that visits each directory
// once (as find(1) does) never pays for holding one.
TEST_P(HostDirTest, StatAtHoldsADeepDirectoryOnlyWhenSeenAgain) {
  if (GetParam() != host::ResolverMode::kAuto) GTEST_SKIP() << "the held fd needs openat2";
  auto* host_dir = dynamic_cast<host::HostDir*>(dir_.get());
  ASSERT_NE(host_dir, nullptr);
  ASSERT_EQ(mkdir(P("top").c_str(), 0755), 0);
  constexpr int kDirs = 12;
  for (int i = 0; i < kDirs; ++i) {
    std::string d = "top/d" + std::to_string(i);
    ASSERT_EQ(mkdir(P(d).c_str(), 0755), 0);
    WriteHostFile(P(d + "/f"), std::string(static_cast<size_t>(i + 1), 'x'));
  }
  int before = CountOpenFds();
  for (int i = 0; i < kDirs; ++i) {
    auto st = dir_->StatAt(0, "top/d" + std::to_string(i) + "/f");
    ASSERT_TRUE(st.ok()) << i;
    EXPECT_EQ(st->size, static_cast<Filesize>(i + 1));
  }
  if (before >= 0) {
    EXPECT_EQ(CountOpenFds(), before) << "a directory seen once was held";
  }
  EXPECT_EQ(host_dir->SubdirChecksForTesting(), 0u);
}

// DirWatch's two epochs: `entries` moves with every entry removed or renamed and every
// metadata change in a watched directory (its own included), `subdirs` only when a
// subdirectory entry moves or a watched directory's own metadata changes; a file
// created moves neither (no name changed what it names).
// Both ways of looking at the queue: epoll, and the thread's io_uring doorbell.
TEST_P(HostDirTest, DirWatchEpochsMoveWithTheirKindOfChange) {
  if (GetParam() != host::ResolverMode::kAuto) GTEST_SKIP() << "one run is enough";
  struct RestoreRingUse {
    ~RestoreRingUse() {
      host::DirWatch::SetRingUseForTesting(host::DirWatch::RingUse::kAfterSomeReads);
    }
  } restore;
  for (auto use : {host::DirWatch::RingUse::kNever, host::DirWatch::RingUse::kFromTheFirstRead}) {
    host::DirWatch::SetRingUseForTesting(use);
    const std::string sub_name = use == host::DirWatch::RingUse::kNever ? "sub" : "sub2";
    SCOPED_TRACE(sub_name);
    auto sub_path = [&](const std::string& rest) { return P(sub_name + rest); };
    ASSERT_EQ(mkdir(sub_path("").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(sub_path("/d").c_str(), 0755), 0);
    host::UniqueFd root(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    host::UniqueFd sub(open(sub_path("").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    host::DirWatch& watch = host::DirWatch::Process();
    int root_id = watch.Watch(root.get());
    if (root_id < 0) GTEST_SKIP() << "this filesystem is not watched";
    int sub_id = watch.Watch(sub.get());
    ASSERT_GE(sub_id, 0);
    host::DirWatch::Epochs last = watch.Read(root_id, sub_id);
    ASSERT_NE(last.entries, host::DirWatch::kNoEpoch);
    // Checks which epochs moved since the last call.
    auto moved = [&](bool subdirs, bool entries) {
      host::DirWatch::Epochs now = watch.Read(root_id, sub_id);
      EXPECT_EQ(now.subdirs != last.subdirs, subdirs);
      EXPECT_EQ(now.entries != last.entries, entries);
      last = now;
    };
    WriteHostFile(sub_path("/f"), "x");
    moved(false, false);
    ASSERT_EQ(rename(sub_path("/f").c_str(), sub_path("/g").c_str()), 0);
    moved(false, true);
    ASSERT_EQ(chmod(sub_path("/g").c_str(), 0600), 0);
    moved(false, true);
    // The search permission of a watched directory, the root's included: a held fd
    // skips the search that a walk would make.
    ASSERT_EQ(chmod(sub_path("").c_str(), 0700), 0);
    moved(true, true);
    ASSERT_EQ(chmod(root_.c_str(), 0700), 0);
    moved(true, true);
    ASSERT_EQ(chmod(root_.c_str(), 0755), 0);
    moved(true, true);
    ASSERT_EQ(unlink(sub_path("/g").c_str()), 0);
    moved(false, true);
    ASSERT_EQ(rename(sub_path("/d").c_str(), sub_path("/e").c_str()), 0);
    moved(true, true);
    watch.Unwatch(sub_id);
    host::DirWatch::Epochs gone = watch.Read(root_id, sub_id);
    EXPECT_EQ(gone.entries, host::DirWatch::kNoEpoch);
    EXPECT_NE(gone.subdirs, host::DirWatch::kNoEpoch);
    watch.Unwatch(root_id);
    EXPECT_EQ(watch.Read(root_id, -1).subdirs, host::DirWatch::kNoEpoch);
  }
}

// A thread's io_uring doorbell: while nothing is queued, Read() makes no system call;
// a change made by this thread, by another thread or by another process rings it at
// once (inside the system call that made the change).
TEST_P(HostDirTest, DirWatchDoorbellRingsForChangesFromAnywhere) {
  if (GetParam() != host::ResolverMode::kAuto) GTEST_SKIP() << "one run is enough";
  struct RestoreRingUse {
    ~RestoreRingUse() {
      host::DirWatch::SetRingUseForTesting(host::DirWatch::RingUse::kAfterSomeReads);
    }
  } restore;
  host::DirWatch::SetRingUseForTesting(host::DirWatch::RingUse::kFromTheFirstRead);
  ASSERT_EQ(mkdir(P("d0").c_str(), 0755), 0);
  host::UniqueFd root(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  host::DirWatch& watch = host::DirWatch::Process();
  int root_id = watch.Watch(root.get());
  if (root_id < 0) GTEST_SKIP() << "this filesystem is not watched";
  struct Unwatch {
    int id;
    ~Unwatch() { host::DirWatch::Process().Unwatch(id); }
  } unwatch{root_id};
  uint64_t last = watch.Read(root_id, -1).subdirs;
  if (!host::DirWatch::ThisThreadHasRingForTesting()) GTEST_SKIP() << "no io_uring here";
  int renames = 0;
  // Renames d<n> to d<n+1> with `how`, then checks that the next Read() saw it, and
  // that the ones after it make no system call.
  auto rename_and_check = [&](const char* who,
                              const std::function<void(std::string, std::string)>& how) {
    SCOPED_TRACE(who);
    how(P("d" + std::to_string(renames)), P("d" + std::to_string(renames + 1)));
    ++renames;
    uint64_t now = watch.Read(root_id, -1).subdirs;
    EXPECT_NE(now, last);
    last = now;
    uint64_t looks = host::DirWatch::QueueLooksForTesting();
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(watch.Read(root_id, -1).subdirs, last);
    }
    EXPECT_EQ(host::DirWatch::QueueLooksForTesting(), looks);
  };
  rename_and_check("this thread", [](std::string from, std::string to) {
    ASSERT_EQ(rename(from.c_str(), to.c_str()), 0);
  });
  rename_and_check("another thread", [](std::string from, std::string to) {
    std::thread([&] { ASSERT_EQ(rename(from.c_str(), to.c_str()), 0); }).join();
  });
  rename_and_check("another process", [](std::string from, std::string to) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(rename(from.c_str(), to.c_str()) == 0 ? 0 : 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  });
  // Many events between two reads (more than the ring's completion queue holds).
  rename_and_check("many times", [](std::string from, std::string to) {
    for (int i = 0; i < 50; ++i) {
      ASSERT_EQ(rename(from.c_str(), to.c_str()), 0);
      ASSERT_EQ(rename(to.c_str(), from.c_str()), 0);
    }
    ASSERT_EQ(rename(from.c_str(), to.c_str()), 0);
  });
  host::DirWatch::SetRingUseForTesting(host::DirWatch::RingUse::kNever);
  watch.Read(root_id, -1);
  EXPECT_FALSE(host::DirWatch::ThisThreadHasRingForTesting());
}

// Each thread's doorbell costs an fd: however many threads read, at most 64 hold one at
// a time; the others look with epoll_wait and see the same epochs.
TEST_P(HostDirTest, DirWatchDoorbellsAreCappedThreadsBeyondLookWithEpoll) {
  if (GetParam() != host::ResolverMode::kAuto) GTEST_SKIP() << "one run is enough";
  host::UniqueFd root(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  host::DirWatch& watch = host::DirWatch::Process();
  int root_id = watch.Watch(root.get());
  if (root_id < 0) GTEST_SKIP() << "this filesystem is not watched";
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  constexpr int kThreads = 80;
  std::atomic<int> with_ring{0}, ready{0}, wrong{0};
  std::atomic<bool> renamed{false}, checked{false};
  uint64_t before = watch.Read(root_id, -1).subdirs;
  const int held_elsewhere = host::DirWatch::LiveRingsForTesting();  // this thread's, say
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < host::DirWatch::kReadsBeforeRing + 1; ++i) watch.Read(root_id, -1);
      if (host::DirWatch::ThisThreadHasRingForTesting()) ++with_ring;
      ++ready;
      while (!renamed.load()) std::this_thread::yield();
      if (watch.Read(root_id, -1).subdirs == before) ++wrong;  // the rename was missed
      ++ready;
      while (!checked.load()) std::this_thread::yield();
    });
  }
  while (ready.load() < kThreads) std::this_thread::yield();
  ASSERT_EQ(rename(P("d").c_str(), P("e").c_str()), 0);
  renamed.store(true);
  while (ready.load() < 2 * kThreads) std::this_thread::yield();
  checked.store(true);
  for (auto& t : threads) t.join();
  watch.Unwatch(root_id);
  EXPECT_EQ(wrong.load(), 0);
  if (with_ring.load() == 0) GTEST_SKIP() << "no io_uring here";
  EXPECT_EQ(with_ring.load(), 64 - held_elsewhere);
}

// WEFT_IO_URING=0 (the operator's switch, README) keeps threads from getting a doorbell.
TEST_P(HostDirTest, DirWatchDoorbellOffWithWeftIoUring0) {
  if (GetParam() != host::ResolverMode::kAuto) GTEST_SKIP() << "one run is enough";
  host::DirWatch& watch = host::DirWatch::Process();
  auto thread_gets_a_ring = [&] {
    bool has = false;
    std::thread([&] {
      for (int i = 0; i < host::DirWatch::kReadsBeforeRing + 1; ++i) watch.Read(-1, -1);
      has = host::DirWatch::ThisThreadHasRingForTesting();
    }).join();
    return has;
  };
  if (!thread_gets_a_ring()) GTEST_SKIP() << "no io_uring here";
  ASSERT_EQ(setenv("WEFT_IO_URING", "0", 1), 0);
  EXPECT_FALSE(thread_gets_a_ring());
  ASSERT_EQ(setenv("WEFT_IO_URING", "1", 1), 0);
  EXPECT_TRUE(thread_gets_a_ring());
  ASSERT_EQ(unsetenv("WEFT_IO_URING"), 0);
}

// A held leaf costs an fd: a few are held, never more, whatever is stat'ed.
TEST_P(HostDirTest, StatAtHoldsAFewLeavesNeverMore) {
  host::HostDir* host_dir = HostDirWithSub();
  if (host_dir == nullptr) GTEST_SKIP() << "the held fd needs openat2";
  constexpr int kNames = 9;
  for (int i = 0; i < kNames; ++i) {
    WriteHostFile(P("sub/n" + std::to_string(i)), std::string(static_cast<size_t>(i), 'x'));
  }
  ASSERT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  int before = CountOpenFds();  // the subdirectory is held from here on
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kNames; ++i) {
      for (int again = 0; again < 3; ++again) {
        auto st = dir_->StatAt(0, "sub/n" + std::to_string(i));
        ASSERT_TRUE(st.ok()) << i;
        EXPECT_EQ(st->size, static_cast<Filesize>(i)) << i;
      }
    }
  }
  if (before >= 0) {
    EXPECT_LE(CountOpenFds(), before + 4);
  }
}

// What the guest removes through the HostDir (unlink, rmdir, rename over) is not kept
// open by a held leaf: its blocks are freed at once.
TEST_P(HostDirTest, StatAtLetsGoOfLeavesWhenTheGuestRemovesSomething) {
  host::HostDir* host_dir = HostDirWithSub();
  if (host_dir == nullptr) GTEST_SKIP() << "the held fd needs openat2";
  ASSERT_EQ(dir_->StatAt(0, "sub/f")->size, 3u);
  if (host_dir->WatchIdForTesting() < 0) GTEST_SKIP() << "this filesystem is not watched";
  ASSERT_EQ(mkdir(P("sub/d").c_str(), 0755), 0);
  WriteHostFile(P("sub/g"), "gg");
  int before = CountOpenFds();
  if (before < 0) GTEST_SKIP() << "no /proc";
  // Holds "sub/NAME" (stat'ed twice), then removes it with `remove`: one fd fewer after.
  auto held_then_removed = [&](const char* name, const std::function<ErrnoOr<void>()>& remove) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(dir_->StatAt(0, std::string("sub/") + name).ok()) << name;
    }
    ASSERT_EQ(CountOpenFds(), before + 1) << name;
    ASSERT_TRUE(remove().ok()) << name;
    EXPECT_EQ(CountOpenFds(), before) << name;
  };
  held_then_removed("f", [&] { return dir_->UnlinkFile("sub/f"); });
  held_then_removed("d", [&] { return dir_->RemoveDir("sub/d"); });
  WriteHostFile(P("h"), "hhhh");
  held_then_removed("g", [&] { return dir_->Rename("h", *dir_, "sub/g"); });
  EXPECT_EQ(dir_->StatAt(0, "sub/g")->size, 4u);
}

// Stats of "sub/f" from several threads while another program keeps exchanging "sub/f"
// and "sub/g" (RENAME_EXCHANGE): every answer is one of the two, and once the exchanges
// stop the next stat sees where things ended up. (Run under ThreadSanitizer in CI.)
TEST_P(HostDirTest, ConcurrentStatsWhileTheNameIsExchanged) {
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  WriteHostFile(P("sub/f"), "one");
  WriteHostFile(P("sub/g"), "other-g");
  auto acceptable = [](const ErrnoOr<Filestat>& st) {
    return st.ok() && (st->size == 3 || st->size == 7);
  };
  EXPECT_EQ(StatSubFWhile(acceptable, [&] {
              for (int i = 0; i < 301; ++i) {
                ASSERT_EQ(renameat2(AT_FDCWD, P("sub/f").c_str(), AT_FDCWD, P("sub/g").c_str(),
                                    RENAME_EXCHANGE), 0);
              }
            }),
            0);
  EXPECT_EQ(dir_->StatAt(0, "sub/f")->size, 7u);  // an odd number of exchanges
  EXPECT_EQ(dir_->StatAt(0, "sub/g")->size, 3u);
}

// A HostFile keeps its fdflags (fd_fdstat_get without fcntl); they must be what the
// host reports, after open and after SetFdflags.
TEST_P(HostDirTest, HostFileFdflagsMatchTheHost) {
  WriteHostFile(P("f"), "x");
  auto host_flags = [](Handle& h) {
    int fl = fcntl(static_cast<FdFile&>(h).fd(), F_GETFL);
    EXPECT_GE(fl, 0);
    return host::FdflagsFromHostFlags(fl);
  };
  for (Fdflags ff : {Fdflags{0}, kFdflagAppend, kFdflagNonblock, kFdflagDsync, kFdflagSync,
                     Fdflags(kFdflagAppend | kFdflagNonblock)}) {
    auto h = dir_->OpenAt("f", Opts(0, true, true, 0, ff));
    ASSERT_TRUE(h.ok()) << ff;
    EXPECT_EQ(*(*h)->GetFdflags(), host_flags(**h)) << ff;
    EXPECT_EQ(*(*h)->GetFdflags() & (kFdflagAppend | kFdflagNonblock),
              ff & (kFdflagAppend | kFdflagNonblock));
    ASSERT_TRUE((*h)->SetFdflags(kFdflagNonblock).ok());
    EXPECT_EQ(*(*h)->GetFdflags(), host_flags(**h));
    EXPECT_TRUE(*(*h)->GetFdflags() & kFdflagNonblock);
    EXPECT_FALSE(*(*h)->GetFdflags() & kFdflagAppend);
    ASSERT_TRUE((*h)->SetFdflags(kFdflagAppend).ok());
    EXPECT_EQ(*(*h)->GetFdflags(), host_flags(**h));
    EXPECT_EQ(ErrOf((*h)->SetFdflags(kFdflagSync)), Errno::kInval);
    EXPECT_EQ(*(*h)->GetFdflags(), host_flags(**h));
  }
  auto created = dir_->OpenAt("new", Opts(kOflagCreat | kOflagExcl, false, true, 0, kFdflagAppend));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(*(*created)->GetFdflags(), kFdflagAppend);
  EXPECT_EQ(*(*created)->GetFdflags(), host_flags(**created));
}

// A one-component path is unlinked, created and renamed directly in the root fd.
TEST_P(HostDirTest, SingleComponentOpsActOnTheRoot) {
  WriteHostFile(P("f"), "x");
  ASSERT_TRUE(dir_->CreateDir("sub").ok());
  struct stat hs;
  EXPECT_EQ(stat(P("sub").c_str(), &hs), 0);
  EXPECT_TRUE(S_ISDIR(hs.st_mode));
  ASSERT_TRUE(dir_->Rename("f", *dir_, "g").ok());
  EXPECT_NE(stat(P("f").c_str(), &hs), 0);
  EXPECT_EQ(stat(P("g").c_str(), &hs), 0);
  ASSERT_TRUE(dir_->UnlinkFile("g").ok());
  EXPECT_NE(stat(P("g").c_str(), &hs), 0);
  EXPECT_EQ(ErrOf(dir_->UnlinkFile("g")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->UnlinkFile("sub")), Errno::kIsdir);
  ASSERT_TRUE(dir_->RemoveDir("sub").ok());
  EXPECT_EQ(ErrOf(dir_->RemoveDir("sub")), Errno::kNoent);
  EXPECT_EQ(ErrOf(dir_->UnlinkFile("..")), Errno::kPerm);
}

TEST_P(HostDirTest, SetTimesAt) {
  WriteHostFile(P("f"), "");
  WriteHostFile(P("t"), "");
  ASSERT_EQ(symlink("t", P("l").c_str()), 0);
  const Timestamp kT = 1000000000ull * 1234567 + 89;
  ASSERT_TRUE(dir_->SetTimesAt(0, "f", kT, kT + 1, kFstAtim | kFstMtim).ok());
  struct stat st;
  ASSERT_EQ(stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1234567);
  EXPECT_EQ(st.st_atim.tv_nsec, 89);
  EXPECT_EQ(st.st_mtim.tv_nsec, 90);
  // Only mtime: atime is left alone.
  ASSERT_TRUE(dir_->SetTimesAt(0, "f", 0, 5000000000ull, kFstMtim).ok());
  ASSERT_EQ(stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 5);
  EXPECT_EQ(st.st_atim.tv_sec, 1234567);
  // MTIM_NOW moves mtime to about now.
  ASSERT_TRUE(dir_->SetTimesAt(0, "f", 0, 0, kFstMtimNow).ok());
  ASSERT_EQ(stat(P("f").c_str(), &st), 0);
  EXPECT_GT(st.st_mtim.tv_sec, time(nullptr) - 60);
  EXPECT_EQ(ErrOf(dir_->SetTimesAt(0, "f", 1, 1, kFstAtim | kFstAtimNow)), Errno::kInval);
  EXPECT_EQ(ErrOf(dir_->SetTimesAt(0, "f", 1, 1, kFstMtim | kFstMtimNow)), Errno::kInval);
  EXPECT_EQ(ErrOf(dir_->SetTimesAt(0, "missing", 1, 1, kFstMtim)), Errno::kNoent);
  // Not following touches the link, following touches its target.
  ASSERT_TRUE(dir_->SetTimesAt(0, "l", 0, 7000000000ull, kFstMtim).ok());
  ASSERT_EQ(lstat(P("l").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 7);
  ASSERT_EQ(stat(P("t").c_str(), &st), 0);
  EXPECT_NE(st.st_mtim.tv_sec, 7);
  ASSERT_TRUE(dir_->SetTimesAt(kLookupSymlinkFollow, "l", 0, 9000000000ull, kFstMtim).ok());
  ASSERT_EQ(stat(P("t").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 9);
}

TEST_P(HostDirTest, ReaddirListsEverythingWithTypes) {
  WriteHostFile(P("f"), "");
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(symlink("f", P("l").c_str()), 0);
  std::map<std::string, Filetype> seen;
  ASSERT_TRUE(dir_->Readdir(0,
                            [&](const DirEntry& e) {
                              EXPECT_TRUE(seen.emplace(e.name, e.type).second) << e.name;
                              return true;
                            })
                  .ok());
  std::map<std::string, Filetype> want = {{".", Filetype::kDirectory},
                                          {"..", Filetype::kDirectory},
                                          {"f", Filetype::kRegularFile},
                                          {"d", Filetype::kDirectory},
                                          {"l", Filetype::kSymbolicLink}};
  EXPECT_EQ(seen, want);
}

TEST_P(HostDirTest, ReaddirCookiesResumeAcrossCalls) {
  const int kFiles = 300;  // more than one getdents64 buffer's worth of names
  for (int i = 0; i < kFiles; ++i) {
    WriteHostFile(P("file_with_a_longish_name_" + std::to_string(i)), "");
  }
  // Read in pages of 7 entries, each call starting from the last cookie.
  std::vector<std::string> names;
  Dircookie cookie = 0;
  std::vector<Dircookie> cookies;
  for (int calls = 0; calls < 1000; ++calls) {
    int got = 0;
    ASSERT_TRUE(dir_->Readdir(cookie,
                              [&](const DirEntry& e) {
                                names.push_back(e.name);
                                cookie = e.next;
                                cookies.push_back(e.next);
                                return ++got < 7;
                              })
                    .ok());
    if (got == 0) break;
  }
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(names.size(), unique.size());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kFiles + 2));
  EXPECT_TRUE(unique.count(".") && unique.count(".."));
  // An old cookie still resumes at the same place later.
  ASSERT_GT(cookies.size(), 100u);
  std::string after_50;
  ASSERT_TRUE(dir_->Readdir(cookies[49],
                            [&](const DirEntry& e) {
                              after_50 = e.name;
                              return false;
                            })
                  .ok());
  EXPECT_EQ(after_50, names[50]);
  // The cookie past the end yields nothing.
  int extra = 0;
  ASSERT_TRUE(dir_->Readdir(cookies.back(),
                            [&](const DirEntry&) {
                              ++extra;
                              return true;
                            })
                  .ok());
  EXPECT_EQ(extra, 0);
}

TEST_P(HostDirTest, ReadOnlyPreopenRefusesEveryWrite) {
  WriteHostFile(P("f"), "orig");
  ASSERT_EQ(mkdir(P("d").c_str(), 0755), 0);
  ASSERT_EQ(symlink("f", P("l").c_str()), 0);
  struct stat before;
  ASSERT_EQ(stat(P("f").c_str(), &before), 0);
  auto ro = OpenHostDir(root_, true);
  ASSERT_TRUE(ro.ok());
  Dir& r = **ro;
  EXPECT_EQ(ErrOf(r.OpenAt("new", Opts(kOflagCreat, false, true))), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.OpenAt("new", Opts(kOflagCreat, true, false))), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.OpenAt("f", Opts(0, false, true))), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.OpenAt("f", Opts(kOflagTrunc, true, false))), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.CreateDir("nd")), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.RemoveDir("d")), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.UnlinkFile("f")), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.Rename("f", r, "g")), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.Rename("f", *dir_, "g")), Errno::kPerm);
  EXPECT_EQ(ErrOf(dir_->Rename("f", r, "g")), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.Link(0, "f", r, "g")), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.Symlink("f", "s")), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.SetTimesAt(0, "f", 0, 1, kFstMtim)), Errno::kPerm);
  EXPECT_EQ(ErrOf(r.SetTimes(0, 1, kFstMtim)), Errno::kPerm);
  // Reads work; the opened file refuses modification.
  auto h = r.OpenAt("f", Opts(0, true, false));
  ASSERT_TRUE(h.ok());
  File* f = (*h)->AsFile();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(ReadAll(*f), "orig");
  EXPECT_EQ(ErrOf(WriteStr(*f, "x")), Errno::kBadf);
  EXPECT_EQ(ErrOf(f->SetSize(0)), Errno::kPerm);
  EXPECT_EQ(ErrOf(f->SetTimes(0, 1, kFstMtim)), Errno::kPerm);
  EXPECT_TRUE(r.StatAt(0, "f").ok());
  EXPECT_EQ(*r.Readlink("l"), "f");
  int entries = 0;
  EXPECT_TRUE(r.Readdir(0, [&](const DirEntry&) {
                 ++entries;
                 return true;
               }).ok());
  EXPECT_EQ(entries, 5);
  // A directory opened beneath a read-only preopen is read-only too.
  auto sub = r.OpenAt("d", Opts(kOflagDirectory, true, false));
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(ErrOf((*sub)->AsDir()->CreateDir("x")), Errno::kPerm);
  // Nothing changed on the host.
  struct stat after;
  ASSERT_EQ(stat(P("f").c_str(), &after), 0);
  EXPECT_EQ(ReadHostFile(P("f")), "orig");
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_FALSE(HostExists(P("new")));
  EXPECT_FALSE(HostExists(P("nd")));
  EXPECT_FALSE(HostExists(P("g")));
  EXPECT_FALSE(HostExists(P("d/x")));
}

TEST_P(HostDirTest, DirHandleStatSyncAndTimes) {
  auto st = dir_->Stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->filetype, Filetype::kDirectory);
  EXPECT_EQ(dir_->filetype(), Filetype::kDirectory);
  EXPECT_TRUE(dir_->Sync().ok());
  EXPECT_TRUE(dir_->Datasync().ok());
  ASSERT_TRUE(dir_->SetTimes(0, 11000000000ull, kFstMtim).ok());
  struct stat hs;
  ASSERT_EQ(stat(root_.c_str(), &hs), 0);
  EXPECT_EQ(hs.st_mtim.tv_sec, 11);
  EXPECT_EQ(ErrOf(dir_->SetTimes(1, 1, kFstAtim | kFstAtimNow)), Errno::kInval);
}

TEST(OpenHostDirTest, Errors) {
  std::string base = MakeTempDir();
  WriteHostFile(base + "/file", "");
  EXPECT_EQ(ErrOf(OpenHostDir(base + "/missing", false)), Errno::kNoent);
  EXPECT_EQ(ErrOf(OpenHostDir(base + "/file", false)), Errno::kNotdir);
  EXPECT_EQ(ErrOf(OpenHostDir("", false)), Errno::kNoent);
  EXPECT_TRUE(OpenHostDir(base, true).ok());
  RemoveTree(base);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, HostDirTest, testing::AllResolvers(), ModeName);

}  // namespace
}  // namespace weft::wasi
