// A TensorMap edge relied on across a manual boundary: the update in the manual scope is
// invisible to the TensorMap, so the AUTO reader after the scope is not ordered after it.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    const ChipTensor &acc = args.tensor(1).ref();
    uint32_t shape[1] = {acc.shapes[0]};
    uint32_t offset[1] = {0};
    ChipTensor x0 = x.view(shape, offset);
    TensorCreateInfo y_info(shape, 1, DataType::FLOAT32);
    PTO2_SCOPE() {
        PTO2_SCOPE(PTO2ScopeMode::MANUAL) {
            CoreTaskArgs p;
            p.add_input(x0);
            p.add_output(y_info);
            TaskOutputTensors produced = rt_submit_aiv_task(0, p);
            CoreTaskArgs c;
            c.add_input(produced.get_ref(0));
            c.add_inout(acc);
            PTO2TaskId deps[1] = {produced.task_id()};
            c.set_dependencies(deps, 1);
            rt_submit_aiv_task(1, c);
        }
        CoreTaskArgs r;
        r.add_input(acc);
        r.add_output(y_info);
        rt_submit_aiv_task(0, r);
    }
}
