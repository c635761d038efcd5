// Table semantics: lowest free fd, InsertAt, Remove, Renumber, rights, capacity,
// sharing between contexts, and concurrent use.
#include "weft/wasi/table.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "weft/wasi/ctx.h"
#include "weft/wasi/fd_file.h"
#include "weft/wasi/pipe.h"
#include "weft/wasi/virtual_fs.h"

namespace weft::wasi {
namespace {

std::shared_ptr<Handle> NewPipe() { return std::make_shared<WritePipe>(); }

TEST(TableTest, PushHandsOutLowestFreeFd) {
  Table t;
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 0u);
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 1u);
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 2u);
  ASSERT_TRUE(t.Remove(1).ok());
  ASSERT_TRUE(t.Remove(0).ok());
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 0u);
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 1u);
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 3u);
  EXPECT_EQ(t.size(), 4u);
}

TEST(TableTest, InsertAtLeavesGapsFreeAndReplaces) {
  Table t;
  auto a = NewPipe(), b = NewPipe();
  ASSERT_TRUE(t.InsertAt(5, Entry::For(a)).ok());
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 0u);
  ASSERT_TRUE(t.InsertAt(5, Entry::For(b)).ok());
  EXPECT_EQ(t.Get(5)->handle, b);
  EXPECT_EQ(a.use_count(), 1);  // the replaced entry was dropped
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.Fds(), (std::vector<Fd>{0, 5}));
}

// A slot filled by InsertAt while it was free is skipped by Push, and handed out again
// once removed.
TEST(TableTest, PushSkipsSlotsFilledByInsertAt) {
  Table t;
  ASSERT_TRUE(t.InsertAt(5, Entry::For(NewPipe())).ok());
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 0u);
  ASSERT_TRUE(t.InsertAt(2, Entry::For(NewPipe())).ok());
  ASSERT_TRUE(t.InsertAt(1, Entry::For(NewPipe())).ok());
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 3u);
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 4u);
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 6u);
  ASSERT_TRUE(t.Remove(2).ok());
  ASSERT_TRUE(t.Renumber(4, 5).ok());  // frees 4
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 2u);
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 4u);
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 7u);
  EXPECT_EQ(t.size(), 8u);
}

// Push always answers the lowest free fd, over a long random mix of operations
// (checked against a plain model; exercises the free list's stale-entry cleanup).
TEST(TableTest, PushMatchesLowestFreeModelUnderRandomOps) {
  Table t(64);
  std::vector<bool> used(64, false);
  uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  for (int step = 0; step < 20000; ++step) {
    Fd fd = next() % 64;
    switch (next() % 4) {
      case 0: {
        auto r = t.Push(Entry::For(NewPipe()));
        Fd expect = 0;
        while (expect < 64 && used[expect]) ++expect;
        if (expect == 64) {
          EXPECT_FALSE(r.ok());
        } else {
          ASSERT_TRUE(r.ok());
          ASSERT_EQ(*r, expect) << "step " << step;
          used[expect] = true;
        }
        break;
      }
      case 1:
        ASSERT_TRUE(t.InsertAt(fd, Entry::For(NewPipe())).ok());
        used[fd] = true;
        break;
      case 2:
        EXPECT_EQ(t.Remove(fd).ok(), used[fd]);
        used[fd] = false;
        break;
      case 3: {
        Fd to = next() % 64;
        bool ok = used[fd] && used[to];
        EXPECT_EQ(t.Renumber(fd, to).ok(), ok);
        if (ok && fd != to) used[fd] = false;
        break;
      }
    }
    size_t n = 0;
    for (bool u : used) n += u;
    ASSERT_EQ(t.size(), n);
  }
}

TEST(TableTest, MissingFdIsEbadf) {
  Table t;
  EXPECT_EQ(t.Get(0).error(), Errno::kBadf);
  EXPECT_EQ(t.Remove(7).error(), Errno::kBadf);
  EXPECT_EQ(t.GetHandle(1u << 31).error(), Errno::kBadf);
}

TEST(TableTest, GetAsChecksTypeThenRights) {
  Table t;
  Fd file = *t.Push(Entry::For(NewPipe()));
  Fd dir = *t.Push(Entry::For(MakeVirtualFs(), "/"));
  EXPECT_TRUE(t.GetAs<File>(file, rights::kFdWrite).ok());
  EXPECT_EQ(t.GetAs<Dir>(file).error(), Errno::kBadf);
  EXPECT_EQ(t.GetAs<File>(dir).error(), Errno::kBadf);
  EXPECT_EQ(t.GetAs<Dir>(dir, rights::kFdRead).error(), Errno::kNotcapable);
  EXPECT_TRUE(t.GetAs<WritePipe>(file).ok());
  EXPECT_EQ(t.GetAs<ReadPipe>(file).error(), Errno::kBadf);
}

TEST(TableTest, SetRightsOnlyNarrows) {
  Table t;
  Fd fd = *t.Push(Entry::For(NewPipe()));
  Rights base = t.Get(fd)->base;
  ASSERT_TRUE(t.SetRights(fd, base & ~rights::kFdWrite, 0).ok());
  EXPECT_EQ(t.GetHandle(fd, rights::kFdWrite).error(), Errno::kNotcapable);
  EXPECT_EQ(t.SetRights(fd, base, 0).error(), Errno::kNotcapable);
  EXPECT_EQ(t.SetRights(99, 0, 0).error(), Errno::kBadf);
}

TEST(TableTest, DefaultRights) {
  auto dir = MakeVirtualFs();
  Entry d = Entry::For(dir, "/x");
  EXPECT_EQ(d.base, rights::kDirBase);
  EXPECT_EQ(d.inheriting, rights::kAll);
  EXPECT_EQ(*d.preopen, "/x");
  Entry f = Entry::For(NewPipe());
  EXPECT_EQ(f.base, rights::kFileBase);
  EXPECT_EQ(f.inheriting, 0u);
}

TEST(TableTest, RenumberMovesAndClosesTarget) {
  Table t;
  auto a = NewPipe(), b = NewPipe();
  Fd fa = *t.Push(Entry::For(a));
  Fd fb = *t.Push(Entry::For(b));
  ASSERT_TRUE(t.Renumber(fa, fb).ok());
  EXPECT_EQ(t.Get(fb)->handle, a);
  EXPECT_EQ(t.Get(fa).error(), Errno::kBadf);
  EXPECT_EQ(b.use_count(), 1);
  EXPECT_EQ(t.size(), 1u);
  // The freed fd is reused first.
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), fa);
}

TEST(TableTest, RenumberNeedsBothFdsOpen) {
  Table t;
  Fd fa = *t.Push(Entry::For(NewPipe()));
  EXPECT_EQ(t.Renumber(fa, 9).error(), Errno::kBadf);
  EXPECT_EQ(t.Renumber(9, fa).error(), Errno::kBadf);
  EXPECT_TRUE(t.Renumber(fa, fa).ok());
  EXPECT_TRUE(t.Get(fa).ok());
}

TEST(TableTest, MaxCapacityIsEmfile) {
  Table t(2);
  EXPECT_TRUE(t.Push(Entry::For(NewPipe())).ok());
  EXPECT_TRUE(t.Push(Entry::For(NewPipe())).ok());
  EXPECT_EQ(t.Push(Entry::For(NewPipe())).error(), Errno::kMfile);
  EXPECT_EQ(t.InsertAt(2, Entry::For(NewPipe())).error(), Errno::kMfile);
  ASSERT_TRUE(t.Remove(0).ok());
  EXPECT_EQ(*t.Push(Entry::For(NewPipe())), 0u);
}

TEST(TableTest, HandleOutlivesRemoval) {
  Table t;
  auto pipe = std::make_shared<WritePipe>();
  Fd fd = *t.Push(Entry::For(pipe));
  auto h = t.GetAs<File>(fd).value();
  ASSERT_TRUE(t.Remove(fd).ok());
  uint8_t data[] = {'h', 'i'};
  ConstIoVec v{data, 2};
  EXPECT_EQ(*h->Write(std::span<const ConstIoVec>(&v, 1)), 2u);
  EXPECT_EQ(pipe->Contents(), "hi");
}

TEST(TableTest, TwoContextsShareOneTable) {
  auto table = std::make_shared<Table>();
  auto out = std::make_shared<WritePipe>();
  auto c1 = CtxBuilder().Table(table).Stdout(out).Build();
  ASSERT_TRUE(c1.ok()) << c1.error();
  auto c2 = CtxBuilder().Table(table).PreopenDir(MakeVirtualFs(), "/data").Build();
  ASSERT_TRUE(c2.ok()) << c2.error();
  EXPECT_EQ(&(*c1)->table(), &(*c2)->table());
  // Shared table: only what was set explicitly is installed (stdout at 1), and the
  // second context's preopen took the lowest free fd.
  EXPECT_EQ(table->Fds(), (std::vector<Fd>{0, 1}));
  EXPECT_EQ(*table->Get(0)->preopen, "/data");
  Fd fd = *(*c1)->table().Push(Entry::For(NewPipe()));
  EXPECT_TRUE((*c2)->table().Get(fd).ok());
}

TEST(TableTest, OwnTableGetsDefaultStdioAndPreopensFrom3) {
  auto ctx = CtxBuilder().PreopenDir(MakeVirtualFs(), "/").PreopenDir(MakeVirtualFs(), "/a").Build();
  ASSERT_TRUE(ctx.ok());
  Table& t = (*ctx)->table();
  EXPECT_EQ(t.Fds(), (std::vector<Fd>{0, 1, 2, 3, 4}));
  EXPECT_EQ(*t.Get(3)->preopen, "/");
  EXPECT_EQ(*t.Get(4)->preopen, "/a");
  EXPECT_FALSE(t.Get(0)->preopen.has_value());
}

TEST(TableTest, ThreadsHammeringPushRemoveGet) {
  auto table = std::make_shared<Table>();
  constexpr int kThreads = 4, kIters = 2000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        auto h = NewPipe();
        auto fd = table->Push(Entry::For(h));
        if (!fd.ok()) { ++failures; continue; }
        auto got = table->GetHandle(*fd);
        if (!got.ok() || *got != h) ++failures;  // nobody else may own our fd
        (void)table->GetAs<File>(*fd ^ 1);       // racing lookups of others' fds
        if (!table->Remove(*fd).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(table->size(), 0u);
  // Everything was freed: the next push is fd 0 again.
  EXPECT_EQ(*table->Push(Entry::For(NewPipe())), 0u);
}

// A handle that may be a file or a directory until settled (what HostDir::OpenAt hands
// path_open for a read-only open); counts how often it is asked to settle.
class FakeUnsettled final : public Handle {
 public:
  explicit FakeUnsettled(std::shared_ptr<Handle> becomes) : becomes_(std::move(becomes)) {}
  PendingType pending_type() const override {
    return settled_ ? PendingType::kNone : PendingType::kFileOrDir;
  }
  std::shared_ptr<Handle> Settle() override {
    ++settles;
    settled_ = true;
    return becomes_;
  }
  Filetype filetype() const override { return becomes_->filetype(); }
  std::atomic<int> settles{0};

 private:
  std::shared_ptr<Handle> becomes_;
  std::atomic<bool> settled_{false};
};

TEST(TableLazyTest, NarrowedKeepsEveryPossibleRightUntilSettled) {
  auto dir = MakeVirtualFs();
  auto lazy = std::make_shared<FakeUnsettled>(dir);
  Entry e = Entry::Narrowed(lazy, rights::kAll, rights::kFdRead);
  EXPECT_EQ(e.base, rights::kFileBase | rights::kDirBase);
  EXPECT_EQ(e.inheriting, rights::kFdRead);
  EXPECT_EQ(e.unsettled, rights::kAll);
  EXPECT_EQ(lazy->settles.load(), 0);
  // A settled handle: narrowed at once, nothing pending.
  Entry d = Entry::Narrowed(dir, rights::kAll, rights::kFdRead);
  EXPECT_EQ(d.base, rights::kDirBase);
  EXPECT_EQ(d.unsettled, 0u);
}

TEST(TableLazyTest, LookupsSettleOnceAndCloseNever) {
  Table t;
  auto dir = MakeVirtualFs();
  auto closed_lazy = std::make_shared<FakeUnsettled>(dir);
  Fd a = *t.Push(Entry::Narrowed(closed_lazy, rights::kAll, rights::kAll));
  EXPECT_TRUE(t.Close(a).ok());
  EXPECT_EQ(closed_lazy->settles.load(), 0);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Close(a).error(), Errno::kBadf);

  auto lazy = std::make_shared<FakeUnsettled>(dir);
  Fd fd = *t.Push(Entry::Narrowed(lazy, rights::kAll, rights::kAll));
  // No right asked for: nothing to narrow, the forwarder itself is handed out.
  auto h0 = t.GetHandle(fd, 0);
  ASSERT_TRUE(h0.ok());
  EXPECT_EQ(*h0, lazy);
  EXPECT_EQ(lazy->settles.load(), 0);
  // FD_READ is not a directory right: settled, replaced, refused.
  EXPECT_EQ(t.GetHandle(fd, rights::kFdRead).error(), Errno::kNotcapable);
  EXPECT_EQ(lazy->settles.load(), 1);
  auto hr = t.GetHandleRights(fd);
  ASSERT_TRUE(hr.ok());
  EXPECT_EQ(hr->handle, dir);
  EXPECT_EQ(hr->base, rights::kDirBase);
  EXPECT_EQ(hr->inheriting, rights::kAll);
  EXPECT_EQ(*t.GetAs<Dir>(fd, rights::kPathOpen), dir);
  EXPECT_EQ(lazy->settles.load(), 1);
}

TEST(TableLazyTest, GetRemoveAndSetRightsReportSettledRights) {
  auto dir = MakeVirtualFs();
  {
    Table t;
    auto lazy = std::make_shared<FakeUnsettled>(dir);
    Fd fd = *t.Push(Entry::Narrowed(lazy, rights::kAll, rights::kAll));
    auto e = t.Get(fd);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->handle, dir);
    EXPECT_EQ(e->base, rights::kDirBase);
    EXPECT_EQ(e->unsettled, 0u);
  }
  {
    Table t;
    auto lazy = std::make_shared<FakeUnsettled>(dir);
    Fd fd = *t.Push(Entry::Narrowed(lazy, rights::kAll, rights::kAll));
    auto e = t.Remove(fd);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->handle, dir);
    EXPECT_EQ(e->base, rights::kDirBase);
    EXPECT_EQ(e->unsettled, 0u);
    EXPECT_EQ(t.size(), 0u);
  }
  {
    Table t;
    auto lazy = std::make_shared<FakeUnsettled>(dir);
    Fd fd = *t.Push(Entry::Narrowed(lazy, rights::kAll, rights::kAll));
    // FD_READ was possible before settling, not for a directory: adding it is refused.
    EXPECT_EQ(t.SetRights(fd, rights::kFdRead, 0).error(), Errno::kNotcapable);
    EXPECT_TRUE(t.SetRights(fd, rights::kPathOpen, 0).ok());
    EXPECT_EQ(t.GetHandleRights(fd)->base, rights::kPathOpen);
  }
  // Entry::For settles first.
  auto lazy = std::make_shared<FakeUnsettled>(dir);
  Entry e = Entry::For(lazy);
  EXPECT_EQ(e.handle, dir);
  EXPECT_EQ(e.base, rights::kDirBase);
}

// A file opened for writing whose type is found later: only FD_SEEK/FD_TELL depend on
// it (a character device loses them), so other lookups leave it unfound.
TEST(TableLazyTest, LazyFiletypeFileSettlesOnlyForSeekAndTell) {
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto file = std::make_shared<FdFile>(fd, /*owns_fd=*/true, FdFile::FiletypeLater{});
  EXPECT_EQ(file->pending_type(), Handle::PendingType::kFile);
  Table t;
  Entry e = Entry::Narrowed(file, rights::kAll, rights::kAll);
  EXPECT_EQ(e.base, rights::kFileBase);
  EXPECT_EQ(e.inheriting, 0u);
  EXPECT_EQ(e.unsettled, rights::kFdSeek | rights::kFdTell);
  Fd f = *t.Push(std::move(e));
  EXPECT_TRUE(t.GetAs<File>(f, rights::kFdWrite).ok());
  EXPECT_EQ(file->pending_type(), Handle::PendingType::kFile);
  EXPECT_EQ(t.GetAs<File>(f, rights::kFdSeek).error(), Errno::kNotcapable);
  EXPECT_EQ(file->pending_type(), Handle::PendingType::kNone);
  EXPECT_EQ(file->filetype(), Filetype::kCharacterDevice);
  EXPECT_EQ(t.GetHandleRights(f)->base, rights::kFileBase & ~(rights::kFdSeek | rights::kFdTell));
  // Asked without seek/tell in the request: nothing can change, nothing pending.
  int fd2 = open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd2, 0);
  auto file2 = std::make_shared<FdFile>(fd2, true, FdFile::FiletypeLater{});
  EXPECT_EQ(Entry::Narrowed(file2, rights::kFdWrite, 0).unsettled, 0u);
  EXPECT_EQ(file2->filetype(), Filetype::kCharacterDevice);  // found when asked
}

}  // namespace
}  // namespace weft::wasi
