include(GoogleTest)

# spofless_test(NAME name SOURCES a_test.cc ... LIBS lib... LABEL unit|integration|...)
# One GoogleTest binary; every TEST becomes a CTest test carrying LABEL.
function(spofless_test)
  cmake_parse_arguments(T "" "NAME;LABEL" "SOURCES;LIBS" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${T_NAME}
    PROPERTIES LABELS ${T_LABEL} TIMEOUT 300
    DISCOVERY_TIMEOUT 60)
  set_property(GLOBAL APPEND PROPERTY SPOFLESS_TESTS_${T_LABEL} ${T_NAME})
endfunction()

# The target `unit_tests` builds every test binary labelled unit and nothing else, for runs
# that need only those (CI's sanitizer step: `ctest -L unit` after building just this).
# Call once, after every spofless_test().
function(spofless_unit_tests_target)
  get_property(unit GLOBAL PROPERTY SPOFLESS_TESTS_unit)
  add_custom_target(unit_tests DEPENDS ${unit})
endfunction()
