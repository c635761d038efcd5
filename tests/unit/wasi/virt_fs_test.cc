// VirtualDir: the in-memory tree behaves like a Linux filesystem seen through wasmtime.
#include "weft/wasi/virtual_fs.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "file_test_util.h"
#include "weft/wasi/memfile.h"

namespace weft::wasi {
namespace {

using testing::ErrOf;
using testing::Opts;
using testing::WriteOk;

std::string ReadAll(File& f) {
  std::string out;
  char buf[7];
  for (;;) {
    IoVec iov{reinterpret_cast<uint8_t*>(buf), sizeof buf};
    auto r = f.Read(std::span<const IoVec>(&iov, 1));
    if (!r.ok() || *r == 0) break;
    out.append(buf, *r);
  }
  return out;
}

std::shared_ptr<File> OpenFile(Dir& d, std::string_view path, OpenOptions o) {
  auto r = d.OpenAt(path, o);
  EXPECT_TRUE(r.ok()) << path << " errno " << static_cast<int>(ErrOf(r));
  if (!r.ok()) return nullptr;
  File* f = (*r)->AsFile();
  EXPECT_NE(f, nullptr);
  return std::shared_ptr<File>(*r, f);
}

std::shared_ptr<Dir> OpenDir(Dir& d, std::string_view path) {
  auto r = d.OpenAt(path, Opts(kOflagDirectory));
  EXPECT_TRUE(r.ok()) << path << " errno " << static_cast<int>(ErrOf(r));
  if (!r.ok()) return nullptr;
  Dir* sub = (*r)->AsDir();
  EXPECT_NE(sub, nullptr);
  return std::shared_ptr<Dir>(*r, sub);
}

std::vector<std::string> Names(Dir& d, Dircookie cookie = 0) {
  std::vector<std::string> names;
  EXPECT_TRUE(d.Readdir(cookie, [&](const DirEntry& e) {
    names.push_back(e.name);
    return true;
  }).ok());
  return names;
}

TEST(VirtFs, CreateWriteReopenRead) {
  auto fs = MakeVirtualFs();
  auto f = OpenFile(*fs, "a.txt", Opts(kOflagCreat, true, true));
  EXPECT_EQ(WriteOk(*f, "hello"), 5u);
  auto g = OpenFile(*fs, "a.txt", Opts());
  EXPECT_EQ(ReadAll(*g), "hello");
  EXPECT_EQ(*fs->ReadFile("a.txt"), "hello");
  // Two descriptions of one inode: shared bytes, separate offsets.
  EXPECT_EQ(WriteOk(*f, "!"), 1u);
  EXPECT_EQ(ReadAll(*g), "!");
  auto h = OpenFile(*fs, "a.txt", Opts());
  EXPECT_EQ(ReadAll(*h), "hello!");
  EXPECT_EQ(f->Stat()->ino, h->Stat()->ino);
  EXPECT_EQ(f->Stat()->nlink, 1u);
  EXPECT_EQ(f->filetype(), Filetype::kRegularFile);
  // A read-only description refuses writes; a write-only one refuses reads.
  EXPECT_EQ(ErrOf(h->Write({})), Errno::kBadf);
  auto w = OpenFile(*fs, "a.txt", Opts(0, false, true));
  char c;
  IoVec iov{reinterpret_cast<uint8_t*>(&c), 1};
  EXPECT_EQ(ErrOf(w->Read(std::span<const IoVec>(&iov, 1))), Errno::kBadf);
}

TEST(VirtFs, HostSetupHelpers) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->AddFile("etc/app/config.txt", "k=v\n").ok());
  ASSERT_TRUE(fs->AddDir("var/log").ok());
  ASSERT_TRUE(fs->AddDir("var/log").ok());  // idempotent
  ASSERT_TRUE(fs->AddSymlink("cfg", "etc/app/config.txt").ok());
  EXPECT_EQ(*fs->ReadFile("cfg"), "k=v\n");
  ASSERT_TRUE(fs->AddFile("etc/app/config.txt", "new").ok());  // replaces
  EXPECT_EQ(*fs->ReadFile("etc/app/config.txt"), "new");
  EXPECT_EQ(fs->StatAt(0, "var/log")->filetype, Filetype::kDirectory);
  EXPECT_EQ(ErrOf(fs->ReadFile("var")), Errno::kIsdir);
  EXPECT_EQ(ErrOf(fs->ReadFile("nope")), Errno::kNoent);
  EXPECT_EQ(ErrOf(fs->AddDir("cfg/x")), Errno::kNotdir);
}

TEST(VirtFs, OpenFlagsErrnos) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->AddFile("f", "data").ok());
  ASSERT_TRUE(fs->CreateDir("d").ok());
  EXPECT_EQ(ErrOf(fs->OpenAt("missing", Opts())), Errno::kNoent);
  EXPECT_EQ(ErrOf(fs->OpenAt("missing/x", Opts(kOflagCreat))), Errno::kNoent);
  EXPECT_EQ(ErrOf(fs->OpenAt("f", Opts(kOflagCreat | kOflagExcl))), Errno::kExist);
  EXPECT_EQ(ErrOf(fs->OpenAt("d", Opts(kOflagCreat | kOflagExcl))), Errno::kExist);
  EXPECT_EQ(ErrOf(fs->OpenAt("f", Opts(kOflagDirectory))), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->OpenAt("f/", Opts())), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->OpenAt("f///", Opts())), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->OpenAt("d", Opts(0, true, true))), Errno::kIsdir);
  EXPECT_EQ(ErrOf(fs->OpenAt("new/", Opts(kOflagCreat))), Errno::kIsdir);
  EXPECT_EQ(ErrOf(fs->OpenAt("d", Opts(kOflagDirectory | kOflagCreat))), Errno::kInval);
  EXPECT_EQ(ErrOf(fs->OpenAt("d", Opts(kOflagDirectory | kOflagTrunc))), Errno::kInval);
  EXPECT_EQ(ErrOf(fs->OpenAt("f", Opts(0x10))), Errno::kInval);
  EXPECT_EQ(ErrOf(fs->OpenAt("", Opts())), Errno::kNoent);
  EXPECT_EQ(ErrOf(fs->OpenAt(std::string_view("f\0", 2), Opts())), Errno::kInval);
  EXPECT_EQ(ErrOf(fs->OpenAt(std::string(256, 'n'), Opts())), Errno::kNametoolong);
  // Directories open with or without O_DIRECTORY, trailing slashes included.
  auto d1 = fs->OpenAt("d/", Opts());
  ASSERT_TRUE(d1.ok());
  EXPECT_NE((*d1)->AsDir(), nullptr);
  EXPECT_TRUE(fs->OpenAt("d///", Opts(kOflagDirectory)).ok());
  EXPECT_TRUE(fs->OpenAt(".", Opts(kOflagDirectory)).ok());
  // O_TRUNC empties; APPEND at open appends.
  auto t = OpenFile(*fs, "f", Opts(kOflagTrunc, true, true));
  EXPECT_EQ(t->Stat()->size, 0u);
  WriteOk(*t, "ab");
  auto a = OpenFile(*fs, "f", Opts(0, true, true, 0, kFdflagAppend));
  EXPECT_EQ(*a->GetFdflags(), kFdflagAppend);
  WriteOk(*a, "cd");
  EXPECT_EQ(*fs->ReadFile("f"), "abcd");
}

TEST(VirtFs, InterestingPathsAsWasmtime) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->CreateDir("dir").ok());
  ASSERT_TRUE(fs->CreateDir("dir/nested").ok());
  ASSERT_TRUE(fs->AddFile("dir/nested/file", "x").ok());
  EXPECT_EQ(ErrOf(fs->OpenAt("/dir/nested/file", Opts())), Errno::kPerm);
  EXPECT_TRUE(fs->OpenAt("dir/.//nested/../../dir/nested/../nested///./file", Opts()).ok());
  EXPECT_EQ(ErrOf(fs->OpenAt("dir/nested/../../../x/dir/nested/file", Opts())), Errno::kPerm);
  EXPECT_EQ(ErrOf(fs->OpenAt("..", Opts(kOflagDirectory))), Errno::kPerm);
  ASSERT_TRUE(fs->UnlinkFile("dir/nested/file").ok());
  ASSERT_TRUE(fs->RemoveDir("dir/nested").ok());
  ASSERT_TRUE(fs->RemoveDir("dir").ok());
  EXPECT_EQ(Names(*fs), (std::vector<std::string>{".", ".."}));
}

TEST(VirtFs, EachDirHandleIsASandboxRoot) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->AddFile("secret", "s").ok());
  ASSERT_TRUE(fs->AddFile("pub/file", "p").ok());
  ASSERT_TRUE(fs->AddSymlink("pub/up", "../secret").ok());
  ASSERT_TRUE(fs->AddSymlink("pub/self", "./file").ok());
  auto pub = OpenDir(*fs, "pub");
  ASSERT_TRUE(pub);
  EXPECT_EQ(ErrOf(pub->OpenAt("../secret", Opts())), Errno::kPerm);
  EXPECT_EQ(ErrOf(pub->OpenAt("up", Opts(0, true, false, kLookupSymlinkFollow))),
            Errno::kPerm);
  EXPECT_EQ(ErrOf(pub->StatAt(kLookupSymlinkFollow, "up")), Errno::kPerm);
  EXPECT_TRUE(pub->StatAt(0, "up").ok());  // the link itself is visible
  EXPECT_EQ(*pub->Readlink("up"), "../secret");
  EXPECT_TRUE(pub->OpenAt("self", Opts(0, true, false, kLookupSymlinkFollow)).ok());
  // From the root the same link stays inside and works.
  auto via_root = OpenFile(*fs, "pub/up", Opts(0, true, false, kLookupSymlinkFollow));
  ASSERT_TRUE(via_root);
  EXPECT_EQ(ReadAll(*via_root), "s");
  // Absolute targets cannot even be created.
  EXPECT_EQ(ErrOf(fs->Symlink("/etc/passwd", "abs")), Errno::kPerm);
}

TEST(VirtFs, CreateAndRemoveDirectories) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->CreateDir("a").ok());
  EXPECT_EQ(ErrOf(fs->CreateDir("a")), Errno::kExist);
  EXPECT_EQ(ErrOf(fs->CreateDir(".")), Errno::kExist);
  EXPECT_EQ(ErrOf(fs->CreateDir("x/y")), Errno::kNoent);
  ASSERT_TRUE(fs->CreateDir("a/b/").ok());
  ASSERT_TRUE(fs->AddFile("a/f", "").ok());
  EXPECT_EQ(fs->StatAt(0, "a")->nlink, 3u);  // ".", the entry, and b's ".."
  EXPECT_EQ(ErrOf(fs->RemoveDir("a")), Errno::kNotempty);
  EXPECT_EQ(ErrOf(fs->RemoveDir("a/f")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->RemoveDir("a/f/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->RemoveDir("nope")), Errno::kNoent);
  EXPECT_EQ(ErrOf(fs->RemoveDir(".")), Errno::kInval);
  ASSERT_TRUE(fs->RemoveDir("a/b/").ok());
  ASSERT_TRUE(fs->UnlinkFile("a/f").ok());
  // A handle on a removed directory sees it empty and cannot create in it.
  auto a = OpenDir(*fs, "a");
  ASSERT_TRUE(fs->RemoveDir("a").ok());
  EXPECT_EQ(ErrOf(a->CreateDir("c")), Errno::kNoent);
  EXPECT_EQ(ErrOf(a->OpenAt("g", Opts(kOflagCreat, true, true))), Errno::kNoent);
  EXPECT_EQ(a->Stat()->nlink, 0u);
}

TEST(VirtFs, UnlinkAsWasmtime) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->CreateDir("dir").ok());
  EXPECT_EQ(ErrOf(fs->UnlinkFile("dir")), Errno::kIsdir);
  EXPECT_EQ(ErrOf(fs->UnlinkFile("dir/")), Errno::kIsdir);
  ASSERT_TRUE(fs->AddFile("file", "keep").ok());
  EXPECT_EQ(ErrOf(fs->UnlinkFile("file/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->UnlinkFile("nope")), Errno::kNoent);
  auto open = OpenFile(*fs, "file", Opts());
  ASSERT_TRUE(fs->UnlinkFile("file").ok());
  EXPECT_EQ(ErrOf(fs->StatAt(0, "file")), Errno::kNoent);
  // The open description still reads the data of the unlinked inode.
  EXPECT_EQ(ReadAll(*open), "keep");
  EXPECT_EQ(open->Stat()->nlink, 0u);
}

TEST(VirtFs, RenameAsWasmtime) {
  auto fs = MakeVirtualFs();
  // dir -> new name
  ASSERT_TRUE(fs->CreateDir("source").ok());
  ASSERT_TRUE(fs->Rename("source", *fs, "target").ok());
  EXPECT_EQ(ErrOf(fs->OpenAt("source", Opts(kOflagDirectory))), Errno::kNoent);
  EXPECT_TRUE(fs->OpenAt("target", Opts(kOflagDirectory)).ok());
  // dir -> existing empty dir
  ASSERT_TRUE(fs->CreateDir("source").ok());
  ASSERT_TRUE(fs->Rename("source", *fs, "target").ok());
  EXPECT_EQ(ErrOf(fs->StatAt(0, "source")), Errno::kNoent);
  // dir -> non-empty dir, dir -> file
  ASSERT_TRUE(fs->CreateDir("source").ok());
  ASSERT_TRUE(fs->AddFile("target/file", "").ok());
  EXPECT_EQ(ErrOf(fs->Rename("source", *fs, "target")), Errno::kNotempty);
  EXPECT_EQ(ErrOf(fs->Rename("source", *fs, "target/file")), Errno::kNotdir);
  // dir into itself
  EXPECT_EQ(ErrOf(fs->Rename("target", *fs, "target/sub")), Errno::kInval);
  ASSERT_TRUE(fs->UnlinkFile("target/file").ok());
  ASSERT_TRUE(fs->RemoveDir("source").ok());
  // file -> new, file -> existing file (replaced), file -> dir
  ASSERT_TRUE(fs->AddFile("a", "A").ok());
  ASSERT_TRUE(fs->AddFile("b", "B").ok());
  ASSERT_TRUE(fs->Rename("a", *fs, "b").ok());
  EXPECT_EQ(*fs->ReadFile("b"), "A");
  EXPECT_EQ(ErrOf(fs->StatAt(0, "a")), Errno::kNoent);
  EXPECT_EQ(ErrOf(fs->Rename("b", *fs, "target")), Errno::kIsdir);
  EXPECT_EQ(ErrOf(fs->Rename("b/", *fs, "c")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->Rename("b", *fs, "c/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->Rename("missing", *fs, "c")), Errno::kNoent);
  ASSERT_TRUE(fs->Rename("b", *fs, "b").ok());  // same entry: no-op
  EXPECT_EQ(*fs->ReadFile("b"), "A");
  // Across directory handles of the same tree, and EXDEV to another tree.
  auto target = OpenDir(*fs, "target");
  ASSERT_TRUE(fs->Rename("b", *target, "moved").ok());
  EXPECT_EQ(*fs->ReadFile("target/moved"), "A");
  auto other = MakeVirtualFs();
  EXPECT_EQ(ErrOf(fs->Rename("target/moved", *other, "x")), Errno::kXdev);
  // A renamed directory keeps its contents and its handles.
  ASSERT_TRUE(fs->Rename("target", *fs, "renamed").ok());
  EXPECT_EQ(*fs->ReadFile("renamed/moved"), "A");
  EXPECT_EQ(*static_cast<VirtualDir&>(*target).ReadFile("moved"), "A");
}

TEST(VirtFs, HardLinksAsWasmtime) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->AddFile("file", "data").ok());
  ASSERT_TRUE(fs->Link(0, "file", *fs, "link").ok());
  Filestat a = *fs->StatAt(0, "file");
  Filestat b = *fs->StatAt(0, "link");
  EXPECT_EQ(a.ino, b.ino);
  EXPECT_EQ(a.nlink, 2u);
  EXPECT_EQ(ErrOf(fs->Link(0, "file", *fs, "link")), Errno::kExist);
  EXPECT_EQ(ErrOf(fs->Link(0, "file", *fs, "file")), Errno::kExist);
  ASSERT_TRUE(fs->CreateDir("subdir").ok());
  EXPECT_EQ(ErrOf(fs->Link(0, "subdir", *fs, "l2")), Errno::kPerm);
  EXPECT_EQ(ErrOf(fs->Link(0, "file", *fs, "subdir")), Errno::kExist);
  EXPECT_EQ(ErrOf(fs->Link(0, "file", *fs, "l3/")), Errno::kNoent);
  EXPECT_EQ(ErrOf(fs->Link(kLookupSymlinkFollow, "file", *fs, "l4")), Errno::kInval);
  auto sub = OpenDir(*fs, "subdir");
  ASSERT_TRUE(fs->Link(0, "file", *sub, "inner").ok());
  EXPECT_EQ(fs->StatAt(0, "file")->nlink, 3u);
  // Writing through one name is seen through the other.
  auto f = OpenFile(*fs, "subdir/inner", Opts(0, true, true, 0, kFdflagAppend));
  WriteOk(*f, "+");
  EXPECT_EQ(*fs->ReadFile("link"), "data+");
  ASSERT_TRUE(fs->UnlinkFile("file").ok());
  EXPECT_EQ(fs->StatAt(0, "link")->nlink, 2u);
  // A dangling symlink can be hard-linked (the link is not followed).
  ASSERT_TRUE(fs->Symlink("nowhere", "sym").ok());
  ASSERT_TRUE(fs->Link(0, "sym", *fs, "sym2").ok());
  EXPECT_EQ(*fs->Readlink("sym2"), "nowhere");
}

TEST(VirtFs, SymlinksAsWasmtime) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->CreateDir("target").ok());
  ASSERT_TRUE(fs->Symlink("target", "symlink").ok());
  // Not followed: ELOOP (O_NOFOLLOW), with or without O_DIRECTORY.
  EXPECT_EQ(ErrOf(fs->OpenAt("symlink", Opts(kOflagDirectory))), Errno::kLoop);
  EXPECT_EQ(ErrOf(fs->OpenAt("symlink", Opts())), Errno::kLoop);
  EXPECT_TRUE(fs->OpenAt("symlink", Opts(kOflagDirectory, true, false, kLookupSymlinkFollow)).ok());
  // A trailing slash follows it.
  EXPECT_TRUE(fs->OpenAt("symlink/", Opts(kOflagDirectory)).ok());
  // Symlinks in the middle of a path are always followed.
  ASSERT_TRUE(fs->AddFile("target/f", "in").ok());
  EXPECT_EQ(*fs->ReadFile("symlink/f"), "in");
  EXPECT_TRUE(fs->OpenAt("symlink/f", Opts()).ok());
  // Replace the target directory with a file.
  ASSERT_TRUE(fs->UnlinkFile("target/f").ok());
  ASSERT_TRUE(fs->RemoveDir("target").ok());
  ASSERT_TRUE(fs->AddFile("target", "").ok());
  EXPECT_EQ(ErrOf(fs->OpenAt("symlink", Opts(kOflagDirectory, true, false, kLookupSymlinkFollow))),
            Errno::kNotdir);
  // Stat with and without following.
  EXPECT_EQ(fs->StatAt(0, "symlink")->filetype, Filetype::kSymbolicLink);
  EXPECT_EQ(fs->StatAt(0, "symlink")->size, 6u);
  EXPECT_EQ(fs->StatAt(kLookupSymlinkFollow, "symlink")->filetype, Filetype::kRegularFile);
  // Readlink.
  EXPECT_EQ(*fs->Readlink("symlink"), "target");
  EXPECT_EQ(ErrOf(fs->Readlink("target")), Errno::kInval);
  EXPECT_EQ(ErrOf(fs->Readlink("symlink/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->Readlink("missing")), Errno::kNoent);
  // Dangling and looping links.
  ASSERT_TRUE(fs->Symlink("nothing", "dangling").ok());
  EXPECT_EQ(ErrOf(fs->OpenAt("dangling", Opts(kOflagDirectory, true, false, kLookupSymlinkFollow))),
            Errno::kNoent);
  ASSERT_TRUE(fs->Symlink("loop", "loop").ok());
  EXPECT_EQ(ErrOf(fs->StatAt(kLookupSymlinkFollow, "loop")), Errno::kLoop);
  EXPECT_EQ(ErrOf(fs->OpenAt("loop/x", Opts())), Errno::kLoop);
  // Creating through a dangling symlink with O_CREAT creates the target (as Linux).
  auto c = fs->OpenAt("dangling", Opts(kOflagCreat, true, true, kLookupSymlinkFollow));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(fs->StatAt(0, "nothing")->filetype, Filetype::kRegularFile);
  // O_CREAT|O_EXCL never follows: the link itself exists.
  EXPECT_EQ(ErrOf(fs->OpenAt("loop",
                             Opts(kOflagCreat | kOflagExcl, true, true, kLookupSymlinkFollow))),
            Errno::kExist);
  // Unlinking a symlink removes the link, not the target.
  ASSERT_TRUE(fs->UnlinkFile("symlink").ok());
  EXPECT_TRUE(fs->StatAt(0, "target").ok());
}

TEST(VirtFs, SymlinkTrailingSlashesAsWasmtime) {
  auto fs = MakeVirtualFs();
  EXPECT_EQ(ErrOf(fs->Symlink("source", "target/")), Errno::kNoent);
  ASSERT_TRUE(fs->Symlink("source", "target").ok());
  ASSERT_TRUE(fs->UnlinkFile("target").ok());
  ASSERT_TRUE(fs->CreateDir("target").ok());
  EXPECT_EQ(ErrOf(fs->Symlink("source", "target/")), Errno::kExist);
  EXPECT_EQ(ErrOf(fs->Symlink("source", "target")), Errno::kExist);
  ASSERT_TRUE(fs->RemoveDir("target").ok());
  ASSERT_TRUE(fs->AddFile("target", "").ok());
  EXPECT_EQ(ErrOf(fs->Symlink("source", "target/")), Errno::kNotdir);
  EXPECT_EQ(ErrOf(fs->Symlink("source", "target")), Errno::kExist);
  EXPECT_EQ(ErrOf(fs->Symlink("", "empty")), Errno::kNoent);
}

TEST(VirtFs, TimesAndStat) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->AddFile("f", "abc").ok());
  ASSERT_TRUE(fs->Symlink("f", "l").ok());
  Filestat st = *fs->StatAt(0, "f");
  EXPECT_EQ(st.filetype, Filetype::kRegularFile);
  EXPECT_EQ(st.size, 3u);
  EXPECT_EQ(st.dev, fs->Stat()->dev);
  EXPECT_NE(st.dev, MakeVirtualFs()->Stat()->dev);
  ASSERT_TRUE(fs->SetTimesAt(kLookupSymlinkFollow, "l", 10, 20, kFstAtim | kFstMtim).ok());
  st = *fs->StatAt(0, "f");
  EXPECT_EQ(st.atim, 10u);
  EXPECT_EQ(st.mtim, 20u);
  ASSERT_TRUE(fs->SetTimesAt(0, "l", 30, 40, kFstAtim | kFstMtim).ok());  // the link itself
  EXPECT_EQ(fs->StatAt(0, "f")->atim, 10u);
  EXPECT_EQ(fs->StatAt(0, "l")->atim, 30u);
  EXPECT_EQ(ErrOf(fs->SetTimesAt(0, "f", 1, 1, kFstMtim | kFstMtimNow)), Errno::kInval);
  EXPECT_EQ(ErrOf(fs->SetTimesAt(0, "zz", 1, 1, kFstMtim)), Errno::kNoent);
  ASSERT_TRUE(fs->SetTimes(5, 6, kFstAtim | kFstMtim).ok());
  EXPECT_EQ(fs->Stat()->mtim, 6u);
  // Creating an entry updates the directory's mtime.
  ASSERT_TRUE(fs->CreateDir("d").ok());
  EXPECT_GT(fs->Stat()->mtim, 6u);
  // Writing updates the file's mtime.
  auto f = OpenFile(*fs, "f", Opts(0, true, true));
  WriteOk(*f, "x");
  EXPECT_GT(fs->StatAt(0, "f")->mtim, 20u);
}

TEST(VirtFs, ReaddirCookiesAreStable) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->CreateDir("sub").ok());
  ASSERT_TRUE(fs->AddFile("b", "").ok());
  ASSERT_TRUE(fs->AddFile("a", "").ok());
  ASSERT_TRUE(fs->Symlink("a", "s").ok());
  std::vector<DirEntry> all;
  ASSERT_TRUE(fs->Readdir(0, [&](const DirEntry& e) {
    all.push_back(e);
    return true;
  }).ok());
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].name, ".");
  EXPECT_EQ(all[0].type, Filetype::kDirectory);
  EXPECT_EQ(all[0].ino, fs->Stat()->ino);
  EXPECT_EQ(all[1].name, "..");
  EXPECT_EQ(all[2].name, "sub");
  EXPECT_EQ(all[2].type, Filetype::kDirectory);
  EXPECT_EQ(all[3].name, "b");
  EXPECT_EQ(all[3].type, Filetype::kRegularFile);
  EXPECT_EQ(all[3].ino, fs->StatAt(0, "b")->ino);
  EXPECT_EQ(all[4].name, "a");
  EXPECT_EQ(all[5].name, "s");
  EXPECT_EQ(all[5].type, Filetype::kSymbolicLink);
  // Resuming from any entry's `next` gives exactly the rest.
  for (size_t i = 0; i < all.size(); ++i) {
    std::vector<std::string> rest = Names(*fs, all[i].next);
    ASSERT_EQ(rest.size(), all.size() - i - 1) << i;
    for (size_t j = 0; j < rest.size(); ++j) EXPECT_EQ(rest[j], all[i + 1 + j].name);
  }
  // The sink can stop early.
  int calls = 0;
  ASSERT_TRUE(fs->Readdir(0, [&](const DirEntry&) { return ++calls < 2; }).ok());
  EXPECT_EQ(calls, 2);
  // Removing an entry already listed and adding a new one: a resumed listing neither
  // repeats nor skips anything that stayed.
  Dircookie after_b = all[3].next;
  ASSERT_TRUE(fs->UnlinkFile("b").ok());
  ASSERT_TRUE(fs->AddFile("c", "").ok());
  EXPECT_EQ(Names(*fs, after_b), (std::vector<std::string>{"a", "s", "c"}));
  EXPECT_EQ(Names(*fs, 999999), std::vector<std::string>{});
  // ".." of a subdirectory handle is its parent.
  auto sub = OpenDir(*fs, "sub");
  std::vector<DirEntry> sub_entries;
  ASSERT_TRUE(sub->Readdir(0, [&](const DirEntry& e) {
    sub_entries.push_back(e);
    return true;
  }).ok());
  ASSERT_EQ(sub_entries.size(), 2u);
  EXPECT_EQ(sub_entries[1].ino, fs->Stat()->ino);
}

TEST(VirtFs, ReaddirManyEntriesAcrossBatches) {
  auto fs = MakeVirtualFs();
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(fs->AddFile("f" + std::to_string(i), "").ok());
  std::vector<std::string> names = Names(*fs);
  ASSERT_EQ(names.size(), 302u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(names[i + 2], "f" + std::to_string(i));
}

// Many threads creating, renaming and removing in one tree, through several handles.
TEST(VirtFs, ThreadConcurrentTreeOperations) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->CreateDir("shared").ok());
  constexpr int kThreads = 4, kRounds = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto dir = fs->OpenAt("shared", Opts(kOflagDirectory));
      if (!dir.ok()) {
        ++failures;
        return;
      }
      Dir& d = *(*dir)->AsDir();
      for (int i = 0; i < kRounds; ++i) {
        std::string name = "t" + std::to_string(t) + "_" + std::to_string(i);
        auto f = d.OpenAt(name, Opts(kOflagCreat | kOflagExcl, true, true));
        if (!f.ok()) {
          ++failures;
          continue;
        }
        ConstIoVec iov{reinterpret_cast<const uint8_t*>(name.data()), name.size()};
        if (!(*f)->AsFile()->Write(std::span<const ConstIoVec>(&iov, 1)).ok()) ++failures;
        if (!d.Rename(name, d, name + ".done").ok()) ++failures;
        if (i % 2 == 0 && !d.UnlinkFile(name + ".done").ok()) ++failures;
        d.Readdir(0, [](const DirEntry&) { return true; }).ok();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto shared = OpenDir(*fs, "shared");
  EXPECT_EQ(Names(*shared).size(), 2u + kThreads * kRounds / 2);
  EXPECT_EQ(*fs->ReadFile("shared/t1_1.done"), "t1_1");
}

}  // namespace
}  // namespace weft::wasi

namespace weft::wasi {
namespace {

TEST(VirtFsReadOnly, EveryModificationIsEperm) {
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->AddFile("d/f", "data").ok());
  auto ro = fs->ReadOnlyView();
  EXPECT_TRUE(ro->read_only());
  EXPECT_FALSE(fs->read_only());
  // Reading works.
  auto f = ro->OpenAt("d/f", Opts());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadAll(*(*f)->AsFile()), "data");
  EXPECT_EQ(Names(*ro).size(), 3u);
  EXPECT_EQ(ro->StatAt(0, "d/f")->size, 4u);
  // Every modification answers EPERM.
  EXPECT_EQ(ErrOf(ro->OpenAt("d/f", Opts(0, true, true))), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->OpenAt("d/f", Opts(kOflagTrunc))), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->OpenAt("new", Opts(kOflagCreat))), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->CreateDir("x")), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->RemoveDir("d")), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->UnlinkFile("d/f")), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->Rename("d/f", *ro, "g")), Errno::kPerm);
  EXPECT_EQ(ErrOf(fs->Rename("d/f", *ro, "g")), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->Link(0, "d/f", *ro, "g")), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->Symlink("d/f", "g")), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->SetTimesAt(0, "d/f", 1, 1, kFstMtim)), Errno::kPerm);
  EXPECT_EQ(ErrOf(ro->SetTimesAt(0, "d/f", 1, 1, kFstMtim | kFstMtimNow)), Errno::kInval);
  EXPECT_EQ(ErrOf(ro->SetTimes(1, 1, kFstAtim)), Errno::kPerm);
  File& file = *(*f)->AsFile();
  EXPECT_EQ(ErrOf(file.SetSize(0)), Errno::kPerm);
  EXPECT_EQ(ErrOf(file.Allocate(0, 10)), Errno::kPerm);
  EXPECT_EQ(ErrOf(file.SetTimes(1, 1, kFstMtim)), Errno::kPerm);
  EXPECT_EQ(ErrOf(file.Write({})), Errno::kBadf);
  // Subdirectories opened from it are read-only too.
  auto sub = ro->OpenAt("d", Opts(kOflagDirectory));
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(ErrOf((*sub)->AsDir()->UnlinkFile("f")), Errno::kPerm);
  // Nothing changed; the host can still set up through the view.
  EXPECT_EQ(*fs->ReadFile("d/f"), "data");
  ASSERT_TRUE(ro->AddFile("d/g", "host").ok());
  ASSERT_TRUE(ro->AddSymlink("d/l", "g").ok());
  EXPECT_EQ(*fs->ReadFile("d/l"), "host");
}

}  // namespace
}  // namespace weft::wasi
