// pto-dsl's declaration-only interface to the PTO2 orchestration API, dialect `current`
// (the runtime at 6ebaf7715). Written for this project; see
// pto2_api_common.h. Installed as "pto_orchestration_api.h" for the syntax check.
#pragma once

#define PTO_DSL_HAS_BOOL_DTYPE 1
#include "pto2_api_common.h"

enum class AddressSpace : uint8_t { HOST = 0, DEVICE = 1 };

// The runtime's tensor descriptor; valid ones come only from
// make_tensor_external, submit results and the view operations.
class ChipTensor {
public:
    uint32_t shapes[5];
    uint32_t ndims;
    DataType dtype;
    bool manual_dep;
    template <typename T>
    T *data_as() const;
    ChipTensor view(const uint32_t shapes[], const uint32_t offsets[],
                    bool manual_dep = false) const;
    ChipTensor reshape(const uint32_t shapes[], uint32_t ndims, bool manual_dep = false) const;
    ChipTensor transpose(uint32_t x, uint32_t y, bool manual_dep = false) const;

private:
    ChipTensor();
    friend ChipTensor make_tensor_external(void *, const uint32_t[], uint32_t, DataType, bool,
                                           int32_t, AddressSpace);
};

ChipTensor make_tensor_external(void *addr, const uint32_t shapes[], uint32_t ndims,
                                DataType dtype = DataType::FLOAT32, bool manual_dep = false,
                                int32_t version = 0,
                                AddressSpace address_space = AddressSpace::HOST);

// Entry arguments: tensor slots are reached through ref().
class ChipTensorSlot {
public:
    const ChipTensor &ref() const;
};

class ChipTaskArgs {
public:
    const ChipTensorSlot &tensor(int32_t index) const;
    uint64_t scalar(int32_t index) const;
    int32_t tensor_count() const;
    int32_t scalar_count() const;
};

// A dispatch predicate: one element of a tensor (borrowed: it must outlive the submit)
// compared with an integer when the task is ready; NONE dispatches always.
enum class PredicateOp : uint8_t { NONE = 0, EQ, NE, GT, LT, GE, LE };
struct CorePredicateOperand {
    const ChipTensor *tensor{nullptr};
    uint32_t ndims{0};
    uint32_t indices[5]{};
};
struct CoreTaskPredicate {
    CorePredicateOperand operand;
    PredicateOp op{PredicateOp::NONE};
    int64_t target{0};
};

// At most 32 tensors and 16 scalars per task; explicit deps through a caller-owned array
// that must outlive the submit, set at most once. Early resolve lets the scheduler stage
// the task's consumers on cores while it runs; a predicate decides at dispatch whether
// its kernel runs.
class CoreTaskArgs : public PtoDslArgsBase<ChipTensor> {
public:
    CoreTaskArgs();
    CoreTaskArgs(const CoreTaskArgs &) = delete;
    CoreTaskArgs &operator=(const CoreTaskArgs &) = delete;
    void set_dependencies(const PTO2TaskId *deps, uint32_t count);
    void set_allow_early_resolve(bool v = true);
    bool allow_early_resolve() const;
    void set_predicate(const CoreTaskPredicate &pred);
    const CoreTaskPredicate &predicate() const;
};

using TaskOutputTensors = PtoDslOutputs<ChipTensor>;

TaskOutputTensors rt_submit_task(const MixedKernels &mixed_kernels, const CoreTaskArgs &args);
TaskOutputTensors rt_submit_aic_task(int32_t kernel_id, const CoreTaskArgs &args);
TaskOutputTensors rt_submit_aiv_task(int32_t kernel_id, const CoreTaskArgs &args);
TaskOutputTensors rt_submit_dummy_task(const CoreTaskArgs &args);

TaskOutputTensors alloc_tensors(const CoreTaskArgs &args);
TaskOutputTensors alloc_tensors(const TensorCreateInfo create_infos[], uint32_t count);
template <typename... CIs, typename = std::enable_if_t<
                               (sizeof...(CIs) > 0) && pto_dsl_detail::all_are<TensorCreateInfo, CIs...>>>
TaskOutputTensors alloc_tensors(const CIs &...create_infos);

template <typename T = uint64_t>
T get_tensor_data(const ChipTensor &tensor, uint32_t ndims, const uint32_t indices[]);
template <typename T = uint64_t>
void set_tensor_data(const ChipTensor &tensor, uint32_t ndims, const uint32_t indices[],
                     T value);

int32_t rt_available_cluster_count();
int32_t rt_available_aiv_count();

void rt_scope_begin(PTO2ScopeMode mode = PTO2ScopeMode::AUTO);
void rt_scope_end();
void rt_orchestration_done();
bool rt_is_fatal();
// Reports a fatal error with one of the PTO2_ERROR_* codes (the runtime's is a macro that
// also names the calling function); every later call of the API does nothing.
void rt_report_fatal(int32_t code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
