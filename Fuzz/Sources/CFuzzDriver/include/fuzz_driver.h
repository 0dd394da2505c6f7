#ifndef SNAP_FUZZ_DRIVER_H
#define SNAP_FUZZ_DRIVER_H

/// Runs libFuzzer's driver (flags, corpora, the fuzzing loop) over LLVMFuzzerTestOneInput.
/// SwiftPM links an executable's entry point as `<Module>_main`, so libFuzzer's own `main`
/// is never linked in: the harness calls this from there instead.
int snap_fuzz_run(int argc, char **argv);

#endif
