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
endfunction()
