# In the test configuration: one test per fuzz target (fuzz_<name>), running the target of
# build-fuzz/ for a bounded time from its corpus (tests/fuzz/run.sh). scripts/test.sh builds
# build-fuzz/ first; CHARTPULSE_FUZZ_DIR points elsewhere.
include(${CMAKE_CURRENT_LIST_DIR}/targets.cmake)
foreach(spec IN LISTS CP_FUZZ_TARGETS)
    string(REPLACE "|" ";" fields "${spec}")
    list(GET fields 0 name)
    add_test(NAME fuzz_${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh ${name})
    set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 300
        ENVIRONMENT "CHARTPULSE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()
