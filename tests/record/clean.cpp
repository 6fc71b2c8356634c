// A clean orchestration: in the manual scope every consumer names its producer and the
// previous update of the accumulator.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" {

PTO2OrchestrationConfig aicpu_orchestration_config(const ChipTaskArgs &) { return {2}; }

void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    const ChipTensor &acc = args.tensor(1).ref();
    const uint32_t n = acc.shapes[0];
    const uint32_t tiles = x.shapes[0] / n;
    uint32_t shape[1] = {n};
    TensorCreateInfo y_info(shape, 1, DataType::FLOAT32);
    PTO2_SCOPE(PTO2ScopeMode::MANUAL) {
        PTO2TaskId prev = PTO2TaskId::invalid();
        for (uint32_t i = 0; i < tiles; ++i) {
            uint32_t offset[1] = {i * n};
            ChipTensor xi = x.view(shape, offset);
            CoreTaskArgs p;
            p.add_input(xi);
            p.add_output(y_info);
            TaskOutputTensors produced = rt_submit_aiv_task(0, p);
            CoreTaskArgs c;
            c.add_input(produced.get_ref(0));
            c.add_inout(acc);
            PTO2TaskId deps[2] = {produced.task_id(), prev};
            c.set_dependencies(deps, 2);
            prev = rt_submit_aiv_task(1, c).task_id();
        }
    }
}

}  // extern "C"
