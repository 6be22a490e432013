// The Arduino library of nas export --format arduino (deploy/arduino_library.h) on a tiny hand-built model: the
// files of the 1.5 layout and nothing else, library.properties field by field, the main header's C linkage, the
// example sketch's embedded image and calls, the example image against the host executor, and library names.
// Writing the folder and zip is folder_package_test.cpp's; compiling it for the board, the integration test's
// (tests/integration/arduino_library_test.sh).
#include "deploy/arduino_library.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "cost_models/arena_plan.h"
#include "deploy/int8_executor.h"
#include "tests/common/test_support.h"

namespace nas::deploy {
namespace {

using test_support::contains;
using test_support::error_of;

// input 2x2x1 → fully connected → 3 logits: the smallest model generate_c takes, with arbitrary fixed parameters.
Int8Model tiny_model() {
  Int8Model m;
  m.tensors = {{"input", 2, 2, 1, {1.0 / 64, -3}}, {"head.fc", 1, 1, 3, {0.125, 7}}};
  m.input = 0;
  m.output = 1;
  Int8Op fc;
  fc.kind = Int8OpKind::fully_connected;
  fc.name = "head.fc";
  fc.inputs = {0};
  fc.output = 1;
  fc.weights = {12, -7, 100, -128, 5, 60, -90, 33, -1, 0, 77, -40};
  fc.bias = {300, -1200, 45};
  fc.multiplier = {1 << 30, 1 << 30, 1 << 30};
  fc.shift = {-3, -3, -3};
  m.ops.push_back(fc);
  return m;
}

supernet::Dataset tiny_test_set() {
  supernet::Dataset d;
  d.count = 3;
  d.height = d.width = 2;
  d.channels = 1;
  d.num_classes = 3;
  d.images = {0.5f, -0.25f, 1.0f, 0.0f, -1.0f, 0.75f, 0.1f, 0.3f, 0.9f, 0.9f, -0.6f, 0.2f};
  d.labels = {2, 0, 1};
  return d;
}

struct Library {
  Int8Model model = tiny_model();
  GeneratedC code = generate_c(model, cost_models::plan_arena(op_graph(model)), "run 7 of runs.db");
  ArduinoLibrarySpec spec{"TinyNet", "run 7 of runs.db", arduino_example(model, tiny_test_set(), 1)};
  std::vector<PackageFile> files = arduino_library_files(model, code, spec);

  const std::string& text(const std::string& path) const {
    for (const auto& f : files)
      if (f.path == path) return f.text;
    throw std::runtime_error("no file " + path);
  }
};

TEST(ArduinoLibrary, HasTheSpecificationLayoutAndEveryKernelFlatInSrc) {
  const Library lib;
  std::set<std::string> expected = {"library.properties", "src/TinyNet.h", "src/model.h", "src/model.c",
                                    "examples/TinyNet/TinyNet.ino"};
  for (const auto& kernel : kernel_sources()) {
    expected.insert("src/" + kernel.name);
    EXPECT_EQ(lib.text("src/" + kernel.name), kernel.text) << kernel.name;
  }
  std::vector<std::string> paths;
  for (const auto& f : lib.files) paths.push_back(f.path);
  EXPECT_EQ(std::set<std::string>(paths.begin(), paths.end()), expected);
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));
  EXPECT_EQ(lib.text("src/model.h"), lib.code.header);
  EXPECT_EQ(lib.text("src/model.c"), lib.code.source);
  EXPECT_GE(kernel_sources().size(), 5u);  // the kernels really were found
}

TEST(ArduinoLibrary, PropertiesNameTheRunAndTheMbedCores) {
  const Library lib;
  std::map<std::string, std::string> fields;
  std::istringstream lines(lib.text("library.properties"));
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << "not key=value: " << line;
    EXPECT_TRUE(fields.emplace(line.substr(0, eq), line.substr(eq + 1)).second) << "twice: " << line;
  }
  EXPECT_EQ(fields["name"], "TinyNet");
  EXPECT_EQ(fields["version"], "1.0.0");
  EXPECT_EQ(fields["author"], "mcunas");
  EXPECT_EQ(fields["maintainer"], "mcunas");
  EXPECT_EQ(fields["category"], "Data Processing");
  EXPECT_EQ(fields["architectures"], "mbed,mbed_nano");
  EXPECT_EQ(fields["includes"], "TinyNet.h");
  EXPECT_TRUE(fields.count("url"));  // required by the specification, empty: mcunas has no public page
  EXPECT_TRUE(contains(fields["sentence"], "run 7 of runs.db")) << fields["sentence"];
  EXPECT_TRUE(contains(fields["paragraph"], "run 7 of runs.db")) << fields["paragraph"];
  EXPECT_TRUE(contains(fields["paragraph"], "2x2x1")) << fields["paragraph"];
  EXPECT_TRUE(contains(fields["paragraph"], std::to_string(lib.code.arena_bytes) + " bytes")) << fields["paragraph"];
}

// A newline in the origin (a database path may hold one) must not start a new property or escape a C comment.
TEST(ArduinoLibrary, OriginStaysOnOneLineAndInsideComments) {
  Library lib;
  lib.spec.origin = "run 7 of evil\nname=Other */ int x; /*.db";
  lib.files = arduino_library_files(lib.model, lib.code, lib.spec);
  std::istringstream lines(lib.text("library.properties"));
  int names = 0;
  for (std::string line; std::getline(lines, line);) names += line.rfind("name=", 0) == 0;
  EXPECT_EQ(names, 1);
  EXPECT_FALSE(contains(lib.text("src/TinyNet.h"), "*/ int x;"));
  EXPECT_FALSE(contains(lib.text("examples/TinyNet/TinyNet.ino"), "*/ int x;"));
}

TEST(ArduinoLibrary, MainHeaderGivesCppSketchesCLinkage) {
  const std::string h = Library().text("src/TinyNet.h");
  const size_t linkage = h.find("extern \"C\" {"), include = h.find("#include \"model.h\""), close = h.rfind('}');
  ASSERT_NE(linkage, std::string::npos) << h;
  ASSERT_NE(include, std::string::npos) << h;
  EXPECT_LT(linkage, include);
  EXPECT_LT(include, close);
  EXPECT_LT(h.find("#include <stdint.h>"), linkage);  // the toolchain's header outside the C block
  EXPECT_TRUE(contains(h, "#ifndef MCUNAS_LIBRARY_TINYNET_H")) << h;
}

TEST(ArduinoLibrary, ExampleEmbedsTheQuantisedImageAndTimesOneInference) {
  const Library lib;
  const std::string ino = lib.text("examples/TinyNet/TinyNet.ino");
  // Image 1 of the test set: (x / (1/64)) − 3, rounded and clamped.
  EXPECT_EQ(lib.spec.example.input, (std::vector<int8_t>{-67, 45, 3, 16}));
  EXPECT_TRUE(contains(ino, "static const int8_t test_image[4] = {\n    -67, 45, 3, 16\n};")) << ino;
  EXPECT_TRUE(contains(ino, "static const int expected_class = 0;")) << ino;
  EXPECT_TRUE(contains(ino, "static const int host_class = " + std::to_string(lib.spec.example.host_class) + ";"));
  for (const char* piece : {"#include <Arduino.h>", "#include <TinyNet.h>", "Serial.begin(115200);",
                            "millis() - start_ms < 3000", "micros()", "mcunas_invoke(test_image, logits);",
                            "delay(2000);", "void setup()", "void loop()"})
    EXPECT_TRUE(contains(ino, piece)) << "the sketch lacks " << piece << "\n" << ino;
}

TEST(ArduinoLibrary, ExampleClassIsTheHostExecutors) {
  const Int8Model model = tiny_model();
  const auto test = tiny_test_set();
  for (int32_t index = 0; index < test.count; ++index) {
    const ArduinoExample e = arduino_example(model, test, index);
    Int8Executor executor(model);
    std::copy(e.input.begin(), e.input.end(), executor.input().begin());
    executor.invoke();
    EXPECT_EQ(e.host_class, argmax(executor.output())) << index;
    EXPECT_EQ(e.label, test.labels[static_cast<size_t>(index)]);
    EXPECT_EQ(e.test_index, index);
  }
  const std::string missing = error_of([&] { arduino_example(model, test, 3); });
  EXPECT_TRUE(contains(missing, "no test image 3")) << missing;
}

TEST(ArduinoLibrary, SameInputsGiveTheSameFiles) {
  const Library first, second;
  ASSERT_EQ(first.files.size(), second.files.size());
  for (size_t i = 0; i < first.files.size(); ++i) EXPECT_EQ(first.files[i].text, second.files[i].text);
}

TEST(ArduinoLibraryName, DefaultNamesTheRun) {
  EXPECT_EQ(default_library_name(12), "mcunas_run12");
  EXPECT_EQ(error_of([] { check_library_name(default_library_name(12)); }), "");
}

TEST(ArduinoLibraryName, AcceptsLettersDigitsAndUnderscores) {
  for (const std::string& name : std::vector<std::string>{"TinyNet", "net_v2", "a", std::string(63, 'x')})
    EXPECT_EQ(error_of([&] { check_library_name(name); }), "") << name;
}

TEST(ArduinoLibraryName, RefusesOtherNamesAsBadInputOnOneLine) {
  for (const std::string& name : std::vector<std::string>{"", "2net", "_net", "my-net", "my net", "net.v2",
                                                         "n\xc3\xa4me", "a\nb", std::string(64, 'x')}) {
    try {
      check_library_name(name);
      ADD_FAILURE() << "'" << name << "' was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::bad_input);
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("--name: ", 0), 0u) << what;
      EXPECT_TRUE(contains(what, "letters, digits and underscores")) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

// <Name>.h beside model.h or a kernel header of the same name (on a case-insensitive file system too) would
// replace it.
TEST(ArduinoLibraryName, RefusesTheNameOfAnotherFileInSrc) {
  for (const std::string name : {"model", "MODEL", "mcunas_kernels", "Requantize"}) {
    const std::string what = error_of([&] { check_library_name(name); });
    EXPECT_TRUE(contains(what, "--name: '" + name + "' would name the library's header like")) << what;
  }
}

}  // namespace
}  // namespace nas::deploy
