// A tour of the recording API in the v0 dialect; tests/test_record_api.py checks what it
// records.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipStorageTaskArgs &args) {
    Tensor x = from_tensor_arg(args.tensor(0));
    Tensor y = from_tensor_arg(args.tensor(1));
    uint32_t n[1] = {y.shapes[0]};
    uint32_t half[1] = {y.shapes[0] / 2};
    uint32_t at[1] = {y.shapes[0] / 2};
    TensorCreateInfo info(n, 1, DataType::FLOAT32);
    pto2_rt_scope_begin(PTO2ScopeMode::MANUAL);
    TaskOutputTensors acc = alloc_tensors(info);                     // task 0
    Arg a;                                                           // task 1
    a.add_input(x);
    a.add_output(info);
    a.add_scalar(int32_t{-1}, 0.5f, 2.0, uint64_t{1} << 40);
    TaskOutputTensors made = pto2_rt_submit_aic_task(0, a);
    Arg v;                                                           // task 2
    Tensor upper = y.view(half, at);
    v.add_inout(upper);
    v.add_dep(made.task_id(), acc.task_id());
    pto2_rt_submit_aiv_task(1, v);
    pto2_rt_scope_end();
}
