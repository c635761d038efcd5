// CodeCache (weft/wasm/code_cache.h): one file per module, in this layout (host byte
// order; the build ID in the directory name pins the machine and the code format):
//
//   u64 magic, u64 checksum of everything after it,
//   u64 module size, the module's bytes, padding to 8,
//   u32 DecodeOptions::max_function_locals and max_nesting_depth,
//   u32 imported functions, u32 defined functions,
//   u8 per imported function: 1 when it was a host function, padding to 4,
//   u32 per defined function: Function::distinct_consts,
//   per defined function: u32 1 when translated, else 0; when translated,
//     u32 params, results, locals, frame slots, constants, code words, type-id words, pad,
//     then u64 constants, u32 code words, u32 (word, module type index) pairs, padding to 8.
//
// Why it pays: for a hello-world run, validating the bodies and translating the functions
// it calls were over half of the 651K instructions weft executed; with an entry it
// executes 226K (callgrind, issue 5).
#include "weft/wasm/code_cache.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>

#include "wasm/decode/decode_validated.h"
#include "wasm/runtime/store_impl.h"

// The ELF header of the object this code is linked into, defined by the linker; weak, so
// a link without it leaves the cache off rather than failing.
extern "C" const ElfW(Ehdr) __ehdr_start __attribute__((weak, visibility("hidden")));

namespace weft::wasm {
namespace {

constexpr uint64_t kMagic = 0x31306363'74666577;  // "weftcc01"
constexpr size_t kHeaderBytes = 16;               // magic and checksum
// An entry is rewritten whole when a run translates functions it lacks; past this size
// that would cost more at exit than the cache saves at the next start.
constexpr size_t kMaxEntryBytes = size_t{256} << 20;

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// A 64-bit hash to name entry files and to catch damaged ones; never trusted to tell
// modules apart (an entry holds its module's bytes for that).
uint64_t Hash64(std::span<const uint8_t> b) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (b.size() * 0xc2b2ae3d27d4eb4full);
  size_t i = 0;
  for (; i + 8 <= b.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, b.data() + i, 8);
    h = Rotl(h ^ (w * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full;
  }
  uint64_t tail = 0;
  if (i < b.size()) std::memcpy(&tail, b.data() + i, b.size() - i);
  h ^= tail * 0x87c37b91114253d5ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

std::string Hex(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

// The GNU build ID of the ELF object this code is linked into (the executable, or a shared
// library holding weft), in hex; "" without one. Read from the object's own headers
// (__ehdr_start): dl_iterate_phdr cost ~30 us at start-up here, reading the vDSO's too.
// Addresses are integers and fields are copied out, since the headers past the ELF
// header are not C++ objects the compiler knows of. Found once per CodeCache, not kept in
// a static: its guard and atexit cost ~15 us at start-up.
std::string FindBuildIdHex() {
  if (&__ehdr_start == nullptr) return "";
  ElfW(Ehdr) eh;
  std::memcpy(&eh, &__ehdr_start, sizeof eh);
  const uintptr_t base = reinterpret_cast<uintptr_t>(&__ehdr_start);
  auto phdr = [&](int i) {
    ElfW(Phdr) ph;
    std::memcpy(&ph, reinterpret_cast<const void*>(base + eh.e_phoff + i * sizeof ph), sizeof ph);
    return ph;
  };
  // The headers are mapped at the segment that holds file offset 0.
  uintptr_t bias = 0;
  bool found = false;
  for (int i = 0; i < eh.e_phnum && !found; ++i) {
    ElfW(Phdr) ph = phdr(i);
    if (ph.p_type == PT_LOAD && ph.p_offset == 0) {
      bias = base - ph.p_vaddr;
      found = true;
    }
  }
  for (int i = 0; i < eh.e_phnum && found; ++i) {
    ElfW(Phdr) ph = phdr(i);
    if (ph.p_type != PT_NOTE) continue;
    uintptr_t p = bias + ph.p_vaddr, end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, reinterpret_cast<const void*>(p), sizeof note);
      uintptr_t name = p + sizeof note;
      uintptr_t desc = name + ((note.n_namesz + 3) & ~3u);
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 && desc + note.n_descsz <= end &&
          std::memcmp(reinterpret_cast<const void*>(name), "GNU", 4) == 0) {
        return Hex(reinterpret_cast<const uint8_t*>(desc), note.n_descsz);
      }
      p = desc + ((note.n_descsz + 3) & ~3u);
    }
  }
  return "";
}


// Appends the file's fields (see the layout above).
class EntryWriter {
 public:
  void U32(uint32_t v) { Bytes(&v, 4); }
  void U64(uint64_t v) { Bytes(&v, 8); }
  void Bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void Pad(size_t to) { out_.resize((out_.size() + to - 1) / to * to); }
  std::vector<uint8_t>& bytes() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

// Reads the fields back, bounds-checked: any short read marks the entry unusable.
class EntryReader {
 public:
  explicit EntryReader(std::span<const uint8_t> b) : b_(b) {}
  bool ok() const { return ok_; }
  uint32_t U32() { return Scalar<uint32_t>(); }
  uint64_t U64() { return Scalar<uint64_t>(); }
  template <typename T>
  std::span<const T> Array(uint64_t count) {
    if (!ok_ || count > (b_.size() - at_) / sizeof(T)) {
      ok_ = false;
      return {};
    }
    // The mapping is page-aligned and every array starts at a multiple of its size.
    std::span<const T> s(reinterpret_cast<const T*>(b_.data() + at_), count);
    at_ += count * sizeof(T);
    return s;
  }
  void Pad(size_t to) { at_ = std::min(b_.size(), (at_ + to - 1) / to * to); }

 private:
  template <typename T>
  T Scalar() {
    T v{};
    if (auto s = Array<uint8_t>(sizeof(T)); ok_) std::memcpy(&v, s.data(), sizeof(T));
    return v;
  }
  std::span<const uint8_t> b_;
  size_t at_ = 0;
  bool ok_ = true;
};

bool MakeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    std::string prefix = path.substr(0, i);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  return true;
}

// Whether `name` is spelled like a build ID's subdirectory (FindBuildIdHex), an entry
// (EntryPath) or an entry's temporary file (Save): the only names Trim may delete.
bool IsHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}
bool IsBuildDirName(std::string_view name) {
  return name.size() >= 8 && name.size() <= 128 && IsHex(name);
}
bool IsEntryName(std::string_view name) {
  return name.size() == 16 + 4 && name.substr(16) == ".wcc" && IsHex(name.substr(0, 16));
}
bool IsTempName(std::string_view name) {
  return name.size() > 16 + 9 && name.substr(16, 9) == ".wcc.tmp." && IsHex(name.substr(0, 16));
}

// Calls visit(path) for each subdirectory of root named like a build ID.
template <class Visit>
void ForEachBuildDir(const std::string& root, Visit visit) {
  DIR* top = ::opendir(root.c_str());
  if (top == nullptr) return;
  while (const dirent* d = ::readdir(top)) {
    if (IsBuildDirName(d->d_name)) visit(root + "/" + d->d_name);
  }
  ::closedir(top);
}

// Calls visit(path, stat, is_entry) for each regular file of this user under
// root/<build ID>/ that is named as an entry (is_entry) or as a temporary file.
template <class Visit>
void ForEachCacheFile(const std::string& root, Visit visit) {
  ForEachBuildDir(root, [&](const std::string& sub) {
    DIR* dir = ::opendir(sub.c_str());
    if (dir == nullptr) return;
    while (const dirent* f = ::readdir(dir)) {
      const bool entry = IsEntryName(f->d_name);
      if (!entry && !IsTempName(f->d_name)) continue;
      struct stat st;
      if (::fstatat(::dirfd(dir), f->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) continue;
      visit(sub + "/" + f->d_name, st, entry);
    }
    ::closedir(dir);
  });
}

}  // namespace

TranslatedCode::~TranslatedCode() {
  if (mapping != nullptr) ::munmap(const_cast<uint8_t*>(mapping), mapping_bytes);
}

bool TranslatedCode::FitsLinking(const Instance& inst) const {
  const Module& m = *inst.module;
  if (import_is_host.size() != m.num_imported_funcs || funcs.size() != m.functions.size())
    return false;
  for (uint32_t i = 0; i < m.num_imported_funcs; ++i)
    if (import_is_host[i] != inst.funcs[i]->is_host()) return false;
  return true;
}

CodeCache::CodeCache(std::string dir, DecodeOptions options) : options_(options) {
  if (dir.empty()) return;
  std::string id = FindBuildIdHex();
  if (id.empty()) return;
  root_ = std::move(dir);
  dir_ = root_ + "/" + id;
}

std::string CodeCache::DefaultDir() {
  if (const char* d = std::getenv("WEFT_CACHE_DIR")) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/weft";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/weft";
  return "";
}

std::string CodeCache::EntryPath(std::span<const uint8_t> module_bytes) const {
  if (dir_.empty()) return "";
  uint64_t h = Hash64(module_bytes);
  return dir_ + "/" + Hex(reinterpret_cast<const uint8_t*>(&h), 8) + ".wcc";
}

Result<std::shared_ptr<const Module>, Diag> CodeCache::Decode(std::vector<uint8_t>&& bytes) {
  std::shared_ptr<const TranslatedCode> entry = Load(bytes);
  if (!entry) return DecodeModule(std::move(bytes), options_);
  std::span<const uint32_t> consts = entry->distinct_consts;
  return DecodeValidatedModule(std::move(bytes), options_, consts, std::move(entry));
}

std::shared_ptr<const TranslatedCode> CodeCache::Load(std::span<const uint8_t> module_bytes) const {
  std::string path = EntryPath(module_bytes);
  if (path.empty()) return nullptr;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st;
  bool usable = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() &&
                st.st_size > static_cast<off_t>(kHeaderBytes);
  // Mapped, not read: read() into fresh memory cost ~3x as much here (issue 5). Entries
  // are replaced by rename, never rewritten in place, so the mapping stays whole.
  // Every page is read below: MAP_POPULATE maps them all in this one call.
  void* map = usable ? ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ,
                              MAP_PRIVATE | MAP_POPULATE, fd, 0)
                     : MAP_FAILED;
  ::close(fd);
  if (map == MAP_FAILED) return nullptr;
  auto code = std::make_shared<TranslatedCode>();
  code->mapping = static_cast<const uint8_t*>(map);
  code->mapping_bytes = static_cast<size_t>(st.st_size);

  std::span<const uint8_t> file(code->mapping, code->mapping_bytes);
  EntryReader r(file);
  if (r.U64() != kMagic || r.U64() != Hash64(file.subspan(kHeaderBytes))) return nullptr;
  uint64_t module_size = r.U64();
  std::span<const uint8_t> module_copy = r.Array<uint8_t>(module_size);
  if (!r.ok() || module_size != module_bytes.size() ||
      std::memcmp(module_copy.data(), module_bytes.data(), module_size) != 0) {
    return nullptr;
  }
  r.Pad(8);
  // Validation's limits: bodies validated under other ones are validated again.
  if (r.U32() != options_.max_function_locals || r.U32() != options_.max_nesting_depth)
    return nullptr;
  uint32_t num_imports = r.U32();
  uint32_t num_funcs = r.U32();
  for (uint8_t is_host : r.Array<uint8_t>(num_imports)) code->import_is_host.push_back(is_host);
  r.Pad(4);
  code->distinct_consts = r.Array<uint32_t>(num_funcs);
  if (!r.ok()) return nullptr;
  code->funcs.resize(num_funcs);
  for (uint32_t i = 0; i < num_funcs && r.ok(); ++i) {
    if (r.U32() == 0) continue;
    TranslatedFunc& f = code->funcs[i].emplace();
    f.num_params = r.U32();
    f.num_results = r.U32();
    f.num_locals = r.U32();
    f.frame_slots = r.U32();
    uint32_t num_consts = r.U32(), num_code = r.U32(), num_type_ids = r.U32();
    r.Pad(8);
    f.consts = r.Array<uint64_t>(num_consts);
    f.code = r.Array<CodeWord>(num_code);
    f.type_id_words = r.Array<uint32_t>(uint64_t{num_type_ids} * 2);
    r.Pad(8);
  }
  if (!r.ok()) return nullptr;
  // Trim deletes the entries written longest ago: one in use gets its time set to now,
  // at most once a day, so that Trim deletes what was used longest ago instead, at the
  // cost of one system call a day per entry.
  if (::time(nullptr) - st.st_mtime >= kTouchAfterSeconds) ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
  return code;
}

bool CodeCache::Save(const Instance& instance) {
  const Module& m = *instance.module;
  if (dir_.empty()) return false;
  const TranslatedCode* old = instance.translated.get();
  auto compiled = [&](size_t i) -> const CompiledFunc* {
    auto* cf = static_cast<const CompiledFunc*>(instance.funcs[m.num_imported_funcs + i]->compiled);
    return cf && !cf->embeds_address ? cf : nullptr;
  };
  bool new_code = false;
  for (size_t i = 0; i < m.functions.size() && !new_code; ++i)
    new_code = compiled(i) && !(old && old->funcs[i]);
  if (!new_code) return true;

  EntryWriter w;
  w.U64(kMagic);
  w.U64(0);  // the checksum, once the rest is written
  w.U64(m.bytes.size());
  w.Bytes(m.bytes.data(), m.bytes.size());
  w.Pad(8);
  w.U32(options_.max_function_locals);
  w.U32(options_.max_nesting_depth);
  w.U32(m.num_imported_funcs);
  w.U32(static_cast<uint32_t>(m.functions.size()));
  for (uint32_t i = 0; i < m.num_imported_funcs; ++i) {
    uint8_t is_host = instance.funcs[i]->is_host() ? 1 : 0;
    w.Bytes(&is_host, 1);
  }
  w.Pad(4);
  for (const Function& f : m.functions) w.U32(f.distinct_consts);
  for (size_t i = 0; i < m.functions.size(); ++i) {
    const CompiledFunc* cf = compiled(i);
    const TranslatedFunc* tf = !cf && old && old->funcs[i] ? &*old->funcs[i] : nullptr;
    w.U32(cf || tf ? 1 : 0);
    if (cf) {
      for (uint32_t v : {cf->num_params, cf->num_results, cf->num_locals, cf->frame_slots,
                         static_cast<uint32_t>(cf->consts.size()),
                         static_cast<uint32_t>(cf->code.size()),
                         static_cast<uint32_t>(cf->type_id_words.size())}) {
        w.U32(v);
      }
      w.Pad(8);
      w.Bytes(cf->consts.data(), cf->consts.size() * 8);
      w.Bytes(cf->code.data(), cf->code.size() * sizeof(CodeWord));
      for (const TypeIdWord& t : cf->type_id_words) {
        w.U32(t.word);
        w.U32(t.type_index);
      }
      w.Pad(8);
    } else if (tf) {
      for (uint32_t v : {tf->num_params, tf->num_results, tf->num_locals, tf->frame_slots,
                         static_cast<uint32_t>(tf->consts.size()),
                         static_cast<uint32_t>(tf->code.size()),
                         static_cast<uint32_t>(tf->type_id_words.size() / 2)}) {
        w.U32(v);
      }
      w.Pad(8);
      w.Bytes(tf->consts.data(), tf->consts.size_bytes());
      w.Bytes(tf->code.data(), tf->code.size_bytes());
      w.Bytes(tf->type_id_words.data(), tf->type_id_words.size_bytes());
      w.Pad(8);
    }
  }
  std::vector<uint8_t>& out = w.bytes();
  if (out.size() > kMaxEntryBytes) return false;
  uint64_t sum = Hash64(std::span<const uint8_t>(out).subspan(kHeaderBytes));
  std::memcpy(out.data() + 8, &sum, 8);

  if (!MakeDirs(dir_)) return false;
  std::string path = EntryPath(m.bytes);
  static std::atomic<uint32_t> serial{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = ::close(fd) == 0 && done == out.size() && ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) ::unlink(tmp.c_str());
  if (ok) Trim(path);
  return ok;
}

void CodeCache::Trim(const std::string& keep) const {
  // (An entry's time is when it was last written or, to a day, used: see Load.)
  struct File {
    std::string path;
    uint64_t bytes;
    timespec written;
  };
  std::vector<File> entries;
  uint64_t total = 0;
  const time_t now = ::time(nullptr);
  ForEachCacheFile(root_, [&](const std::string& path, const struct stat& st, bool is_entry) {
    if (!is_entry) {
      // A temporary file whose writer died: a live writer renames its file within moments.
      if (now - st.st_mtime >= 3600) ::unlink(path.c_str());
      return;
    }
    total += static_cast<uint64_t>(st.st_size);
    if (path != keep) entries.push_back({path, static_cast<uint64_t>(st.st_size), st.st_mtim});
  });
  if (total <= size_limit_) return;
  std::sort(entries.begin(), entries.end(), [](const File& a, const File& b) {
    return a.written.tv_sec != b.written.tv_sec ? a.written.tv_sec < b.written.tv_sec
                                                : a.written.tv_nsec < b.written.tv_nsec;
  });
  const uint64_t target = size_limit_ / 4 * 3;
  for (const File& f : entries) {
    if (total <= target) break;
    if (::unlink(f.path.c_str()) == 0 || errno == ENOENT) total -= f.bytes;
  }
  // Folders left empty go (rmdir leaves the others alone), but this build's own.
  ForEachBuildDir(root_, [&](const std::string& sub) {
    if (sub != dir_) ::rmdir(sub.c_str());
  });
}

}  // namespace weft::wasm
