// Declarations shared by both dialect headers of pto-dsl's interface to the PTO2 runtime's
// orchestration API. Written for this project from the runtime's documented behaviour
// (docs/runtime-model.md): declarations only, enough for a generated
// orchestration source to pass `g++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror`.
// Not the runtime's header and not linkable: compile against the real runtime to build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

// Tensor element types, in the runtime's order.
enum class DataType : uint8_t {
    FLOAT32, FLOAT16, INT32, INT16, INT8, UINT8, BFLOAT16, INT64, UINT64, UINT16, UINT32,
#ifdef PTO_DSL_HAS_BOOL_DTYPE
    BOOL,
#endif
    DATA_TYPE_NUM
};

// 64-bit task id: ring in the high half, local id in the low half.
struct PTO2TaskId {
    uint64_t raw;
    static PTO2TaskId make(uint32_t ring, uint32_t local);
    static PTO2TaskId invalid();
    bool is_valid() const;
    uint32_t ring() const;
    uint32_t local() const;
    bool operator==(const PTO2TaskId &other) const;
    bool operator!=(const PTO2TaskId &other) const;
};

// The orchestrator's fatal codes, as the runtime names them.
#define PTO2_ERROR_NONE 0
#define PTO2_ERROR_SCOPE_DEADLOCK 1
#define PTO2_ERROR_HEAP_RING_DEADLOCK 2
#define PTO2_ERROR_FLOW_CONTROL_DEADLOCK 3
#define PTO2_ERROR_DEP_POOL_OVERFLOW 4
#define PTO2_ERROR_INVALID_ARGS 5
#define PTO2_ERROR_REQUIRE_SYNC_START_INVALID 7
#define PTO2_ERROR_TENSOR_WAIT_TIMEOUT 8
#define PTO2_ERROR_EXPLICIT_ORCH_FATAL 9

enum class PTO2ScopeMode : uint8_t { AUTO = 0, MANUAL = 1 };

// Kernel ids per slot of a cluster; unused slots hold INVALID_KERNEL_ID.
constexpr int32_t INVALID_KERNEL_ID = -1;
struct MixedKernels {
    int32_t aic_kernel_id = INVALID_KERNEL_ID;
    int32_t aiv0_kernel_id = INVALID_KERNEL_ID;
    int32_t aiv1_kernel_id = INVALID_KERNEL_ID;
};

// An RAII scope; PTO2_SCOPE(mode?) opens one for the braced block after it.
class PTO2ScopeGuard {
public:
    explicit PTO2ScopeGuard(PTO2ScopeMode mode = PTO2ScopeMode::AUTO);
    ~PTO2ScopeGuard();
    PTO2ScopeGuard(const PTO2ScopeGuard &) = delete;
    PTO2ScopeGuard &operator=(const PTO2ScopeGuard &) = delete;
};

#define PTO_DSL_JOIN_(a, b) a##b
#define PTO_DSL_JOIN(a, b) PTO_DSL_JOIN_(a, b)
#define PTO2_SCOPE(...) \
    if (PTO2ScopeGuard PTO_DSL_JOIN(pto_dsl_scope_, __COUNTER__){__VA_ARGS__}; true)
#define PTO2_SCOPE_GUARD(...) \
    [[maybe_unused]] PTO2ScopeGuard PTO_DSL_JOIN(pto_dsl_scope_, __COUNTER__) { __VA_ARGS__ }

// The one field the executor reads from aicpu_orchestration_config.
struct PTO2OrchestrationConfig {
    int expected_arg_count;
};

// Runtime-allocated output description; arguments keep its address, so it must be a named
// object that outlives the submit.
class TensorCreateInfo {
public:
    TensorCreateInfo(const uint32_t shapes[], uint32_t ndims, DataType dtype = DataType::FLOAT32,
                     bool manual_dep = false);
    template <typename T>
    void set_initial_value(T value);
};

namespace pto_dsl_detail {
template <typename T, typename... Ts>
constexpr bool all_are = (std::is_same_v<std::remove_cv_t<Ts>, T> && ...);
template <typename... Ts>
constexpr bool scalar_args = ((std::is_arithmetic_v<std::decay_t<Ts>> ||
                               std::is_enum_v<std::decay_t<Ts>>) && ...);
}  // namespace pto_dsl_detail

// SPMD launch parameters of a task: the block count and whether every
// block must start at once.
class PTO2LaunchSpec {
public:
    int16_t block_num() const;
    void set_block_num(int16_t n);
    bool require_sync_start() const;
    void set_require_sync_start(bool v);
};

// The task-argument builder, parameterised by the descriptor type and the dependency API
//: tensors are lvalues (their addresses are kept), scalars are values.
template <typename TensorT>
class PtoDslArgsBase {
public:
    template <typename... Ts, typename = std::enable_if_t<
                                  (sizeof...(Ts) > 0) && pto_dsl_detail::all_are<TensorT, Ts...>>>
    void add_input(Ts &...tensors);
    template <typename... Ts, typename = std::enable_if_t<
                                  (sizeof...(Ts) > 0) &&
                                  (pto_dsl_detail::all_are<TensorT, Ts...> ||
                                   pto_dsl_detail::all_are<TensorCreateInfo, Ts...>)>>
    void add_output(Ts &...tensors_or_create_infos);
    template <typename... Ts, typename = std::enable_if_t<
                                  (sizeof...(Ts) > 0) && pto_dsl_detail::all_are<TensorT, Ts...>>>
    void add_inout(Ts &...tensors);
    template <typename... Ts, typename = std::enable_if_t<
                                  (sizeof...(Ts) > 0) && pto_dsl_detail::all_are<TensorT, Ts...>>>
    void add_no_dep(Ts &...tensors);
    template <typename... Ts, typename = std::enable_if_t<
                                  (sizeof...(Ts) > 0) && pto_dsl_detail::scalar_args<Ts...>>>
    void add_scalar(Ts... values);
    void reset();
    int32_t tensor_count() const;
    int32_t scalar_count() const;
    bool has_error;
    const char *error_msg;
    PTO2LaunchSpec launch_spec;
};

// Result of a submit: the task id and the runtime-created outputs in add_output order;
// get_ref only on a named result.
template <typename TensorT>
class PtoDslOutputs {
public:
    const TensorT &get_ref(uint32_t index) const &;
    const TensorT &get_ref(uint32_t index) const && = delete;
    PTO2TaskId task_id() const;
    uint32_t size() const;
    bool empty() const;
};
