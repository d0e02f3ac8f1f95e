# Helpers that define a layer's library, its tests and its benchmarks from the conventional folders.
#
# A layer NAME keeps its public headers in src/NAME/include/fhenn/NAME/ and its sources in src/NAME/.
# Only that include root is exported, so a layer sees exactly the headers of the layers it links:
# the dependency direction of docs/architecture is enforced by the build.
# Torch-free layers also get a folder of poison headers ahead of the system ones, so that including
# LibTorch (torch/, ATen/, c10/) from them fails to compile with a message.

set(FHENN_POISON_DIR ${CMAKE_SOURCE_DIR}/cmake/poison)

function(fhenn_add_layer name)
  cmake_parse_arguments(ARG "TORCH" "" "DEPS;EXTERNAL" ${ARGN})
  set(dir ${CMAKE_SOURCE_DIR}/src/${name})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  set(target fhenn_${name})
  if(NOT sources)  # a header-only layer
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${dir}/include)
    target_link_libraries(${target} INTERFACE ${ARG_DEPS} ${ARG_EXTERNAL})
    return()
  endif()
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC ${dir}/include)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} ${ARG_EXTERNAL} PRIVATE fhenn_build_flags)
  if(NOT ARG_TORCH)
    target_include_directories(${target} BEFORE PRIVATE ${FHENN_POISON_DIR})
  endif()
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# One GoogleTest executable per layer from tests/NAME/*.cpp. Long tests call
# FHENN_SKIP_UNLESS_LONG_TESTS() (tests/test_support.hpp) and run only with FHENN_LONG_TESTS=1.
function(fhenn_add_layer_tests name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${name}/*.cpp)
  if(NOT sources)
    return()
  endif()
  set(target fhenn_tests_${name})
  add_executable(${target} ${sources})
  target_link_libraries(${target} PRIVATE fhenn_${name} ${ARG_DEPS} GTest::gtest GTest::gtest_main fhenn_build_flags)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  gtest_discover_tests(${target} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 120
    PROPERTIES LABELS ${name} ENVIRONMENT "FHENN_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# One Google Benchmark executable per layer from bench/NAME/*.cpp.
function(fhenn_add_layer_bench name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bench/${name}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(fhenn_bench_${name} ${sources})
  target_link_libraries(fhenn_bench_${name} PRIVATE fhenn_${name} ${ARG_DEPS} benchmark::benchmark fhenn_build_flags)
endfunction()
