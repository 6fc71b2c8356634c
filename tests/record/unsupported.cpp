// A call the recording API does not model: a transposed view.
#include <cstdint>

#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    ChipTensor t = x.transpose(0, 0);
    (void)t;
}
