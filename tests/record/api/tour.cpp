// A tour of the recording API in the current dialect; tests/test_record_api.py checks
// what it records.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" {

PTO2OrchestrationConfig aicpu_orchestration_config(const ChipTaskArgs &) {
    return PTO2OrchestrationConfig{4};
}

void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    const ChipTensor &y = args.tensor(1).ref();
    const ChipTensor &idx = args.tensor(2).ref();
    const int32_t s = from_u64<int32_t>(args.scalar(0));
    uint32_t first[1] = {0};
    const int32_t rounds = get_tensor_data<int32_t>(idx, 1, first);  // 3, from the case
    LOG_INFO("rounds=%d s=%d", rounds, s);
    uint32_t n[1] = {y.shapes[0]};
    TensorCreateInfo y_info(n, 1, DataType::FLOAT32);

    CoreTaskArgs a;                                                  // task 0
    a.add_input(x);
    a.add_output(y_info);
    a.add_scalar(s, 2.5f, 1.25, static_cast<uint64_t>(7));
    TaskOutputTensors made = rt_submit_aic_task(0, a);

    rt_scope_begin(PTO2ScopeMode::MANUAL);
    for (int32_t i = 0; i < rounds; ++i) {                           // tasks 1-3
        CoreTaskArgsWithDeps<4> v;
        v.add_inout(made.get_ref(0));
        v.add_dep(made.task_id());
        rt_submit_aiv_task(1, v);
    }
    rt_scope_end();

    PTO2_SCOPE() {
        PTO2_SCOPE_GUARD();
        MixedKernels mk;
        mk.aic_kernel_id = 2;
        mk.aiv0_kernel_id = 3;
        mk.aiv1_kernel_id = 3;
        CoreTaskArgs m;                                              // task 4
        m.add_input(x);
        m.add_inout(y);
        m.launch_spec.set_block_num(4);
        TaskOutputTensors mixed = rt_submit_task(mk, m);

        CoreTaskArgs d;                                              // task 5
        d.add_inout(y);
        PTO2TaskId ids[2] = {mixed.task_id(), PTO2TaskId::invalid()};
        DepFlags kinds[2] = {DEP_WAIT, DEP_WAIT};
        d.set_dependencies_with_kinds(ids, kinds, 2);
        rt_submit_dummy_task(d);

        TensorCreateInfo pair[2] = {y_info, y_info};
        TaskOutputTensors two = alloc_tensors(pair, 2);              // task 6
        CoreTaskArgs v;                                              // task 7
        v.add_no_dep(two.get_ref(1));
        CoreTaskPredicate gate;  // dispatched only if element 2 of the pair's first > 5
        gate.operand.tensor = &two.get_ref(0);
        gate.operand.ndims = 1;
        gate.operand.indices[0] = 2;
        gate.op = PredicateOp::GT;
        gate.target = 5;
        v.set_predicate(gate);
        v.set_allow_early_resolve(true);
        rt_submit_aiv_task(1, v);
        uint32_t at[1] = {1};
        set_tensor_data(x, 1, at, 2.0f);
    }
}

}  // extern "C"
