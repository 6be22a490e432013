#include "supernet/state_blob.h"

#include <bit>
#include <cstring>

#include "common/error.h"

static_assert(std::endian::native == std::endian::little, "state blobs are little-endian");

namespace nas::supernet {

namespace {

// The first bytes of every blob and its format version: a blob of another format is refused, not misread.
constexpr char kMagic[8] = {'m', 'c', 'u', 'n', 'a', 's', 'S', '1'};

enum Kind : uint8_t { kU64 = 1, kF64 = 2, kFloats = 3, kDoubles = 4, kText = 5 };

const char* kind_name(uint8_t kind) {
  switch (kind) {
    case kU64: return "an integer";
    case kF64: return "a number";
    case kFloats: return "a float array";
    case kDoubles: return "a double array";
    case kText: return "a text";
    default: return "an unknown kind";
  }
}

}  // namespace

StateWriter::StateWriter() { raw(kMagic, sizeof kMagic); }

void StateWriter::raw(const void* data, size_t size) {
  if (size == 0) return;
  // resize + memcpy rather than insert: GCC 12 reports a false overflow for insert into an empty vector.
  const size_t at = bytes_.size();
  bytes_.resize(at + size);
  std::memcpy(bytes_.data() + at, data, size);
}

void StateWriter::tag(uint8_t kind) { bytes_.push_back(kind); }

void StateWriter::u64(uint64_t value) {
  tag(kU64);
  raw(&value, sizeof value);
}

void StateWriter::f64(double value) {
  tag(kF64);
  raw(&value, sizeof value);
}

void StateWriter::floats(std::span<const float> values) {
  tag(kFloats);
  const uint64_t n = values.size();
  raw(&n, sizeof n);
  raw(values.data(), values.size_bytes());
}

void StateWriter::doubles(std::span<const double> values) {
  tag(kDoubles);
  const uint64_t n = values.size();
  raw(&n, sizeof n);
  raw(values.data(), values.size_bytes());
}

void StateWriter::text(std::string_view value) {
  tag(kText);
  const uint64_t n = value.size();
  raw(&n, sizeof n);
  raw(value.data(), value.size());
}

StateReader::StateReader(std::span<const uint8_t> bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {
  char magic[sizeof kMagic] = {};
  if (bytes_.size() < sizeof kMagic) corrupt("shorter than its header");
  raw(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) corrupt("not a state blob of this mcunas version");
}

void StateReader::corrupt(const std::string& why) const {
  throw Error(what_, "is corrupt or belongs to another network: " + why + " (at byte " + std::to_string(at_) + ")",
              Error::Kind::failure);
}

void StateReader::raw(void* data, size_t size) {
  if (size > bytes_.size() - at_) corrupt("it ends early");
  if (size > 0) std::memcpy(data, bytes_.data() + at_, size);
  at_ += size;
}

void StateReader::expect(uint8_t kind) {
  uint8_t got = 0;
  raw(&got, 1);
  if (got != kind) corrupt(std::string("expected ") + kind_name(kind) + ", found " + kind_name(got));
}

uint64_t StateReader::u64() {
  expect(kU64);
  uint64_t v = 0;
  raw(&v, sizeof v);
  return v;
}

double StateReader::f64() {
  expect(kF64);
  double v = 0;
  raw(&v, sizeof v);
  return v;
}

void StateReader::floats(std::span<float> out) {
  expect(kFloats);
  uint64_t n = 0;
  raw(&n, sizeof n);
  if (n != out.size())
    corrupt("an array of " + std::to_string(n) + " values where this network has " + std::to_string(out.size()));
  raw(out.data(), out.size_bytes());
}

std::vector<double> StateReader::doubles() {
  expect(kDoubles);
  uint64_t n = 0;
  raw(&n, sizeof n);
  if (n > (bytes_.size() - at_) / sizeof(double)) corrupt("an array longer than the blob");
  std::vector<double> v(static_cast<size_t>(n));
  raw(v.data(), v.size() * sizeof(double));
  return v;
}

std::string StateReader::text() {
  expect(kText);
  uint64_t n = 0;
  raw(&n, sizeof n);
  if (n > bytes_.size() - at_) corrupt("a text longer than the blob");
  std::string s(static_cast<size_t>(n), '\0');
  raw(s.data(), s.size());
  return s;
}

void StateReader::finish() const {
  if (at_ != bytes_.size()) corrupt(std::to_string(bytes_.size() - at_) + " bytes left over");
}

}  // namespace nas::supernet
