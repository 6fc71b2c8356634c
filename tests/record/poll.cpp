// The orchestration waits until the task it submitted has written two flags into acc, by
// invalidating acc's first and second elements in turn and reading them, again and again.
// A recording runs no kernel, so the flags never come: the run stops at the first range's
// second invalidation (E810).
#include <cstdint>

#include "aicpu/cache_maintenance.h"
#include "pto_orchestration_api.h"

extern "C" {

PTO2OrchestrationConfig aicpu_orchestration_config(const ChipTaskArgs &) { return {2}; }

void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    const ChipTensor &acc = args.tensor(1).ref();
    uint32_t shape[1] = {acc.shapes[0]};
    uint32_t first[1] = {0};
    TensorCreateInfo y_info(shape, 1, DataType::FLOAT32);
    CoreTaskArgs p;
    p.add_input(x.view(shape, first));
    p.add_output(y_info);
    TaskOutputTensors produced = rt_submit_aiv_task(0, p);
    CoreTaskArgs c;
    c.add_input(produced.get_ref(0));
    c.add_inout(acc);
    rt_submit_aiv_task(1, c);
    volatile float *flag = acc.data_as<float>();
    while (!rt_is_fatal()) {
        cache_invalidate_range(const_cast<float *>(flag), sizeof(float));
        cache_invalidate_range(const_cast<float *>(flag + 1), sizeof(float));
        if (flag[0] == 1.0F && flag[1] == 1.0F) break;
        SPIN_WAIT_HINT();
    }
}

}  // extern "C"
