// Sanitizer defaults built into every harness, so running a harness binary by hand behaves as
// fuzz/run does; ASAN_OPTIONS / UBSAN_OPTIONS in the environment still override them.
extern "C" const char* __ubsan_default_options() {
    return "halt_on_error=1:print_stacktrace=1:suppressions=" BERTH_UBSAN_SUPPRESSIONS;
}

extern "C" const char* __asan_default_options() {
    return "detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1";
}
