// pto-dsl's recording implementation of the PTO2 orchestration API: the types and functions
// shared by both dialects. Written for this project. An orchestration source compiled against
// these headers runs nothing: every submit, scope, alloc and orchestration read is appended to
// a trace that pto-dsl reads back into its task graph (pto_dsl/record/). Each call that
// matters records the file and line of its caller (default arguments with __builtin_FILE /
// __builtin_LINE), so that findings point at the orchestration's own lines.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#ifndef PTO_REC_MAX_TENSORS
#define PTO_REC_MAX_TENSORS 32
#endif
#ifndef PTO_REC_MAX_SCALARS
#define PTO_REC_MAX_SCALARS 32
#endif
#define PTO_REC_MAX_DIMS 5
#define PTO_REC_MAX_DEPS 64

#define PTO_REC_SITE const char *pto_rec_file = __builtin_FILE(), int pto_rec_line = __builtin_LINE()
#define PTO_REC_HERE pto_rec_file, pto_rec_line

// Tensor element types, in the runtime's order.
enum class DataType : uint8_t {
    FLOAT32, FLOAT16, INT32, INT16, INT8, UINT8, BFLOAT16, INT64, UINT64, UINT16, UINT32,
#ifdef PTO_REC_HAS_BOOL_DTYPE
    BOOL,
#endif
    DATA_TYPE_NUM
};

uint32_t pto_rec_dtype_size(DataType dtype);
inline uint64_t get_element_size(DataType dtype) { return pto_rec_dtype_size(dtype); }
const char *get_dtype_name(DataType dtype);

// A value's bits in a 64-bit slot, zero-extended; and back (the runtime's scalar encoding).
template <typename T>
inline uint64_t to_u64(T value) {
    static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>,
                  "to_u64: a trivially copyable type of at most 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    return bits;
}
template <typename T>
inline T from_u64(uint64_t bits) {
    static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>,
                  "from_u64: a trivially copyable type of at most 8 bytes");
    T value;
    std::memcpy(&value, &bits, sizeof(T));
    return value;
}

// Ring in the high half, local id in the low half; all ones is the invalid id.
struct PTO2TaskId {
    uint64_t raw;
    static constexpr PTO2TaskId make(uint32_t ring, uint32_t local) {
        return PTO2TaskId{(static_cast<uint64_t>(ring) << 32) | local};
    }
    static constexpr PTO2TaskId invalid() { return PTO2TaskId{UINT64_MAX}; }
    constexpr bool is_valid() const { return raw != UINT64_MAX; }
    constexpr bool is_invalid() const { return raw == UINT64_MAX; }
    constexpr uint32_t ring() const { return static_cast<uint32_t>((raw >> 32) & 0xFF); }
    constexpr uint32_t local() const { return static_cast<uint32_t>(raw & 0xFFFFFFFFu); }
    constexpr bool operator==(const PTO2TaskId &o) const { return raw == o.raw; }
    constexpr bool operator!=(const PTO2TaskId &o) const { return raw != o.raw; }
};

enum class PTO2ScopeMode : uint8_t { AUTO = 0, MANUAL = 1 };

enum DepFlags : uint8_t { DEP_NONE = 0, DEP_WAIT = 1u << 0, DEP_RETAIN = 1u << 1 };
constexpr DepFlags operator|(DepFlags a, DepFlags b) {
    return static_cast<DepFlags>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}

constexpr int32_t INVALID_KERNEL_ID = -1;
struct MixedKernels {
    int32_t aic_kernel_id = INVALID_KERNEL_ID;
    int32_t aiv0_kernel_id = INVALID_KERNEL_ID;
    int32_t aiv1_kernel_id = INVALID_KERNEL_ID;
};

// SPMD launch parameters of one task.
class PTO2LaunchSpec {
public:
    int16_t block_num() const { return block_num_; }
    void set_block_num(int16_t n) { block_num_ = n; }
    bool require_sync_start() const { return sync_start_; }
    void set_require_sync_start(bool v) { sync_start_ = v; }

private:
    int16_t block_num_{1};
    bool sync_start_{false};
};

#ifndef PTO2_ORCHESTRATION_CONFIG_DEFINED
#define PTO2_ORCHESTRATION_CONFIG_DEFINED
struct PTO2OrchestrationConfig {
    int expected_arg_count;
};
#endif

// A tensor descriptor: the public fields orchestrations read, and what the recorder needs
// to name the memory it covers: a buffer handle (one per base address, or per runtime
// allocation), the raw layout the offsets refer to, and the viewed box.
class PtoRecTensor {
public:
    uint32_t shapes[PTO_REC_MAX_DIMS]{};
    uint32_t ndims{0};
    DataType dtype{DataType::FLOAT32};
    bool manual_dep{false};
    uint64_t start_offset{0};  // the first element's offset in the buffer, in elements

    int32_t rec_buffer{-1};
    uint32_t rec_layout[PTO_REC_MAX_DIMS]{};
    uint32_t rec_layout_ndims{0};
    uint32_t rec_offsets[PTO_REC_MAX_DIMS]{};
    void *rec_addr{nullptr};

    template <typename T>
    T *data_as() const { return static_cast<T *>(rec_addr); }
    uint64_t numel() const;
    uint64_t nbytes() const { return numel() * pto_rec_dtype_size(dtype); }
    bool is_valid() const { return rec_buffer >= 0; }
    PtoRecTensor view(const uint32_t view_shapes[], const uint32_t view_offsets[],
                      bool manual = false, PTO_REC_SITE) const;
    PtoRecTensor reshape(const uint32_t new_shapes[], uint32_t new_ndims, bool manual = false,
                         PTO_REC_SITE) const;
    PtoRecTensor transpose(uint32_t x, uint32_t y, bool manual = false, PTO_REC_SITE) const;
};

// A runtime-allocated output's description; arguments copy it when it is added.
class TensorCreateInfo {
public:
    TensorCreateInfo(const uint32_t shape[], uint32_t n, DataType dt = DataType::FLOAT32,
                     bool manual = false)
        : ndims(n), dtype(dt), manual_dep(manual) {
        for (uint32_t i = 0; i < n && i < PTO_REC_MAX_DIMS; ++i) shapes[i] = shape[i];
    }
    template <typename T>
    void set_initial_value(T) { has_initial_value = true; }
    uint32_t shapes[PTO_REC_MAX_DIMS]{};
    uint32_t ndims;
    DataType dtype;
    bool manual_dep;
    bool has_initial_value{false};
};

// The first create-info of a variadic alloc_tensors call, with that call's site.
struct PtoRecFirstInfo {
    PtoRecFirstInfo(const TensorCreateInfo &ci, PTO_REC_SITE)
        : info(ci), file(pto_rec_file), line(pto_rec_line) {}
    const TensorCreateInfo &info;
    const char *file;
    int line;
};

enum class PtoRecTag : uint8_t { INPUT, OUTPUT, OUTPUT_EXISTING, INOUT, NO_DEP };

// One argument of a task as it was added: a copy of the tensor or create-info.
struct PtoRecArgSlot {
    PtoRecTag tag;
    PtoRecTensor tensor;
    const TensorCreateInfo *create_info_ptr;
    TensorCreateInfo info_copy{nullptr, 0};
    const PtoRecTensor &ref() const { return tensor; }
    const TensorCreateInfo &create_info() const { return info_copy; }
};

// A dispatch predicate: the scheduler skips the task unless `operand op target` holds when
// it is ready. The recorder keeps such a task in the graph like any other.
enum class PredicateOp : uint8_t { NONE = 0, EQ, NE, GT, LT, GE, LE };
struct CorePredicateOperand {
    const PtoRecTensor *tensor{nullptr};
    uint32_t ndims{0};
    uint32_t indices[PTO_REC_MAX_DIMS]{};
};
struct CoreTaskPredicate {
    CorePredicateOperand operand;
    PredicateOp op{PredicateOp::NONE};
    int64_t target{0};
};

namespace pto_rec_detail {
template <typename T>
constexpr bool is_scalar = std::is_arithmetic_v<std::decay_t<T>> || std::is_enum_v<std::decay_t<T>>;

// How a scalar's bits read back: 'f' float, 'i' signed, 'u' unsigned; and its size in bytes.
template <typename T>
constexpr char scalar_kind() {
    using D = std::decay_t<T>;
    if constexpr (std::is_enum_v<D>) {
        return std::is_signed_v<std::underlying_type_t<D>> ? 'i' : 'u';
    } else if constexpr (std::is_floating_point_v<D>) {
        return 'f';
    } else if constexpr (std::is_same_v<D, bool> || std::is_unsigned_v<D>) {
        return 'u';
    } else {
        return 'i';
    }
}

template <typename T>
uint64_t scalar_bits(T value) {
    return to_u64(static_cast<std::decay_t<T>>(value));
}
}  // namespace pto_rec_detail

// The task-argument builder of both dialects: tensors and scalars in the order they are
// added, explicit deps (an array the caller owns, or ids added one by one), SPMD launch spec.
class PtoRecArgs {
public:
    PtoRecArgs() = default;
    PtoRecArgs(const PtoRecArgs &) = delete;
    PtoRecArgs &operator=(const PtoRecArgs &) = delete;

    template <typename... Ts>
    void add_input(const Ts &...ts) { (add_tensor(PtoRecTag::INPUT, ts), ...); }
    template <typename... Ts>
    void add_inout(const Ts &...ts) { (add_tensor(PtoRecTag::INOUT, ts), ...); }
    template <typename... Ts>
    void add_no_dep(const Ts &...ts) { (add_tensor(PtoRecTag::NO_DEP, ts), ...); }
    template <typename... Ts>
    void add_output(const Ts &...ts) { (add_out(ts), ...); }

    template <typename... Ts>
    void add_scalar(Ts... values) {
        static_assert(sizeof...(Ts) > 0, "add_scalar: at least one value");
        static_assert((pto_rec_detail::is_scalar<Ts> && ...), "add_scalar: arithmetic or enum");
        (push_scalar(pto_rec_detail::scalar_kind<Ts>(), sizeof(std::decay_t<Ts>),
                     pto_rec_detail::scalar_bits(values)),
         ...);
    }
    void add_scalars(const uint64_t *values, int count) {
        for (int i = 0; i < count; ++i) push_scalar('u', 8, values[i]);
    }
    void add_scalars_i32(const int32_t *values, int count) {
        for (int i = 0; i < count; ++i) push_scalar('i', 4, static_cast<uint32_t>(values[i]));
    }
    void copy_scalars_from(const PtoRecArgs &src, int offset, int count) {
        if (offset < 0 || count < 0 || offset + count > src.scalar_count_) {
            set_error("copy_scalars_from: source range out of bounds");
            return;
        }
        for (int i = offset; i < offset + count; ++i) {
            push_scalar(src.kinds_[i], src.sizes_[i], src.scalars_[i]);
        }
    }

    void set_dependencies(const PTO2TaskId *deps, uint32_t count) {
        if (count == 0) {
            deps_ = nullptr;
            dep_count_ = 0;
            return;
        }
        if (deps == nullptr) return set_error("set_dependencies: deps must not be null");
        if (deps_ != nullptr) return set_error("set_dependencies: may be called at most once");
        deps_ = deps;
        dep_count_ = count;
    }
    void set_dependencies_with_kinds(const PTO2TaskId *deps, const DepFlags *, uint32_t count) {
        set_dependencies(deps, count);
    }
    template <typename... Ids>
    void add_dep(Ids... ids) {
        static_assert((std::is_same_v<std::decay_t<Ids>, PTO2TaskId> && ...),
                      "add_dep: arguments must be PTO2TaskId");
        (push_dep(ids), ...);
    }
    template <typename... Ids>
    void add_dep_wait(Ids... ids) { add_dep(ids...); }

    void set_allow_early_resolve(bool v = true) { early_ = v; }
    bool allow_early_resolve() const { return early_; }
    void set_task_timing_slot(int32_t slot) { timing_slot_ = slot; }
    int32_t task_timing_slot() const { return timing_slot_; }
    template <typename... Ts>
    void dump(const Ts &...) {}
    void set_error(const char *msg) {
        if (!has_error) {
            has_error = true;
            error_msg = msg;
        }
    }
    void clear() {
        tensor_count_ = scalar_count_ = 0;
        deps_ = nullptr;
        dep_count_ = own_dep_count_ = 0;
        early_ = false;
        predicated_ = false;
        predicate_ = CoreTaskPredicate{};
        launch_spec = PTO2LaunchSpec{};
    }
    void reset() {
        clear();
        has_error = false;
        error_msg = nullptr;
    }
    int32_t tensor_count() const { return tensor_count_; }
    int32_t scalar_count() const { return scalar_count_; }
    uint32_t explicit_dep_count() const { return deps_ ? dep_count_ : own_dep_count_; }
    PTO2TaskId explicit_dep(uint32_t i) const { return deps_ ? deps_[i] : own_deps_[i]; }

    bool has_error{false};
    const char *error_msg{nullptr};
    PTO2LaunchSpec launch_spec;

    // read by the recorder at submit
    const PtoRecArgSlot &slot(int32_t i) const { return slots_[i]; }
    uint64_t scalar_bits(int32_t i) const { return scalars_[i]; }
    char scalar_kind(int32_t i) const { return kinds_[i]; }
    uint32_t scalar_size(int32_t i) const { return sizes_[i]; }
    // as the runtime's argument containers: the i-th tensor slot and scalar
    const PtoRecArgSlot &tensor(int32_t i) const { return slots_[i]; }
    uint64_t scalar(int32_t i) const { return scalars_[i]; }
    // The operand's tensor is copied now (the runtime reads it through the pointer when
    // the task is dispatched; the recorder records it at the submit).
    void set_predicate(const CoreTaskPredicate &pred) {
        predicate_ = pred;
        predicated_ = pred.op != PredicateOp::NONE;
        if (pred.operand.tensor != nullptr) predicate_tensor_ = *pred.operand.tensor;
        predicate_.operand.tensor = &predicate_tensor_;
    }
    const CoreTaskPredicate &predicate() const { return predicate_; }
    bool predicated() const { return predicated_; }
    bool uses_dep_array() const { return deps_ != nullptr; }

private:
    void add_tensor(PtoRecTag tag, const PtoRecTensor &t) {
        if (tensor_count_ >= PTO_REC_MAX_TENSORS) return set_error("too many tensor arguments");
        PtoRecArgSlot &s = slots_[tensor_count_++];
        s.tag = tag;
        s.tensor = t;
        s.create_info_ptr = nullptr;
    }
    template <typename T>
    void add_tensor(PtoRecTag, const T &) {
        static_assert(std::is_same_v<T, PtoRecTensor>, "tensor arguments must be tensors");
    }
    void add_out(const PtoRecTensor &t) { add_tensor(PtoRecTag::OUTPUT_EXISTING, t); }
    void add_out(const TensorCreateInfo &ci) {
        if (tensor_count_ >= PTO_REC_MAX_TENSORS) return set_error("too many tensor arguments");
        PtoRecArgSlot &s = slots_[tensor_count_++];
        s.tag = PtoRecTag::OUTPUT;
        s.create_info_ptr = &ci;
        s.info_copy = ci;
    }
    void push_scalar(char kind, uint32_t size, uint64_t bits) {
        if (scalar_count_ >= PTO_REC_MAX_SCALARS) return set_error("too many scalar arguments");
        kinds_[scalar_count_] = kind;
        sizes_[scalar_count_] = static_cast<uint8_t>(size);
        scalars_[scalar_count_++] = bits;
    }
    void push_dep(PTO2TaskId id) {
        if (own_dep_count_ >= PTO_REC_MAX_DEPS) return set_error("too many explicit deps");
        own_deps_[own_dep_count_++] = id;
    }

    PtoRecArgSlot slots_[PTO_REC_MAX_TENSORS];
    int32_t tensor_count_{0};
    uint64_t scalars_[PTO_REC_MAX_SCALARS]{};
    char kinds_[PTO_REC_MAX_SCALARS]{};
    uint8_t sizes_[PTO_REC_MAX_SCALARS]{};
    bool predicated_{false};
    CoreTaskPredicate predicate_{};
    PtoRecTensor predicate_tensor_{};
    int32_t scalar_count_{0};
    const PTO2TaskId *deps_{nullptr};
    uint32_t dep_count_{0};
    PTO2TaskId own_deps_[PTO_REC_MAX_DEPS]{};
    uint32_t own_dep_count_{0};
    bool early_{false};
    int32_t timing_slot_{-1};
};

// What a submit returns: the task id and the runtime-created outputs in add_output order.
class PtoRecOutputs {
public:
    PtoRecOutputs() = default;
    bool empty() const { return count_ == 0; }
    uint32_t size() const { return count_; }
    const PtoRecTensor &get_ref(uint32_t index) const &;
    const PtoRecTensor &get_ref(uint32_t index) const && = delete;
    PTO2TaskId task_id() const { return id_; }

    void set_task_id(PTO2TaskId id) { id_ = id; }
    void add(const PtoRecTensor &t) { tensors_[count_++] = t; }

private:
    PTO2TaskId id_{PTO2TaskId::invalid()};
    uint32_t count_{0};
    PtoRecTensor tensors_[PTO_REC_MAX_TENSORS];
};

// ---- the recorder (pto_recorder.cpp) ---------------------------------------------------------
enum class PtoRecSubmit : char { KERNEL = 'k', DUMMY = 'd', ALLOC = 'a' };

PtoRecOutputs pto_rec_submit(PtoRecSubmit kind, const MixedKernels &kernels, const PtoRecArgs &args,
                             const char *file, int line);
void pto_rec_scope_begin(PTO2ScopeMode mode, const char *file, int line);
void pto_rec_scope_end(const char *file, int line);
PtoRecTensor pto_rec_external(void *addr, const uint32_t shapes[], uint32_t ndims, DataType dtype,
                              bool manual_dep, const char *file, int line);
uint64_t pto_rec_get(const PtoRecTensor &t, uint32_t ndims, const uint32_t idx[], const char *file,
                     int line);
void pto_rec_set(const PtoRecTensor &t, uint32_t ndims, const uint32_t idx[], uint64_t bits,
                 const char *file, int line);
// A call the recorder cannot model: the run stops with a located error naming it.
[[noreturn]] void pto_rec_unsupported(const char *what, const char *file, int line);
// A misuse the runtime would reject (a fatal error): the run stops, located.
[[noreturn]] void pto_rec_invalid(const char *what, const char *file, int line);
void pto_rec_log(char level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pto_rec_fatal(int32_t code, const char *func, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
bool pto_rec_is_fatal();
void pto_rec_done();
int32_t pto_rec_cluster_count();
int32_t pto_rec_aiv_count();


// Orchestration-side element access: reads see the case's contents.
template <typename T = uint64_t>
T get_tensor_data(const PtoRecTensor &t, uint32_t ndims, const uint32_t indices[], PTO_REC_SITE) {
    return from_u64<T>(pto_rec_get(t, ndims, indices, PTO_REC_HERE));
}
template <typename T = uint64_t>
void set_tensor_data(const PtoRecTensor &t, uint32_t ndims, const uint32_t indices[], T value,
                     PTO_REC_SITE) {
    pto_rec_set(t, ndims, indices, pto_rec_detail::scalar_bits(value), PTO_REC_HERE);
}

// RAII scope; PTO2_SCOPE(mode?) opens one for the braced block after it.
class PTO2ScopeGuard {
public:
    explicit PTO2ScopeGuard(PTO2ScopeMode mode = PTO2ScopeMode::AUTO, PTO_REC_SITE)
        : file_(pto_rec_file), line_(pto_rec_line) {
        pto_rec_scope_begin(mode, file_, line_);
    }
    ~PTO2ScopeGuard() { pto_rec_scope_end(file_, line_); }
    PTO2ScopeGuard(const PTO2ScopeGuard &) = delete;
    PTO2ScopeGuard &operator=(const PTO2ScopeGuard &) = delete;

private:
    const char *file_;
    int line_;
};

#define PTO_REC_JOIN_(a, b) a##b
#define PTO_REC_JOIN(a, b) PTO_REC_JOIN_(a, b)
#define PTO2_SCOPE(...) \
    if (PTO2ScopeGuard PTO_REC_JOIN(pto_rec_scope_, __COUNTER__){__VA_ARGS__}; true)
#define PTO2_SCOPE_GUARD(...) \
    [[maybe_unused]] PTO2ScopeGuard PTO_REC_JOIN(pto_rec_scope_, __COUNTER__) { __VA_ARGS__ }

#define LOG_ERROR(fmt, ...) pto_rec_log('E', __FUNCTION__, fmt, ##__VA_ARGS__)
#define LOG_WARN(fmt, ...) pto_rec_log('W', __FUNCTION__, fmt, ##__VA_ARGS__)
#define LOG_INFO(fmt, ...) pto_rec_log('I', __FUNCTION__, fmt, ##__VA_ARGS__)
#define LOG_DEBUG(fmt, ...) pto_rec_log('D', __FUNCTION__, fmt, ##__VA_ARGS__)
#define LOG_TIMING(fmt, ...) pto_rec_log('T', __FUNCTION__, fmt, ##__VA_ARGS__)

// The hint an orchestration gives inside a wait loop (a no-op here, as on the device).
#ifndef SPIN_WAIT_HINT
#define SPIN_WAIT_HINT() ((void)0)
#endif

// Error codes orchestrations pass to the fatal report (the runtime's numbers).
#define PTO2_ERROR_NONE 0
#define PTO2_ERROR_SCOPE_DEADLOCK 1
#define PTO2_ERROR_HEAP_RING_DEADLOCK 2
#define PTO2_ERROR_FLOW_CONTROL_DEADLOCK 3
#define PTO2_ERROR_DEP_POOL_OVERFLOW 4
#define PTO2_ERROR_INVALID_ARGS 5
#define PTO2_ERROR_EXPLICIT_ORCH_FATAL 9
