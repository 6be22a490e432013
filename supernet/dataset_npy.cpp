// NumPy .npy reader. The format (numpy.lib.format, NEP 1): the magic "\x93NUMPY", a version byte pair, a
// little-endian header length (uint16 in 1.0, uint32 in 2.0/3.0), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), } padded with spaces, then the raw array.
// We parse that literal ourselves: it is a tiny, fixed grammar, and pulling in a Python-literal library for it
// would cost more than it saves.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "common/error.h"
#include "common/file_bytes.h"
#include "supernet/dataset.h"

namespace nas::supernet {
namespace {

// The values a .npy header dict holds: strings ('descr'), booleans ('fortran_order'), int tuples ('shape').
using HeaderValue = std::variant<std::string, bool, std::vector<int64_t>>;

// Recursive-descent parser over the header text; every failure names the offending position.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string where) : text_(text), where_(std::move(where)) {}

  std::map<std::string, HeaderValue> parse_dict() {
    std::map<std::string, HeaderValue> dict;
    expect('{');
    while (!try_consume('}')) {
      const std::string key = parse_string();
      expect(':');
      dict[key] = parse_value();
      if (!try_consume(',')) {
        expect('}');
        break;
      }
    }
    return dict;
  }

 private:
  HeaderValue parse_value() {
    skip_space();
    if (at('\'') || at('"')) return parse_string();
    if (at('(')) return parse_tuple();
    if (try_word("True")) return true;
    if (try_word("False")) return false;
    fail("unexpected value");
  }

  std::string parse_string() {
    skip_space();
    if (!at('\'') && !at('"')) fail("expected a quoted string");
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }

  // (), (5,) and (5, 28, 28) are all legal; Python 2 era files may write 5L for a long.
  std::vector<int64_t> parse_tuple() {
    expect('(');
    std::vector<int64_t> values;
    while (!try_consume(')')) {
      skip_space();
      const size_t start = pos_;
      int64_t value = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        const int digit = text_[pos_++] - '0';
        if (value > (INT64_MAX - digit) / 10) fail("shape dimension too large");
        value = value * 10 + digit;
      }
      if (pos_ == start) fail("expected a non-negative integer in 'shape'");
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
      values.push_back(value);
      if (!try_consume(',')) {
        expect(')');
        break;
      }
    }
    return values;
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool try_consume(char c) {
    skip_space();
    if (!at(c)) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!try_consume(c)) fail(std::string("expected '") + c + "'");
  }
  bool try_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(where_, "malformed .npy header: " + what + " at offset " + std::to_string(pos_) + " in \"" +
                            one_line(text_) + "\"");
  }
  // The header as it can stand in a one-line error: its padding (spaces, the final newline) dropped and any other
  // control byte written as \xNN.
  static std::string one_line(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
    std::string out;
    for (const char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x20 && byte != 0x7f) {
        out += c;
      } else {
        static const char* kHex = "0123456789abcdef";
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xf];
      }
    }
    return out;
  }

  std::string_view text_;
  std::string where_;
  size_t pos_ = 0;
};

// A parsed 'descr' such as '<f4': byte order, kind (i, u, f, ...) and item size in bytes.
struct Dtype {
  std::string descr;
  char kind = 0;
  int32_t size = 0;
};

struct NpyArray {
  Dtype dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // exactly prod(shape) * dtype.size bytes, C order
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}


// Little-endian unsigned integer of `width` bytes at `p`; .npy headers and our accepted dtypes are all LE.
uint64_t read_le(const uint8_t* p, int32_t width) {
  uint64_t value = 0;
  for (int32_t i = width - 1; i >= 0; --i) value = value << 8 | p[i];
  return value;
}

Dtype parse_dtype(const std::string& descr, const std::string& where) {
  // Simple dtypes only: byte order ('<' little, '>' big, '|' not applicable, '=' native), kind, size.
  if (descr.size() < 3 || !std::strchr("<>|=", descr[0]) || !std::isdigit(static_cast<unsigned char>(descr[2]))) {
    throw Error(where, "unsupported dtype '" + descr + "' (structured and string dtypes cannot be images or labels)");
  }
  Dtype dtype{descr, descr[1], std::atoi(descr.c_str() + 2)};
  // '=' means the writer's native order, which is not recorded; NumPy itself never writes it, so we refuse it.
  if (dtype.size > 1 && descr[0] != '<') {
    throw Error(where, "unsupported byte order in dtype '" + descr +
                           "': only little-endian is read (save with arr.astype(arr.dtype.newbyteorder('<')))");
  }
  return dtype;
}

template <typename T>
const T& header_field(const std::map<std::string, HeaderValue>& dict, const char* key, const char* type_name,
                      const std::string& where) {
  const auto it = dict.find(key);
  if (it == dict.end()) throw Error(where, std::string("malformed .npy header: no '") + key + "' key");
  if (!std::holds_alternative<T>(it->second)) {
    throw Error(where, std::string("malformed .npy header: '") + key + "' is not " + type_name);
  }
  return std::get<T>(it->second);
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::vector<uint8_t> bytes = read_file_bytes(path, "a .npy file");
  static constexpr char kMagic[] = "\x93NUMPY";
  constexpr size_t kMagicSize = sizeof kMagic - 1;
  if (bytes.size() < kMagicSize + 2 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0) {
    throw Error(where, "not a .npy file: missing the \\x93NUMPY magic (write it with numpy.save)");
  }
  const int32_t major = bytes[kMagicSize];
  if (major < 1 || major > 3) {
    throw Error(where, "unsupported .npy format version " + std::to_string(major) + "." +
                           std::to_string(bytes[kMagicSize + 1]) + " (expected 1.0, 2.0 or 3.0)");
  }
  const int32_t length_width = major == 1 ? 2 : 4;
  const size_t header_start = kMagicSize + 2 + static_cast<size_t>(length_width);
  if (bytes.size() < header_start) throw Error(where, "truncated: the file ends inside the .npy preamble");
  const uint64_t header_length = read_le(bytes.data() + kMagicSize + 2, length_width);
  if (bytes.size() - header_start < header_length) {
    throw Error(where, "truncated: header length " + std::to_string(header_length) + " bytes, file has " +
                           std::to_string(bytes.size() - header_start) + " after the preamble");
  }
  const std::string_view header_text(reinterpret_cast<const char*>(bytes.data() + header_start), header_length);
  const auto dict = HeaderParser(header_text, where).parse_dict();

  NpyArray array;
  array.dtype = parse_dtype(header_field<std::string>(dict, "descr", "a string", where), where);
  if (header_field<bool>(dict, "fortran_order", "True or False", where)) {
    throw Error(where, "fortran_order is True: save a C-ordered array (np.save(f, np.ascontiguousarray(arr)))");
  }
  array.shape = header_field<std::vector<int64_t>>(dict, "shape", "a tuple", where);

  // Saturating product, so that a corrupt shape reads as truncated rather than wrapping round.
  uint64_t promised = static_cast<uint64_t>(array.dtype.size);
  for (const int64_t d : array.shape) {
    const auto dim = static_cast<uint64_t>(d);
    promised = dim != 0 && promised > UINT64_MAX / dim ? UINT64_MAX : promised * dim;
  }
  const size_t data_start = header_start + header_length;
  const uint64_t present = bytes.size() - data_start;
  if (present != promised) {
    throw Error(where, std::string(present < promised ? "truncated" : "trailing data") + ": shape " +
                           shape_text(array.shape) + " of '" + array.dtype.descr + "' needs " +
                           std::to_string(promised) + " data bytes, file has " + std::to_string(present));
  }
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(data_start));
  array.data = std::move(bytes);
  return array;
}

void set_image_shape(Dataset& data, const NpyArray& array, const std::string& where) {
  const auto& s = array.shape;
  if (s.size() != 3 && s.size() != 4) {
    throw Error(where, "image array has shape " + shape_text(s) + ", expected (N, H, W, C) or (N, H, W)");
  }
  for (const int64_t d : s) {
    if (d <= 0 || d > INT32_MAX) {
      throw Error(where, "image array has shape " + shape_text(s) + ", a zero or huge dimension");
    }
  }
  data.count = static_cast<int32_t>(s[0]);
  data.height = static_cast<int32_t>(s[1]);
  data.width = static_cast<int32_t>(s[2]);
  data.channels = s.size() == 4 ? static_cast<int32_t>(s[3]) : 1;
}

void convert_images(Dataset& data, const NpyArray& array, const std::string& where) {
  const std::string& descr = array.dtype.descr;
  data.images.resize(array.data.size() / static_cast<size_t>(array.dtype.size));
  if (array.dtype.kind == 'u' && array.dtype.size == 1) {
    std::transform(array.data.begin(), array.data.end(), data.images.begin(),
                   [](uint8_t p) { return static_cast<float>(p) / 255.0f; });
    return;
  }
  if (array.dtype.kind == 'f' && array.dtype.size == 4) {
    std::memcpy(data.images.data(), array.data.data(), array.data.size());  // '<f4' is the host's float on x86/Arm
    // One NaN in the input poisons every loss afterwards, far from the cause; catch it here instead.
    const auto bad = std::find_if(data.images.begin(), data.images.end(), [](float v) { return !std::isfinite(v); });
    if (bad != data.images.end()) {
      const auto index = bad - data.images.begin();
      throw Error(where, "non-finite pixel value in item " + std::to_string(index / data.item_size()));
    }
    return;
  }
  const std::string hint = array.dtype.kind == 'f' && array.dtype.size == 8
                               ? "; NumPy defaults to float64, convert with images.astype(np.float32)"
                               : "";
  throw Error(where, "unsupported image dtype '" + descr + "' (expected '|u1' uint8 or '<f4' float32" + hint + ")");
}

void convert_labels(Dataset& data, const NpyArray& array, const std::string& where) {
  const Dtype& dtype = array.dtype;
  const bool integer = (dtype.kind == 'i' || dtype.kind == 'u') &&
                       (dtype.size == 1 || dtype.size == 2 || dtype.size == 4 || dtype.size == 8);
  if (!integer) {
    throw Error(where,
                "unsupported label dtype '" + dtype.descr + "' (expected a little-endian integer such as '<i8')");
  }
  if (array.shape.size() != 1) {
    throw Error(where, "label array has shape " + shape_text(array.shape) + ", expected (N,)");
  }
  const auto too_large = [&](size_t i, const std::string& value) {
    throw Error(where, "label too large at index " + std::to_string(i) + " (got " + value + ")");
  };
  data.labels.resize(array.data.size() / static_cast<size_t>(dtype.size));
  for (size_t i = 0; i < data.labels.size(); ++i) {
    const uint64_t raw = read_le(array.data.data() + i * static_cast<size_t>(dtype.size), dtype.size);
    // Labels become int32 and num_classes = max + 1 must fit too, hence the INT32_MAX - 1 ceiling.
    if (dtype.kind == 'u' && raw > INT32_MAX - 1) too_large(i, std::to_string(raw));
    int64_t value = static_cast<int64_t>(raw);
    if (dtype.kind == 'i') {
      const int shift = 64 - 8 * dtype.size;  // sign-extend the narrow type
      value = static_cast<int64_t>(raw << shift) >> shift;
      if (value < 0) throw Error(where, "negative label " + std::to_string(value) + " at index " + std::to_string(i));
      if (value > INT32_MAX - 1) too_large(i, std::to_string(value));
    }
    data.labels[i] = static_cast<int32_t>(value);
  }
}

}  // namespace

Dataset load_npy(const std::filesystem::path& images, const std::filesystem::path& labels) {
  const NpyArray image_array = read_npy(images);
  Dataset data;
  set_image_shape(data, image_array, images.string());
  convert_images(data, image_array, images.string());

  const NpyArray label_array = read_npy(labels);
  convert_labels(data, label_array, labels.string());
  if (static_cast<int64_t>(data.labels.size()) != data.count) {
    throw Error(labels.string(), "count mismatch: " + std::to_string(data.labels.size()) + " labels but " +
                                     images.string() + " has " + std::to_string(data.count) + " images");
  }
  data.num_classes = *std::max_element(data.labels.begin(), data.labels.end()) + 1;
  return data;
}

}  // namespace nas::supernet
