// A submit to a func_id that no kernel of the signature has.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &acc = args.tensor(1).ref();
    CoreTaskArgs c;
    c.add_inout(acc);
    rt_submit_aic_task(7, c);
}
