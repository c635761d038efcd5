// Result<T, E>: a value or an error, without exceptions (C++20 has no std::expected).
//
// Usage:
//   Result<int, Diag> ParseCount(Reader& r) {
//     WEFT_TRY_ASSIGN(uint32_t n, r.ReadU32());
//     if (n > r.remaining()) return Err(Diag{r.offset(), "count too large"});
//     return n;
//   }
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft {

// Wraps an error so that Result's constructor can tell it from a value.
template <class E>
struct Unexpected {
  E error;
};

template <class E>
Unexpected<std::decay_t<E>> Err(E&& e) {
  return Unexpected<std::decay_t<E>>{std::forward<E>(e)};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  template <class U = T,
            class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                     !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
  Result(Unexpected<G> e) : v_(std::in_place_index<1>, std::move(e.error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { assert(!ok()); return std::get<1>(v_); }
  const E& error() const& { assert(!ok()); return std::get<1>(v_); }
  E&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  // User-provided: `return {};` would otherwise zero-fill the whole object first.
  Result() {}
  template <class G>
  Result(Unexpected<G> e) : has_error_(true), error_(std::move(e.error)) {}

  bool ok() const { return !has_error_; }
  explicit operator bool() const { return ok(); }
  void value() const { assert(ok()); }
  E& error() & { assert(!ok()); return error_; }
  const E& error() const& { assert(!ok()); return error_; }
  E&& error() && { assert(!ok()); return std::move(error_); }

 private:
  bool has_error_ = false;
  E error_{};
};

}  // namespace weft

#define WEFT_CONCAT_INNER_(a, b) a##b
#define WEFT_CONCAT_(a, b) WEFT_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Result) from the enclosing function.
#define WEFT_TRY(expr)                                      \
  do {                                                      \
    auto&& weft_try_result_ = (expr);                       \
    if (!weft_try_result_.ok())                             \
      return ::weft::Err(std::move(weft_try_result_).error()); \
  } while (0)

// Declares/assigns `lhs` from the value of `expr`, or returns its error.
#define WEFT_TRY_ASSIGN(lhs, expr) \
  WEFT_TRY_ASSIGN_IMPL_(WEFT_CONCAT_(weft_try_tmp_, __LINE__), lhs, expr)
#define WEFT_TRY_ASSIGN_IMPL_(tmp, lhs, expr)          \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return ::weft::Err(std::move(tmp).error()); \
  lhs = std::move(tmp).value()
