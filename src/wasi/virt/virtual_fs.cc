// The in-memory directory tree. See virtual_fs.h.
//
// Path resolution walks one component at a time under the tree mutex, keeping the
// chain of directories from the handle's own directory so that ".." pops it; popping
// the handle's directory itself, an absolute path, or an absolute symlink target is an
// escape (EPERM). Symlinks are expanded in place (at most kMaxSymlinks per lookup).
#include "weft/wasi/virtual_fs.h"

#include <algorithm>
#include <vector>

#include "wasi/virt/node.h"
#include "weft/wasi/memfile.h"

namespace weft::wasi {

namespace virt {
// One filesystem: its device number and the mutex that guards the tree fields of all
// its nodes.
struct Tree {
  std::mutex mu;
  const Device dev = NextDevice();
};
}  // namespace virt

namespace {

using virt::Node;
using NodePtr = std::shared_ptr<Node>;

constexpr int kMaxSymlinks = 40;      // as Linux (ELOOP beyond)
constexpr size_t kMaxNameLen = 255;   // NAME_MAX
constexpr size_t kReaddirBatch = 128; // entries copied per lock hold

// How the last component is treated when it names a symlink.
enum class Follow {
  kNo,     // not followed, unless the path ends in '/' (as stat/open without FOLLOW)
  kYes,    // followed
  kNever,  // never followed; the caller interprets a trailing '/' (mkdir, unlink, ...)
};

struct Lookup {
  NodePtr parent;  // the directory holding `name`; null when the path ends in "." / ".."
  std::string name;
  NodePtr node;    // null: no entry `name` in `parent` (yet)
  bool trailing_slash = false;
};

bool IsDir(const NodePtr& n) { return n && n->type == Filetype::kDirectory; }

// A trailing '/' on something that is not a directory (for Follow::kNever callers).
bool NotDirWithSlash(const Lookup& r) { return r.trailing_slash && r.node && !IsDir(r.node); }

// Pushes the components of `path` onto `pending` so that the first is at the back.
void PushComponents(std::string_view path, std::vector<std::string>* pending) {
  std::vector<std::string> comps;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) comps.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  for (auto it = comps.rbegin(); it != comps.rend(); ++it) pending->push_back(std::move(*it));
}

// Resolves `path` beneath `base`. REQUIRES the tree mutex.
ErrnoOr<Lookup> Resolve(const NodePtr& base, std::string_view path, Follow follow) {
  if (path.empty()) return Err(Errno::kNoent);
  if (path.find('\0') != std::string_view::npos) return Err(Errno::kInval);
  if (path.front() == '/') return Err(Errno::kPerm);
  Lookup out;
  out.trailing_slash = path.back() == '/';
  std::vector<std::string> pending;
  PushComponents(path, &pending);
  std::vector<NodePtr> stack{base};
  int links = 0;
  while (!pending.empty()) {
    std::string comp = std::move(pending.back());
    pending.pop_back();
    const bool last = pending.empty();
    NodePtr cur = stack.back();
    if (comp == ".") {
      if (last) {
        out.node = cur;
        out.name = ".";
      }
      continue;
    }
    if (comp == "..") {
      if (stack.size() == 1) return Err(Errno::kPerm);
      stack.pop_back();
      if (last) {
        out.node = stack.back();
        out.name = "..";
      }
      continue;
    }
    if (comp.size() > kMaxNameLen) return Err(Errno::kNametoolong);
    auto it = cur->children.find(comp);
    if (it == cur->children.end()) {
      if (!last) return Err(Errno::kNoent);
      out.parent = cur;
      out.name = std::move(comp);
      break;
    }
    NodePtr child = it->second.node;
    if (child->type == Filetype::kSymbolicLink &&
        (!last || follow == Follow::kYes || (follow == Follow::kNo && out.trailing_slash))) {
      if (++links > kMaxSymlinks) return Err(Errno::kLoop);
      const std::string& target = child->target;
      if (target.empty()) return Err(Errno::kNoent);
      if (target.front() == '/') return Err(Errno::kPerm);
      if (last && target.back() == '/') out.trailing_slash = true;
      PushComponents(target, &pending);
      if (pending.empty()) pending.push_back(".");  // target was all slashes after the first
      continue;
    }
    if (last) {
      out.parent = cur;
      out.name = std::move(comp);
      out.node = std::move(child);
    } else if (child->type == Filetype::kDirectory) {
      stack.push_back(std::move(child));
    } else {
      return Err(Errno::kNotdir);
    }
  }
  if (follow != Follow::kNever && NotDirWithSlash(out)) return Err(Errno::kNotdir);
  return out;
}

// Adds `child` as `name` in `dir`. REQUIRES the tree mutex.
void Insert(const NodePtr& dir, const std::string& name, const NodePtr& child) {
  uint64_t seq = dir->next_seq++;
  dir->children[name] = Node::Child{child, seq};
  dir->order[seq] = name;
  if (child->type == Filetype::kDirectory) child->parent = dir;
  dir->Touch();
}

// Removes the entry `name` from `dir`. REQUIRES the tree mutex.
void Erase(const NodePtr& dir, const std::string& name) {
  auto it = dir->children.find(name);
  if (it == dir->children.end()) return;
  dir->order.erase(it->second.seq);
  dir->children.erase(it);
  dir->Touch();
}

// The node lost a name: files and symlinks lose a link, directories leave the tree.
// REQUIRES the tree mutex.
void Unlinked(const NodePtr& node) {
  if (node->type == Filetype::kDirectory) {
    node->removed = true;
    node->parent.reset();
    return;
  }
  std::lock_guard<std::mutex> lock(node->mu);
  if (node->nlink > 0) --node->nlink;
  node->ctim = virt::NowRealtime();
}

// REQUIRES the tree mutex.
Filestat StatNode(Node& node) {
  Filestat st;
  uint64_t subdirs = 0;
  if (node.type == Filetype::kDirectory) {
    for (const auto& [name, child] : node.children) {
      if (child.node->type == Filetype::kDirectory) ++subdirs;
    }
  }
  std::lock_guard<std::mutex> lock(node.mu);
  st.dev = node.dev;
  st.ino = node.ino;
  st.filetype = node.type;
  switch (node.type) {
    case Filetype::kDirectory:
      st.nlink = node.removed ? 0 : 2 + subdirs;
      st.size = 0;
      break;
    case Filetype::kSymbolicLink:
      st.nlink = node.nlink;
      st.size = node.target.size();
      break;
    default:
      st.nlink = node.nlink;
      st.size = node.bytes.size();
      break;
  }
  st.atim = node.atim;
  st.mtim = node.mtim;
  st.ctim = node.ctim;
  return st;
}

ErrnoOr<void> SetNodeTimes(Node& node, Timestamp atim, Timestamp mtim, Fstflags flags) {
  std::lock_guard<std::mutex> lock(node.mu);
  WEFT_TRY(virt::ApplyTimes(atim, mtim, flags, &node.atim, &node.mtim));
  node.ctim = virt::NowRealtime();
  return {};
}

// A set-times call under a read-only directory: EINVAL for bad flags first, then EPERM.
ErrnoOr<void> CheckedReadOnly(Timestamp atim, Timestamp mtim, Fstflags flags) {
  Timestamp a = 0, m = 0;
  WEFT_TRY(virt::ApplyTimes(atim, mtim, flags, &a, &m));
  return Err(virt::kReadOnlyErrno);
}

}  // namespace

VirtualDir::VirtualDir(std::shared_ptr<virt::Tree> tree, std::shared_ptr<virt::Node> node,
                       bool read_only)
    : tree_(std::move(tree)), node_(std::move(node)), read_only_(read_only) {}

std::shared_ptr<VirtualDir> VirtualDir::ReadOnlyView() const {
  return std::make_shared<VirtualDir>(tree_, node_, /*read_only=*/true);
}

VirtualDir::~VirtualDir() = default;

std::shared_ptr<VirtualDir> MakeVirtualFs() {
  auto tree = std::make_shared<virt::Tree>();
  auto root = std::make_shared<Node>(Filetype::kDirectory, tree->dev);
  return std::make_shared<VirtualDir>(std::move(tree), std::move(root));
}

ErrnoOr<Filestat> VirtualDir::Stat() {
  std::lock_guard<std::mutex> lock(tree_->mu);
  return StatNode(*node_);
}

ErrnoOr<void> VirtualDir::SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) {
  if (read_only_) return CheckedReadOnly(atim, mtim, flags);
  return SetNodeTimes(*node_, atim, mtim, flags);
}

ErrnoOr<std::shared_ptr<Handle>> VirtualDir::OpenAt(std::string_view path,
                                                     const OpenOptions& opts) {
  const bool creat = opts.oflags & kOflagCreat;
  const bool excl = opts.oflags & kOflagExcl;
  const bool directory = opts.oflags & kOflagDirectory;
  const bool trunc = opts.oflags & kOflagTrunc;
  constexpr Oflags kAllOflags = kOflagCreat | kOflagDirectory | kOflagExcl | kOflagTrunc;
  constexpr Fdflags kAllFdflags =
      kFdflagAppend | kFdflagDsync | kFdflagNonblock | kFdflagRsync | kFdflagSync;
  if ((opts.oflags & ~kAllOflags) || (opts.fdflags & ~kAllFdflags)) return Err(Errno::kInval);
  // As wasmtime (and HostDir): a directory cannot be created, exclusively opened or
  // truncated through path_open.
  if (directory && (creat || excl || trunc)) return Err(Errno::kInval);
  if (read_only_ && (creat || trunc || opts.write)) return Err(virt::kReadOnlyErrno);
  Follow follow = (opts.lookup & kLookupSymlinkFollow) ? Follow::kYes : Follow::kNo;
  if (creat && excl) follow = Follow::kNever;  // O_EXCL: a final symlink is "existing"

  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path, follow));
  NodePtr node = r.node;
  if (!node) {
    if (!creat) return Err(Errno::kNoent);
    if (r.trailing_slash) return Err(Errno::kIsdir);
    if (r.parent->removed) return Err(Errno::kNoent);
    node = std::make_shared<Node>(Filetype::kRegularFile, tree_->dev);
    Insert(r.parent, r.name, node);
  } else {
    if (creat && excl) return Err(Errno::kExist);
    if (node->type == Filetype::kSymbolicLink) return Err(Errno::kLoop);  // O_NOFOLLOW
    if (directory && node->type != Filetype::kDirectory) return Err(Errno::kNotdir);
    if (node->type == Filetype::kDirectory) {
      if (opts.write || trunc) return Err(Errno::kIsdir);
      return std::shared_ptr<Handle>(std::make_shared<VirtualDir>(tree_, node, read_only_));
    }
    if (trunc) {
      std::lock_guard<std::mutex> node_lock(node->mu);
      if (!node->bytes.empty()) {
        node->bytes.clear();
        node->bytes.shrink_to_fit();
      }
      node->TouchLocked();
    }
  }
  return std::shared_ptr<Handle>(std::make_shared<MemFile>(std::move(node), opts.fdflags,
                                                           opts.read, opts.write, read_only_));
}

ErrnoOr<void> VirtualDir::CreateDir(std::string_view path) {
  if (read_only_) return Err(virt::kReadOnlyErrno);
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path, Follow::kNever));
  if (r.node) return Err(Errno::kExist);
  if (r.parent->removed) return Err(Errno::kNoent);
  Insert(r.parent, r.name, std::make_shared<Node>(Filetype::kDirectory, tree_->dev));
  return {};
}

ErrnoOr<void> VirtualDir::RemoveDir(std::string_view path) {
  if (read_only_) return Err(virt::kReadOnlyErrno);
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path, Follow::kNever));
  if (!r.node) return Err(Errno::kNoent);
  if (!r.parent) return Err(r.name == "." ? Errno::kInval : Errno::kNotempty);  // as rmdir(2)
  if (!IsDir(r.node)) return Err(Errno::kNotdir);
  if (!r.node->children.empty()) return Err(Errno::kNotempty);
  Erase(r.parent, r.name);
  Unlinked(r.node);
  return {};
}

ErrnoOr<void> VirtualDir::UnlinkFile(std::string_view path) {
  if (read_only_) return Err(virt::kReadOnlyErrno);
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path, Follow::kNever));
  if (!r.node) return Err(Errno::kNoent);
  // Linux answers EISDIR for a directory (wasmtime's preview1 tests expect it).
  if (!r.parent || IsDir(r.node)) return Err(Errno::kIsdir);
  if (NotDirWithSlash(r)) return Err(Errno::kNotdir);
  Erase(r.parent, r.name);
  Unlinked(r.node);
  return {};
}

ErrnoOr<void> VirtualDir::Rename(std::string_view old_path, Dir& new_dir,
                                 std::string_view new_path) {
  auto* dst = dynamic_cast<VirtualDir*>(&new_dir);
  if (dst == nullptr || dst->tree_ != tree_) return Err(Errno::kXdev);
  if (read_only_ || dst->read_only_) return Err(virt::kReadOnlyErrno);
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup from, Resolve(node_, old_path, Follow::kNever));
  if (!from.node) return Err(Errno::kNoent);
  if (!from.parent) return Err(Errno::kBusy);
  if (NotDirWithSlash(from)) return Err(Errno::kNotdir);
  WEFT_TRY_ASSIGN(Lookup to, Resolve(dst->node_, new_path, Follow::kNever));
  if (!to.parent) return Err(Errno::kBusy);
  const NodePtr& src = from.node;
  const bool src_is_dir = IsDir(src);
  if (!to.node) {
    if (to.trailing_slash && !src_is_dir) return Err(Errno::kNotdir);
    if (to.parent->removed) return Err(Errno::kNoent);
  } else if (NotDirWithSlash(to)) {
    return Err(Errno::kNotdir);
  }
  if (to.node == src) return {};  // the same inode: nothing to do (rename(2))
  if (src_is_dir) {
    if (to.node && !IsDir(to.node)) return Err(Errno::kNotdir);
    if (to.node && !to.node->children.empty()) return Err(Errno::kNotempty);
    // A directory cannot move beneath itself.
    for (NodePtr p = to.parent; p; p = p->parent.lock()) {
      if (p == src) return Err(Errno::kInval);
    }
  } else if (IsDir(to.node)) {
    return Err(Errno::kIsdir);
  }
  NodePtr keep = src;  // `from` and `to` may alias the entries erased below
  Erase(from.parent, from.name);
  if (to.node) {
    Erase(to.parent, to.name);
    Unlinked(to.node);
  }
  Insert(to.parent, to.name, keep);
  {
    std::lock_guard<std::mutex> node_lock(keep->mu);
    keep->ctim = virt::NowRealtime();
  }
  return {};
}

ErrnoOr<void> VirtualDir::Link(Lookupflags lookup, std::string_view old_path, Dir& new_dir,
                               std::string_view new_path) {
  auto* dst = dynamic_cast<VirtualDir*>(&new_dir);
  if (dst == nullptr || dst->tree_ != tree_) return Err(Errno::kXdev);
  if (read_only_ || dst->read_only_) return Err(virt::kReadOnlyErrno);
  if (lookup & kLookupSymlinkFollow) return Err(Errno::kInval);  // as wasmtime
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup from, Resolve(node_, old_path, Follow::kNever));
  if (!from.node) return Err(Errno::kNoent);
  if (!from.parent || IsDir(from.node)) return Err(Errno::kPerm);
  if (NotDirWithSlash(from)) return Err(Errno::kNotdir);
  WEFT_TRY_ASSIGN(Lookup to, Resolve(dst->node_, new_path, Follow::kNever));
  if (NotDirWithSlash(to)) return Err(Errno::kNotdir);
  if (to.node || !to.parent) return Err(Errno::kExist);
  if (to.trailing_slash) return Err(Errno::kNoent);
  if (to.parent->removed) return Err(Errno::kNoent);
  {
    std::lock_guard<std::mutex> node_lock(from.node->mu);
    ++from.node->nlink;
    from.node->ctim = virt::NowRealtime();
  }
  Insert(to.parent, to.name, from.node);
  return {};
}

ErrnoOr<void> VirtualDir::Symlink(std::string_view target, std::string_view link_path) {
  if (read_only_) return Err(virt::kReadOnlyErrno);
  if (target.empty()) return Err(Errno::kNoent);
  if (target.find('\0') != std::string_view::npos) return Err(Errno::kInval);
  // As wasmtime (cap-std) and HostDir: an absolute target is an escape attempt. A
  // relative target that climbs out may be created; following it fails.
  if (target.front() == '/') return Err(Errno::kPerm);
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, link_path, Follow::kNever));
  if (NotDirWithSlash(r)) return Err(Errno::kNotdir);
  if (r.node || !r.parent) return Err(Errno::kExist);
  if (r.trailing_slash) return Err(Errno::kNoent);
  if (r.parent->removed) return Err(Errno::kNoent);
  auto link = std::make_shared<Node>(Filetype::kSymbolicLink, tree_->dev);
  link->target = std::string(target);
  Insert(r.parent, r.name, link);
  return {};
}

ErrnoOr<std::string> VirtualDir::Readlink(std::string_view path) {
  // "link/" names what the link points to (ENOTDIR unless a directory), never a link.
  const bool trailing = !path.empty() && path.back() == '/';
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path, trailing ? Follow::kYes : Follow::kNever));
  if (!r.node) return Err(Errno::kNoent);
  if (r.node->type != Filetype::kSymbolicLink) return Err(Errno::kInval);
  return r.node->target;
}

ErrnoOr<Filestat> VirtualDir::StatAt(Lookupflags lookup, std::string_view path) {
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path,
                                    (lookup & kLookupSymlinkFollow) ? Follow::kYes : Follow::kNo));
  if (!r.node) return Err(Errno::kNoent);
  return StatNode(*r.node);
}

ErrnoOr<void> VirtualDir::SetTimesAt(Lookupflags lookup, std::string_view path, Timestamp atim,
                                     Timestamp mtim, Fstflags flags) {
  if (read_only_) return CheckedReadOnly(atim, mtim, flags);
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path,
                                    (lookup & kLookupSymlinkFollow) ? Follow::kYes : Follow::kNo));
  if (!r.node) return Err(Errno::kNoent);
  return SetNodeTimes(*r.node, atim, mtim, flags);
}

ErrnoOr<void> VirtualDir::Readdir(Dircookie cookie,
                                  const std::function<bool(const DirEntry&)>& sink) {
  Dircookie pos = cookie;
  for (;;) {
    std::vector<DirEntry> batch;
    {
      std::lock_guard<std::mutex> lock(tree_->mu);
      if (pos == 0) batch.push_back(DirEntry{1, node_->ino, Filetype::kDirectory, "."});
      if (pos <= 1) {
        NodePtr parent = node_->parent.lock();
        batch.push_back(
            DirEntry{2, parent ? parent->ino : node_->ino, Filetype::kDirectory, ".."});
      }
      for (auto it = node_->order.lower_bound(std::max<Dircookie>(pos, 2));
           it != node_->order.end() && batch.size() < kReaddirBatch; ++it) {
        const NodePtr& child = node_->children.find(it->second)->second.node;
        batch.push_back(DirEntry{it->first + 1, child->ino, child->type, it->second});
      }
    }
    if (batch.empty()) return {};
    for (const DirEntry& e : batch) {
      if (!sink(e)) return {};
    }
    pos = batch.back().next;
  }
}

ErrnoOr<void> VirtualDir::AddDir(std::string_view path) {
  std::lock_guard<std::mutex> lock(tree_->mu);
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) {
      WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path.substr(0, j), Follow::kYes));
      if (!r.node) {
        if (r.parent->removed) return Err(Errno::kNoent);
        Insert(r.parent, r.name, std::make_shared<Node>(Filetype::kDirectory, tree_->dev));
      } else if (!IsDir(r.node)) {
        return Err(Errno::kNotdir);
      }
    }
    i = j + 1;
  }
  return {};
}

ErrnoOr<void> VirtualDir::AddFile(std::string_view path, std::string_view contents) {
  size_t slash = path.rfind('/');
  if (slash != std::string_view::npos && slash > 0) WEFT_TRY(AddDir(path.substr(0, slash)));
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path, Follow::kYes));
  NodePtr node = r.node;
  if (!node) {
    if (r.trailing_slash) return Err(Errno::kIsdir);
    if (r.parent->removed) return Err(Errno::kNoent);
    node = std::make_shared<Node>(Filetype::kRegularFile, tree_->dev);
    Insert(r.parent, r.name, node);
  } else if (node->type != Filetype::kRegularFile) {
    return Err(Errno::kIsdir);
  }
  std::lock_guard<std::mutex> node_lock(node->mu);
  node->bytes.assign(contents.begin(), contents.end());
  node->TouchLocked();
  return {};
}

ErrnoOr<void> VirtualDir::AddSymlink(std::string_view path, std::string_view target) {
  // The host may add links even through a read-only view.
  return VirtualDir(tree_, node_).Symlink(target, path);
}

ErrnoOr<std::string> VirtualDir::ReadFile(std::string_view path) {
  std::lock_guard<std::mutex> lock(tree_->mu);
  WEFT_TRY_ASSIGN(Lookup r, Resolve(node_, path, Follow::kYes));
  if (!r.node) return Err(Errno::kNoent);
  if (IsDir(r.node)) return Err(Errno::kIsdir);
  std::lock_guard<std::mutex> node_lock(r.node->mu);
  return std::string(r.node->bytes.begin(), r.node->bytes.end());
}

}  // namespace weft::wasi
