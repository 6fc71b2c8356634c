// Early resolve and a dispatch predicate (settings of their tasks in the graph) and a read
// of data a task computes, whose value the recording cannot know without the kernels
// (W809, at the first such read). The orchestration write is an access of the graph like
// the read.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" {

PTO2OrchestrationConfig aicpu_orchestration_config(const ChipTaskArgs &) { return {2}; }

void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    const ChipTensor &acc = args.tensor(1).ref();
    uint32_t shape[1] = {acc.shapes[0]};
    uint32_t origin[1] = {0};
    TensorCreateInfo y_info(shape, 1, DataType::FLOAT32);
    CoreTaskArgs p;
    p.add_input(x.view(shape, origin));
    p.add_output(y_info);
    p.set_allow_early_resolve(true);
    TaskOutputTensors produced = rt_submit_aiv_task(0, p);
    for (int i = 0; i < 2; ++i) {
        CoreTaskArgs c;
        c.add_input(produced.get_ref(0));
        c.add_inout(acc);
        CoreTaskPredicate positive;  // runs only if y[0] > 0
        positive.operand.tensor = &produced.get_ref(0);
        positive.operand.ndims = 1;
        positive.op = PredicateOp::GT;
        c.set_predicate(positive);
        rt_submit_aiv_task(1, c);
    }
    set_tensor_data(acc, 1, origin, 0.0f);
    float y0 = get_tensor_data<float>(produced.get_ref(0), 1, origin);  // waits; runs no kernel
    LOG_INFO("y[0] = %f", static_cast<double>(y0));
}

}  // extern "C"
