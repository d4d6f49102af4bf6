# Writes OUTPUT (build_info.cpp) from TEMPLATE with VERSION and the git commit of SOURCE_DIR.
# Run in script mode (cmake -P) by the berth_build_info target at every build; configure_file
# leaves OUTPUT untouched when its text would not change, so nothing recompiles then.
execute_process(
  COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
  OUTPUT_VARIABLE BERTH_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE failed)
if(failed OR NOT BERTH_COMMIT MATCHES "^[0-9a-f]+$")
  set(BERTH_COMMIT unknown)  # not a git checkout (a source tarball), or no git
endif()
set(BERTH_VERSION "${VERSION}")
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
