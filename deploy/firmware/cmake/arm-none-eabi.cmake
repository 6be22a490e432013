# CMake toolchain file for mcunas firmware: Debian's arm-none-eabi-gcc (gcc-arm-none-eabi) with newlib-nano
# (libnewlib-arm-none-eabi), bare metal. Pick the core with -DMCUNAS_CORE=... (the target YAML's `core`):
#   cortex-m4f     -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16   (DSP path)
#   cortex-m7      -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16      (DSP path)
#   cortex-m3      -mcpu=cortex-m3 -mthumb                                      (portable path)
#   cortex-m0plus  -mcpu=cortex-m0plus -mthumb                                  (portable path, no DSP)
# The same flags as deploy/firmware_image.cpp gives `nas deploy`.
#   cmake -S deploy/firmware -B build-m4 -DCMAKE_TOOLCHAIN_FILE=deploy/firmware/cmake/arm-none-eabi.cmake \
#         -DMCUNAS_CORE=cortex-m4f -DMCUNAS_MODEL_DIR=<nas export --out DIR>
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy)
set(CMAKE_SIZE arm-none-eabi-size)
# Bare metal: the compiler test must not try to link a hosted program.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(MCUNAS_CORE "cortex-m4f" CACHE STRING "Cortex-M core: cortex-m4f, cortex-m7, cortex-m3 or cortex-m0plus")
set_property(CACHE MCUNAS_CORE PROPERTY STRINGS cortex-m4f cortex-m7 cortex-m3 cortex-m0plus)
if(MCUNAS_CORE STREQUAL "cortex-m4f")
  set(mcunas_core_flags "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
elseif(MCUNAS_CORE STREQUAL "cortex-m7")
  set(mcunas_core_flags "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16")
elseif(MCUNAS_CORE STREQUAL "cortex-m3")
  set(mcunas_core_flags "-mcpu=cortex-m3 -mthumb")
elseif(MCUNAS_CORE STREQUAL "cortex-m0plus")
  set(mcunas_core_flags "-mcpu=cortex-m0plus -mthumb")
else()
  message(FATAL_ERROR "MCUNAS_CORE=${MCUNAS_CORE} is not known (cortex-m4f, cortex-m7, cortex-m3, cortex-m0plus)")
endif()
set(CMAKE_C_FLAGS_INIT "${mcunas_core_flags} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${mcunas_core_flags} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -nostartfiles -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
