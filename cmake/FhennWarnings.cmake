# Compiler warnings (errors for our own code), sanitizers and the assertion switch, as one interface target.
add_library(fhenn_build_flags INTERFACE)
target_compile_options(fhenn_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wno-error=deprecated-declarations)
if(FHENN_ENABLE_ASSERTS)
  target_compile_definitions(fhenn_build_flags INTERFACE FHENN_ENABLE_ASSERTS=1)
endif()
if(FHENN_SANITIZE)
  target_compile_options(fhenn_build_flags INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(fhenn_build_flags INTERFACE -fsanitize=address,undefined)
endif()
