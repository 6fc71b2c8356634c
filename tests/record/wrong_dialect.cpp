// An orchestration written for the v0 API, checked with the current dialect.
#include "pto_orchestration_api.h"

extern "C" void aicpu_orchestration_entry(const ChipStorageTaskArgs &args) {
    Tensor x = from_tensor_arg(args.tensor(0));
    (void)x;
}
