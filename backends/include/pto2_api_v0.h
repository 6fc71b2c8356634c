// pto-dsl's declaration-only interface to the PTO2 orchestration API, dialect `v0`
// (the manual-scope v0 commit 98870952c). Written for this project;
// see pto2_api_common.h. Installed as "pto_orchestration_api.h" for the syntax check.
#pragma once

#include "pto2_api_common.h"

// Entry arguments: 40-byte tensor records and 64-bit scalar slots.
struct ContinuousTensor {
    uint64_t data;
    uint32_t shapes[5];
    uint32_t ndims;
    DataType dtype;
    bool child_memory;
    template <typename T>
    T *data_as() const;
    uint64_t nbytes() const;
};

class ChipStorageTaskArgs {
public:
    const ContinuousTensor &tensor(int32_t index) const;
    uint64_t scalar(int32_t index) const;
    int32_t tensor_count() const;
    int32_t scalar_count() const;
};

// The runtime's 128-byte descriptor; valid ones come only from the factories below
//.
class Tensor {
public:
    uint32_t shapes[5];
    uint32_t ndims;
    DataType dtype;
    bool manual_dep;
    Tensor view(const uint32_t shapes[], const uint32_t offsets[], bool manual_dep = false) const;
    Tensor reshape(const uint32_t shapes[], uint32_t ndims, bool manual_dep = false) const;
    Tensor transpose(uint32_t x, uint32_t y, bool manual_dep = false) const;

private:
    Tensor();
    friend Tensor make_tensor_external(void *, const uint32_t[], uint32_t, DataType, bool,
                                       int32_t);
};

Tensor make_tensor_external(void *addr, const uint32_t shapes[], uint32_t ndims,
                            DataType dtype = DataType::FLOAT32, bool manual_dep = false,
                            int32_t version = 0);
Tensor from_tensor_arg(const ContinuousTensor &t, bool manual_dep = false, int32_t version = 0);

// At most 16 tensors, 32 scalars and 16 explicit deps per task.
class Arg : public PtoDslArgsBase<Tensor> {
public:
    template <typename... Ids, typename = std::enable_if_t<
                                   (sizeof...(Ids) > 0) && pto_dsl_detail::all_are<PTO2TaskId, Ids...>>>
    void add_dep(Ids... ids);
};

using TaskOutputTensors = PtoDslOutputs<Tensor>;
using TaskSubmitResult = TaskOutputTensors;

TaskOutputTensors pto2_rt_submit_task(const MixedKernels &mixed_kernels, const Arg &args);
TaskOutputTensors pto2_rt_submit_aic_task(int32_t kernel_id, const Arg &args);
TaskOutputTensors pto2_rt_submit_aiv_task(int32_t kernel_id, const Arg &args);

// One hidden, already-complete task owning the new buffers.
TaskOutputTensors alloc_tensors(const Arg &args);
TaskOutputTensors alloc_tensors(const TensorCreateInfo create_infos[], uint32_t count);
template <typename... CIs, typename = std::enable_if_t<
                               (sizeof...(CIs) > 0) && pto_dsl_detail::all_are<TensorCreateInfo, CIs...>>>
TaskOutputTensors alloc_tensors(const CIs &...create_infos);

// Orchestration-side element access.
template <typename T = uint64_t>
T get_tensor_data(const Tensor &tensor, uint32_t ndims, const uint32_t indices[]);
template <typename T = uint64_t>
void set_tensor_data(const Tensor &tensor, uint32_t ndims, const uint32_t indices[], T value);

void pto2_rt_scope_begin(PTO2ScopeMode mode = PTO2ScopeMode::AUTO);
void pto2_rt_scope_end();
void pto2_rt_orchestration_done();
bool pto2_rt_is_fatal();
// Reports a fatal error with one of the PTO2_ERROR_* codes (the runtime's is a macro that
// also names the calling function); every later call of the API does nothing.
void pto2_rt_report_fatal(int32_t code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
