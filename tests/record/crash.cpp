// The orchestration dereferences a null pointer after its first submit.
#include <cstdint>

#include "pto_orchestration_api.h"

static volatile int *nowhere = nullptr;

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    uint32_t shape[1] = {4};
    TensorCreateInfo y_info(shape, 1, DataType::FLOAT32);
    CoreTaskArgs p;
    p.add_input(x);
    p.add_output(y_info);
    rt_submit_aiv_task(0, p);
    *nowhere = 1;
}
