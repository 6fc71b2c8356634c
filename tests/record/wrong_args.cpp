// A submit whose arguments do not match the kernel's signature: CONSUME takes its
// accumulator as inout, and this adds it as an input.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &acc = args.tensor(1).ref();
    CoreTaskArgs c;
    c.add_input(acc);
    c.add_input(acc);
    rt_submit_aiv_task(1, c);
}
