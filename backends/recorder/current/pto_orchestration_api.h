// pto-dsl's recording implementation of the PTO2 orchestration API, dialect `current`
// (the runtime at 6ebaf7715). Written for this project; see pto_recorder_core.h.
#pragma once

#define PTO_REC_HAS_BOOL_DTYPE 1
#define PTO_REC_MAX_TENSORS 32
#define PTO_REC_MAX_SCALARS 16
#include "pto_recorder_core.h"

enum class AddressSpace : uint8_t { HOST = 0, DEVICE = 1 };

using ChipTensor = PtoRecTensor;

inline ChipTensor make_tensor_external(void *addr, const uint32_t shapes[], uint32_t ndims,
                                       DataType dtype = DataType::FLOAT32, bool manual_dep = false,
                                       int32_t version = 0,
                                       AddressSpace address_space = AddressSpace::HOST,
                                       PTO_REC_SITE) {
    (void)version;
    (void)address_space;
    return pto_rec_external(addr, shapes, ndims, dtype, manual_dep, PTO_REC_HERE);
}

// Entry arguments: tensor slots reached through ref(), scalars as 64-bit slots.
class ChipTensorSlot {
public:
    const ChipTensor &ref() const { return tensor; }
    ChipTensor tensor;
};

class ChipTaskArgs {
public:
    const ChipTensorSlot &tensor(int32_t i) const { return tensors_[i]; }
    uint64_t scalar(int32_t i) const { return scalars_[i]; }
    int32_t tensor_count() const { return tensor_count_; }
    int32_t scalar_count() const { return scalar_count_; }

    ChipTensorSlot tensors_[PTO_REC_MAX_TENSORS * 8];
    uint64_t scalars_[PTO_REC_MAX_SCALARS * 8]{};
    int32_t tensor_count_{0};
    int32_t scalar_count_{0};
};

class CoreTaskArgs : public PtoRecArgs {};
using Arg = CoreTaskArgs;
using TaskOutputTensors = PtoRecOutputs;

inline TaskOutputTensors rt_submit_task(const MixedKernels &mixed_kernels, const CoreTaskArgs &args,
                                        PTO_REC_SITE) {
    return pto_rec_submit(PtoRecSubmit::KERNEL, mixed_kernels, args, PTO_REC_HERE);
}
inline TaskOutputTensors rt_submit_aic_task(int32_t kernel_id, const CoreTaskArgs &args,
                                            PTO_REC_SITE) {
    MixedKernels mk;
    mk.aic_kernel_id = kernel_id;
    return pto_rec_submit(PtoRecSubmit::KERNEL, mk, args, PTO_REC_HERE);
}
inline TaskOutputTensors rt_submit_aiv_task(int32_t kernel_id, const CoreTaskArgs &args,
                                            PTO_REC_SITE) {
    MixedKernels mk;
    mk.aiv0_kernel_id = kernel_id;
    return pto_rec_submit(PtoRecSubmit::KERNEL, mk, args, PTO_REC_HERE);
}
inline TaskOutputTensors rt_submit_dummy_task(const CoreTaskArgs &args, PTO_REC_SITE) {
    return pto_rec_submit(PtoRecSubmit::DUMMY, MixedKernels{}, args, PTO_REC_HERE);
}

inline TaskOutputTensors alloc_tensors(const CoreTaskArgs &args, PTO_REC_SITE) {
    return pto_rec_submit(PtoRecSubmit::ALLOC, MixedKernels{}, args, PTO_REC_HERE);
}
inline TaskOutputTensors alloc_tensors(const TensorCreateInfo create_infos[], uint32_t count,
                                       PTO_REC_SITE) {
    CoreTaskArgs args;
    for (uint32_t i = 0; i < count; ++i) args.add_output(create_infos[i]);
    return pto_rec_submit(PtoRecSubmit::ALLOC, MixedKernels{}, args, PTO_REC_HERE);
}
// The first create-info converts to PtoRecFirstInfo, which records the call site (no
// default argument can follow a parameter pack).
template <typename... CIs, typename = std::enable_if_t<
                               (std::is_same_v<std::decay_t<CIs>, TensorCreateInfo> && ...)>>
inline TaskOutputTensors alloc_tensors(PtoRecFirstInfo first, const CIs &...rest) {
    CoreTaskArgs args;
    args.add_output(first.info);
    (args.add_output(rest), ...);
    return pto_rec_submit(PtoRecSubmit::ALLOC, MixedKernels{}, args, first.file, first.line);
}

inline void rt_scope_begin(PTO2ScopeMode mode = PTO2ScopeMode::AUTO, PTO_REC_SITE) {
    pto_rec_scope_begin(mode, PTO_REC_HERE);
}
inline void rt_scope_end(PTO_REC_SITE) { pto_rec_scope_end(PTO_REC_HERE); }
inline void rt_orchestration_done() { pto_rec_done(); }
inline bool rt_is_fatal() { return pto_rec_is_fatal(); }
inline int32_t rt_available_cluster_count() { return pto_rec_cluster_count(); }
inline int32_t rt_available_aiv_count() { return pto_rec_aiv_count(); }

#define rt_report_fatal(code, fmt, ...) \
    pto_rec_fatal((code), __FUNCTION__, __FILE__, __LINE__, (fmt), ##__VA_ARGS__)

#include "pto_arg_with_deps.h"
