// Helpers for building module binaries by hand in the decoder/validator unit tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "weft/wasm/module.h"

namespace weft::wasm::testing {

using Bytes = std::vector<uint8_t>;

inline void AppendU32(Bytes& out, uint32_t v) {
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    if (v) b |= 0x80;
    out.push_back(b);
  } while (v);
}

inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A section: id, LEB128 size, payload.
inline Bytes Section(uint8_t id, const Bytes& payload) {
  Bytes out = {id};
  AppendU32(out, static_cast<uint32_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// A vector: LEB128 count then the items.
inline Bytes Vec(std::initializer_list<Bytes> items) {
  Bytes out;
  AppendU32(out, static_cast<uint32_t>(items.size()));
  for (const Bytes& i : items) out.insert(out.end(), i.begin(), i.end());
  return out;
}

inline Bytes Name(const std::string& s) {
  Bytes out;
  AppendU32(out, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

inline Bytes Header() { return {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00}; }

// A function body entry of the code section: size, locals, instructions (+ final end).
inline Bytes Body(const Bytes& locals_vec, const Bytes& instrs) {
  Bytes fn = locals_vec;
  fn.insert(fn.end(), instrs.begin(), instrs.end());
  fn.push_back(0x0B);
  Bytes out;
  AppendU32(out, static_cast<uint32_t>(fn.size()));
  out.insert(out.end(), fn.begin(), fn.end());
  return out;
}

// Module with the given types and one function of type `type_index` with `instrs`
// (and no locals), plus optional extra sections placed between function and code
// (`mid`: table/memory/global/export/start/elem/datacount) and after code (`tail`).
inline Bytes OneFunc(const Bytes& types_vec, uint32_t type_index, const Bytes& instrs,
                     const Bytes& mid = {}, const Bytes& tail = {}, const Bytes& locals = {0x00}) {
  Bytes funcs;
  AppendU32(funcs, 1);
  AppendU32(funcs, type_index);
  return Cat({Header(), Section(1, types_vec), Section(3, funcs), mid,
              Section(10, Vec({Body(locals, instrs)})), tail});
}

// Function type bytes: 0x60 params results.
inline Bytes FuncTypeBytes(std::initializer_list<uint8_t> params, std::initializer_list<uint8_t> results) {
  Bytes out = {0x60};
  AppendU32(out, static_cast<uint32_t>(params.size()));
  out.insert(out.end(), params.begin(), params.end());
  AppendU32(out, static_cast<uint32_t>(results.size()));
  out.insert(out.end(), results.begin(), results.end());
  return out;
}

constexpr uint8_t kI32 = 0x7F, kI64 = 0x7E, kF32 = 0x7D, kF64 = 0x7C, kFuncRef = 0x70,
                  kExternRef = 0x6F;

// Decodes; returns "" on success or the error message.
inline std::string DecodeError(const Bytes& b, const DecodeOptions& opt = {}) {
  auto r = DecodeModule(b, opt);
  return r.ok() ? std::string() : r.error().message;
}

}  // namespace weft::wasm::testing
