// pto-dsl's recording implementation of the PTO2 orchestration API, dialect `v0`
// (the manual-scope commit 98870952c). Written for this project; see pto_recorder_core.h.
#pragma once

#define PTO_REC_DIALECT_V0 1
#define PTO_REC_MAX_TENSORS 16
#define PTO_REC_MAX_SCALARS 32
#include "pto_recorder_core.h"

// Entry arguments: tensor records with a data address, and 64-bit scalar slots.
struct ContinuousTensor {
    uint64_t data;
    uint32_t shapes[PTO_REC_MAX_DIMS];
    uint32_t ndims;
    DataType dtype;
    bool child_memory;
    template <typename T>
    T *data_as() const { return reinterpret_cast<T *>(static_cast<uintptr_t>(data)); }
    uint64_t numel() const {
        uint64_t n = 1;
        for (uint32_t i = 0; i < ndims; ++i) n *= shapes[i];
        return n;
    }
    uint64_t nbytes() const { return numel() * pto_rec_dtype_size(dtype); }
};

class ChipStorageTaskArgs {
public:
    const ContinuousTensor &tensor(int32_t i) const { return tensors_[i]; }
    uint64_t scalar(int32_t i) const { return scalars_[i]; }
    int32_t tensor_count() const { return tensor_count_; }
    int32_t scalar_count() const { return scalar_count_; }

    ContinuousTensor tensors_[PTO_REC_MAX_TENSORS * 16]{};
    uint64_t scalars_[PTO_REC_MAX_SCALARS * 8]{};
    int32_t tensor_count_{0};
    int32_t scalar_count_{0};
};

using Tensor = PtoRecTensor;

inline Tensor make_tensor_external(void *addr, const uint32_t shapes[], uint32_t ndims,
                                   DataType dtype = DataType::FLOAT32, bool manual_dep = false,
                                   int32_t version = 0, PTO_REC_SITE) {
    (void)version;
    return pto_rec_external(addr, shapes, ndims, dtype, manual_dep, PTO_REC_HERE);
}
inline Tensor from_tensor_arg(const ContinuousTensor &t, bool manual_dep = false,
                              int32_t version = 0, PTO_REC_SITE) {
    (void)version;
    return pto_rec_external(t.data_as<void>(), t.shapes, t.ndims, t.dtype, manual_dep,
                            PTO_REC_HERE);
}

class Arg : public PtoRecArgs {};
using TaskOutputTensors = PtoRecOutputs;
using TaskSubmitResult = TaskOutputTensors;

inline TaskOutputTensors pto2_rt_submit_task(const MixedKernels &mixed_kernels, const Arg &args,
                                             PTO_REC_SITE) {
    return pto_rec_submit(PtoRecSubmit::KERNEL, mixed_kernels, args, PTO_REC_HERE);
}
inline TaskOutputTensors pto2_rt_submit_aic_task(int32_t kernel_id, const Arg &args,
                                                 PTO_REC_SITE) {
    MixedKernels mk;
    mk.aic_kernel_id = kernel_id;
    return pto_rec_submit(PtoRecSubmit::KERNEL, mk, args, PTO_REC_HERE);
}
inline TaskOutputTensors pto2_rt_submit_aiv_task(int32_t kernel_id, const Arg &args,
                                                 PTO_REC_SITE) {
    MixedKernels mk;
    mk.aiv0_kernel_id = kernel_id;
    return pto_rec_submit(PtoRecSubmit::KERNEL, mk, args, PTO_REC_HERE);
}
inline TaskOutputTensors pto2_rt_submit_aiv_task_deferred(int32_t kernel_id, const Arg &args,
                                                          PTO_REC_SITE) {
    pto_rec_unsupported("pto2_rt_submit_aiv_task_deferred (deferred completion)", PTO_REC_HERE);
    (void)kernel_id;
    (void)args;
}

inline TaskOutputTensors alloc_tensors(const Arg &args, PTO_REC_SITE) {
    return pto_rec_submit(PtoRecSubmit::ALLOC, MixedKernels{}, args, PTO_REC_HERE);
}
inline TaskOutputTensors alloc_tensors(const TensorCreateInfo create_infos[], uint32_t count,
                                       PTO_REC_SITE) {
    Arg args;
    for (uint32_t i = 0; i < count; ++i) args.add_output(create_infos[i]);
    return pto_rec_submit(PtoRecSubmit::ALLOC, MixedKernels{}, args, PTO_REC_HERE);
}
// The first create-info converts to PtoRecFirstInfo, which records the call site (no
// default argument can follow a parameter pack).
template <typename... CIs, typename = std::enable_if_t<
                               (std::is_same_v<std::decay_t<CIs>, TensorCreateInfo> && ...)>>
inline TaskOutputTensors alloc_tensors(PtoRecFirstInfo first, const CIs &...rest) {
    Arg args;
    args.add_output(first.info);
    (args.add_output(rest), ...);
    return pto_rec_submit(PtoRecSubmit::ALLOC, MixedKernels{}, args, first.file, first.line);
}

inline void pto2_rt_scope_begin(PTO2ScopeMode mode = PTO2ScopeMode::AUTO, PTO_REC_SITE) {
    pto_rec_scope_begin(mode, PTO_REC_HERE);
}
inline void pto2_rt_scope_end(PTO_REC_SITE) { pto_rec_scope_end(PTO_REC_HERE); }
inline void pto2_rt_orchestration_done() { pto_rec_done(); }
inline bool pto2_rt_is_fatal() { return pto_rec_is_fatal(); }

#define pto2_rt_report_fatal(code, fmt, ...) \
    pto_rec_fatal((code), __FUNCTION__, __FILE__, __LINE__, (fmt), ##__VA_ARGS__)
#define LOG_ALWAYS(fmt, ...) pto_rec_log('A', __FUNCTION__, fmt, ##__VA_ARGS__)
