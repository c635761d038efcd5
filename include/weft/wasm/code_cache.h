// Translated code kept in files between runs, as wasmtime's CLI keeps compiled code: a
// module that this same build of weft has run before starts without validating its
// function bodies again or translating the functions the earlier runs called. `weft run`
// uses DefaultDir(); `-C cache=n` turns it off.
//
//   weft::wasm::CodeCache cache(weft::wasm::CodeCache::DefaultDir());
//   auto module = cache.Decode(std::move(bytes));   // like DecodeModule
//   ... instantiate, run ...
//   cache.Save(*instance);  // adds the functions this run translated
//
// An entry is used only for exactly the bytes it holds (compared in full, not by hash),
// only by the executable that wrote it (its GNU build ID names a subdirectory), and only
// when the file belongs to the user running weft; a damaged entry fails its checksum and
// is ignored. An entry is written to a temporary file and renamed into place, so runs may
// share a directory. The directory may be deleted at any time; Save keeps it under a
// size limit (set_size_limit).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace weft::wasm {

class CodeCache {
 public:
  // Entries go under `dir` (created, with its parents, by the first Save). An empty dir
  // turns the cache off: Decode is DecodeModule and Save writes nothing. So does an
  // executable without a GNU build ID, which would not tell its entries apart. Modules
  // are decoded with `options`; an entry written under other limits is not used.
  explicit CodeCache(std::string dir, DecodeOptions options = {});

  // $WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else $HOME/.cache/weft; "" when none is set.
  static std::string DefaultDir();

  // DecodeModule through the cache. With an entry for exactly these bytes the function
  // bodies are not validated again (that entry's run validated them) and the module
  // carries the entry's translated code (Module::translated), which the instances that
  // are linked alike use instead of translating those functions.
  Result<std::shared_ptr<const Module>, Diag> Decode(std::vector<uint8_t>&& bytes);

  // Writes the entry for `instance`'s module when the instance translated functions that
  // the entry lacks (a function whose code holds an address of this process, from
  // ref.func, is left out; an entry past 256 MiB is not written, since it is rewritten
  // whole each time it grows). Returns false when the entry could not be written; the
  // cache is only ever an optimisation, so callers may ignore that.
  bool Save(const Instance& instance);

  // The file that holds (or would hold) the entry for `module_bytes`; "" when off.
  std::string EntryPath(std::span<const uint8_t> module_bytes) const;

  // When Save has written an entry and the entries under the directory (those of every
  // weft build, each in its build ID's subdirectory) take more than `bytes`, the least
  // recently used ones (to a day: a load marks an entry at most once a day) are deleted
  // until the rest take at most three quarters of it;
  // the entry just written stays. Only this user's files named as entries are deleted,
  // and temporary files of writers that died an hour or more ago.
  static constexpr uint64_t kDefaultSizeLimit = uint64_t{512} << 20;  // as wasmtime's cache
  static constexpr int64_t kTouchAfterSeconds = 24 * 3600;
  void set_size_limit(uint64_t bytes) { size_limit_ = bytes; }

 private:
  std::shared_ptr<const TranslatedCode> Load(std::span<const uint8_t> module_bytes) const;
  void Trim(const std::string& keep) const;

  std::string root_;  // the directory given
  std::string dir_;   // root_ plus the build-ID subdirectory, or "" when off
  DecodeOptions options_;
  uint64_t size_limit_ = kDefaultSizeLimit;
};

}  // namespace weft::wasm
