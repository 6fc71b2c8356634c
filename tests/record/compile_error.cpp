// Not C++ the compiler accepts: a missing semicolon.
#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref()
    (void)x;
}
