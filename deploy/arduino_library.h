// The generated C as an Arduino library (library specification 1.5) for the Arduino Nano 33 BLE (Sense), the mbed
// cores: library.properties; src/ with model.h, model.c, every kernel file (flat: Arduino puts only src/ itself
// on the include path, and the kernels include each other by plain names) and <Name>.h, the header a sketch
// includes; examples/<Name>/<Name>.ino, which runs one embedded test image and prints the class and the time. The
// folder is written as <out>/<Name>/ and zipped as <out>/<Name>.zip for Sketch → Include Library → Add .ZIP Library
// (folder_package.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deploy/codegen.h"
#include "deploy/folder_package.h"
#include "deploy/int8_model.h"
#include "supernet/dataset.h"

namespace nas::deploy {

// The test image the example sketch runs, already quantised to the model's int8 input.
struct ArduinoExample {
  int32_t test_index = 0;     // which image of the test set
  std::vector<int8_t> input;  // MCUNAS_INPUT_SIZE values, NHWC
  int32_t label = 0;          // its true class
  int32_t host_class = 0;     // the class the int8 model gives it on the host (Int8Executor)
};

struct ArduinoLibrarySpec {
  std::string name;    // passes check_library_name
  std::string origin;  // where the model came from, e.g. "run 12 of mcunas.db"
  ArduinoExample example;
};

// "mcunas_run12"
std::string default_library_name(int64_t run_id);

// Refuses (nas::Error "--name", bad_input) a name that is not letters, digits and underscores starting with a letter,
// that is longer than 63 characters (the specification's limit), or that would name the main header like another
// file of src/ (model.h, a kernel header; compared without case, as macOS and Windows file systems do).
void check_library_name(const std::string& name);

// Test image `index` of `test`, quantised, with its label and the host's int8 prediction. Throws nas::Error
// (failure) when the test set has no such image.
ArduinoExample arduino_example(const Int8Model& model, const supernet::Dataset& test, int32_t index);

// Every file of the library, paths relative to its folder, sorted; the same inputs give the same bytes. nas export
// writes them with write_folder_and_zip (folder_package.h) under the library's name.
std::vector<PackageFile> arduino_library_files(const Int8Model& model, const GeneratedC& code,
                                               const ArduinoLibrarySpec& spec);

}  // namespace nas::deploy
