// A runtime call that the recording API does not provide.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    CoreTaskArgs c;
    c.add_inout(args.tensor(1).ref());
    rt_submit_aiv_task_deferred(1, c);
}
