// A view past the end of its tensor: the runtime rejects it.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    uint32_t shape[1] = {4};
    uint32_t offset[1] = {x.shapes[0] - 2};
    ChipTensor tail = x.view(shape, offset);
    (void)tail;
}
