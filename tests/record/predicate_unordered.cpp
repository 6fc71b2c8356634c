// A dispatch predicate on an element that a task writes without being a producer of the
// predicated task: in the manual scope nothing orders CONSUME after PRODUCE, so the
// scheduler may evaluate the predicate before y[0] is written (E201).
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
    PTO2_SCOPE(PTO2ScopeMode::MANUAL) {
        CoreTaskArgs p;
        p.add_input(x.view(shape, origin));
        p.add_output(y_info);
        TaskOutputTensors produced = rt_submit_aiv_task(0, p);
        CoreTaskArgs c;
        c.add_input(x.view(shape, origin));  // reads x, not y: no data edge either
        c.add_inout(acc);
        CoreTaskPredicate positive;  // runs only if y[0] > 0
        positive.operand.tensor = &produced.get_ref(0);
        positive.operand.ndims = 1;
        positive.op = PredicateOp::GT;
        c.set_predicate(positive);
        rt_submit_aiv_task(1, c);
    }
}

}  // extern "C"
