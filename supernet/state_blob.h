// A flat binary record of training state (weights, optimiser moments, RNG words, loader positions, schedule
// counters), for checkpoints that continue a run bit for bit. Values are written in a fixed order and read back in
// the same order; each is tagged with its kind and, for arrays, its length, so a reader meeting anything else — a
// checkpoint of another network, a truncated or corrupt blob — throws one nas::Error instead of reading garbage.
// Little-endian, as the results database's weight blobs (results/results_db.cpp asserts the host is).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nas::supernet {

class StateWriter {
 public:
  StateWriter();
  void u64(uint64_t value);
  void i64(int64_t value) { u64(static_cast<uint64_t>(value)); }
  void f64(double value);
  void floats(std::span<const float> values);
  void doubles(std::span<const double> values);
  void text(std::string_view value);
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  void tag(uint8_t kind);
  void raw(const void* data, size_t size);
  std::vector<uint8_t> bytes_;
};

class StateReader {
 public:
  // `what` names the blob in errors (e.g. "checkpoint of run 3").
  StateReader(std::span<const uint8_t> bytes, std::string what);
  uint64_t u64();
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64();
  // Reads an array into `out`, whose size must be the stored length (the network the state belongs to).
  void floats(std::span<float> out);
  std::vector<double> doubles();
  std::string text();
  // Throws unless every byte was read: a longer blob is not the state of this run.
  void finish() const;

 private:
  void expect(uint8_t kind);
  void raw(void* data, size_t size);
  [[noreturn]] void corrupt(const std::string& why) const;
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
  std::string what_;
};

}  // namespace nas::supernet
