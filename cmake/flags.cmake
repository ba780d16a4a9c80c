# Compiler flags shared by every target of the project.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
                    -Wcast-align -Wimplicit-fallthrough)
# Not -Wnull-dereference: at -O2 g++ 12 reports false positives inside libstdc++ as inlined
# into CLI11 and Asio.
if(SPOFLESS_WERROR)
  add_compile_options(-Werror)
endif()
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED)

if(SPOFLESS_SANITIZE)
  add_compile_options(-fsanitize=${SPOFLESS_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SPOFLESS_SANITIZE})
endif()

# Includes are rooted at src/: #include "topology/model.h".
include_directories(${PROJECT_SOURCE_DIR}/src)

# g++ 12 with optimization on (-O1 in the sanitizer presets, -O2 in release) reports
# maybe-uninitialized for values inside std::optional and std::variant that are initialized,
# e.g. a std::variant holding a std::string moved into a vector (GCC bug 80635 and its
# relatives). The definite -Wuninitialized stays on, and clang's builds keep their own checks.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wno-maybe-uninitialized)
endif()

# clang 14 cannot emit UBSan's function-type check for C++20 coroutines ("Cannot represent a
# difference across sections", llvm/llvm-project#49689); src/io's servers are coroutines.
if(SPOFLESS_SANITIZE MATCHES "undefined" AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_options(-fno-sanitize=function)
endif()
