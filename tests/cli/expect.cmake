# Runs BIN with ARGS (and INPUT on stdin), then checks the exit code is EXIT and, when
# MATCH is given, that stdout+stderr match that regular expression.
set(input_args)
if(INPUT)
  set(input_args INPUT_FILE ${INPUT})
endif()
execute_process(COMMAND ${BIN} ${ARGS} ${input_args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
if(NOT "${rc}" STREQUAL "${EXIT}")
  message(FATAL_ERROR "exit ${rc}, expected ${EXIT}\n--- stdout:\n${out}\n--- stderr:\n${err}")
endif()
if(MATCH AND NOT "${out}${err}" MATCHES "${MATCH}")
  message(FATAL_ERROR "output does not match '${MATCH}'\n--- stdout:\n${out}\n--- stderr:\n${err}")
endif()
