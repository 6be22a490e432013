// The SQLite pieces every module of the results database shares: a prepared statement that binds values (never
// pastes them into SQL) and finalises itself, and a write transaction that rolls back unless committed. Errors
// become nas::Error (failure) naming the database.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace nas::results::sql {

[[noreturn]] inline void fail(sqlite3* db, const std::string& where) {
  throw Error(where, sqlite3_errmsg(db), Error::Kind::failure);
}

// A prepared statement that finalises itself. Values are always bound, never pasted into the SQL text.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& where, const std::string& sql) : db_(db), where_(where) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) fail(db_, where_);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  Statement& bind(int i, const std::optional<double>& v) {
    return v ? bind(i, *v) : check(sqlite3_bind_null(stmt_, i));
  }
  Statement& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }
  Statement& bind_floats(int i, const std::vector<float>& v) {
    return check(sqlite3_bind_blob64(stmt_, i, v.data(), v.size() * sizeof(float), SQLITE_TRANSIENT));
  }
  Statement& bind_bytes(int i, const std::vector<uint8_t>& v) {
    return check(sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT));
  }

  // True while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail(db_, where_);
    return false;
  }
  void run() {
    while (step()) {
    }
  }

  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::optional<double> optional_real(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return real(col);
  }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  std::vector<uint8_t> bytes(int col) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
    return p ? std::vector<uint8_t>(p, p + sqlite3_column_bytes(stmt_, col)) : std::vector<uint8_t>();
  }
  std::vector<float> floats(int col) const {
    const auto bytes = static_cast<size_t>(sqlite3_column_bytes(stmt_, col));
    std::vector<float> out(bytes / sizeof(float));
    if (!out.empty()) std::memcpy(out.data(), sqlite3_column_blob(stmt_, col), out.size() * sizeof(float));
    return out;
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) fail(db_, where_);
    return *this;
  }

  sqlite3* db_;
  std::string where_;
  sqlite3_stmt* stmt_ = nullptr;
};

inline void exec(sqlite3* db, const std::string& where, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, where);
}

// BEGIN IMMEDIATE takes the write lock up front, so a second writer waits (busy_timeout) at the start instead of
// failing halfway. Anything that throws before commit() rolls the whole write back.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& where) : db_(db), where_(where) { exec(db_, where_, "BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    exec(db_, where_, "COMMIT");
    committed_ = true;
  }

 private:
  sqlite3* db_;
  std::string where_;
  bool committed_ = false;
};

}  // namespace nas::results::sql
