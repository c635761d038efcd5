// Table::PushNarrowed and Table::Close (the path_open + fd_close hot path): the same
// fds and rights as Push(Entry::Narrowed(...)) and Remove, under a random model.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weft/wasi/pipe.h"
#include "weft/wasi/table.h"
#include "weft/wasi/virtual_fs.h"

namespace weft::wasi {
namespace {

TEST(TablePushCloseTest, LowestFreeFdUnderRandomPushNarrowedCloseInsertAt) {
  Table t(48);
  std::vector<bool> used(48, false);
  uint32_t seed = 987654321u;
  auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  for (int step = 0; step < 20000; ++step) {
    Fd fd = next() % 48;
    switch (next() % 5) {
      case 0:
      case 1: {  // weighted: the open + close pattern
        auto r = next() % 2 ? t.PushNarrowed(std::make_shared<WritePipe>(), rights::kAll, 0)
                            : t.Push(Entry::For(std::make_shared<WritePipe>()));
        Fd expect = 0;
        while (expect < 48 && used[expect]) ++expect;
        if (expect == 48) {
          ASSERT_FALSE(r.ok());
          EXPECT_EQ(r.error(), Errno::kMfile);
        } else {
          ASSERT_TRUE(r.ok());
          ASSERT_EQ(*r, expect) << "step " << step;
          used[expect] = true;
        }
        break;
      }
      case 2:
        EXPECT_EQ(t.Close(fd).ok(), used[fd]) << "step " << step;
        used[fd] = false;
        break;
      case 3:
        EXPECT_EQ(t.Remove(fd).ok(), used[fd]) << "step " << step;
        used[fd] = false;
        break;
      case 4:
        ASSERT_TRUE(t.InsertAt(fd, Entry::For(std::make_shared<WritePipe>())).ok());
        used[fd] = true;
        break;
    }
    size_t n = 0;
    for (bool u : used) n += u;
    ASSERT_EQ(t.size(), n) << "step " << step;
  }
}

TEST(TablePushCloseTest, PushNarrowedGivesTheRightsOfEntryNarrowed) {
  Table t;
  auto pipe = std::make_shared<WritePipe>();
  auto dir = MakeVirtualFs();
  const Rights base = rights::kFdWrite | rights::kFdRead | rights::kPathOpen;
  const Rights inheriting = rights::kFdRead | rights::kPathOpen;
  for (std::shared_ptr<Handle> h : {std::shared_ptr<Handle>(pipe), std::shared_ptr<Handle>(dir)}) {
    Entry want = Entry::Narrowed(h, base, inheriting);
    auto fd = t.PushNarrowed(h, base, inheriting);
    ASSERT_TRUE(fd.ok());
    auto got = t.Get(*fd);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->handle, h);
    EXPECT_EQ(got->base, want.base);
    EXPECT_EQ(got->inheriting, want.inheriting);
    EXPECT_EQ(got->unsettled, 0u);
    EXPECT_FALSE(got->preopen.has_value());
  }
  // The pipe keeps only file rights; the directory only directory rights.
  EXPECT_EQ(t.Get(0)->base, rights::kFdWrite | rights::kFdRead);
  EXPECT_EQ(t.Get(0)->inheriting, 0u);
  EXPECT_EQ(t.Get(1)->base, rights::kPathOpen);
  EXPECT_EQ(t.Get(1)->inheriting, inheriting);
}

TEST(TablePushCloseTest, CloseDropsTheHandleAndAPreopenName) {
  Table t;
  auto dir = MakeVirtualFs();
  std::weak_ptr<Handle> weak = dir;
  auto fd = t.Push(Entry::For(dir, std::string("/sandbox")));
  ASSERT_TRUE(fd.ok());
  dir.reset();
  EXPECT_FALSE(weak.expired());  // the table holds it
  ASSERT_TRUE(t.Close(*fd).ok());
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(t.Close(*fd).error(), Errno::kBadf);
  EXPECT_EQ(t.Get(*fd).error(), Errno::kBadf);
  // The fd is free again, with nothing of the old entry left in it.
  auto again = t.PushNarrowed(std::make_shared<WritePipe>(), rights::kAll, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *fd);
  EXPECT_FALSE(t.Get(*again)->preopen.has_value());
}

TEST(TablePushCloseTest, PushNarrowedIsEmfileWhenFull) {
  Table t(2);
  ASSERT_TRUE(t.PushNarrowed(std::make_shared<WritePipe>(), rights::kAll, 0).ok());
  ASSERT_TRUE(t.PushNarrowed(std::make_shared<WritePipe>(), rights::kAll, 0).ok());
  auto pipe = std::make_shared<WritePipe>();
  auto r = t.PushNarrowed(pipe, rights::kAll, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errno::kMfile);
  EXPECT_EQ(pipe.use_count(), 1);  // not kept by the table
  ASSERT_TRUE(t.Close(1).ok());
  EXPECT_EQ(*t.PushNarrowed(pipe, rights::kAll, 0), 1u);
}

}  // namespace
}  // namespace weft::wasi
