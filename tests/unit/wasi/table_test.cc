// Table semantics: lowest free fd, InsertAt, Remove, Renumber, rights, capacity,
// sharing between contexts, and concurrent use.
#include "weft/wasi/table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "weft/wasi/ctx.h"
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

}  // namespace
}  // namespace weft::wasi
