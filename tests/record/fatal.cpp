// The orchestration reports a fatal error: nothing after it runs.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    if (args.tensor(0).ref().shapes[0] % 16 != 0) {
        rt_report_fatal(PTO2_ERROR_INVALID_ARGS, "x has %u rows, not a multiple of 16",
                        args.tensor(0).ref().shapes[0]);
        return;
    }
}
