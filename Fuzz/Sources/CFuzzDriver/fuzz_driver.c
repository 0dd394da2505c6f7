#include <stddef.h>
#include <stdint.h>
#include "fuzz_driver.h"

// Both defined elsewhere: libFuzzer's driver (libclang_rt.fuzzer) and the Swift harness.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
extern int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int snap_fuzz_run(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
