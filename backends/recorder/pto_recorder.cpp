// pto-dsl's recorder: the implementation behind pto_recorder_core.h and the program's main.
// Written for this project. Compiled once per dialect (the dialect's directory first on the
// include path) and linked with one orchestration source. The program loads a case (entry
// tensors and scalars) from the file named by argv[1], runs aicpu_orchestration_entry on it
// and writes a line-oriented trace to the file descriptor argv[2]; pto_dsl/record/replay.py
// documents and reads the format.
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aicpu/cache_maintenance.h"
#include "pto_orchestration_api.h"

#ifdef PTO_REC_DIALECT_V0
using PtoRecEntryArgs = ChipStorageTaskArgs;
#else
using PtoRecEntryArgs = ChipTaskArgs;
#endif

// The entry and config functions are looked up by name at run time (the program is linked
// with -rdynamic): the runtime's harness can name an entry other than the default one.
using PtoRecEntry = void (*)(const PtoRecEntryArgs &);
using PtoRecConfig = PTO2OrchestrationConfig (*)(const PtoRecEntryArgs &);

namespace {

// ---- the trace ---------------------------------------------------------------------------
int g_fd = -1;
char g_buf[1 << 16];
size_t g_len = 0;

void flush_trace() {
    size_t off = 0;
    while (off < g_len) {
        ssize_t n = write(g_fd, g_buf + off, g_len - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    g_len = 0;
}

void put(const char *s, size_t n) {
    if (g_len + n > sizeof g_buf) flush_trace();
    if (n > sizeof g_buf) {
        g_len = 0;
        return;
    }
    std::memcpy(g_buf + g_len, s, n);
    g_len += n;
}
void put(const char *s) { put(s, std::strlen(s)); }
void put_u(uint64_t v) {
    char tmp[24];
    int n = std::snprintf(tmp, sizeof tmp, " %llu", static_cast<unsigned long long>(v));
    put(tmp, static_cast<size_t>(n));
}
void put_i(int64_t v) {
    char tmp[24];
    int n = std::snprintf(tmp, sizeof tmp, " %lld", static_cast<long long>(v));
    put(tmp, static_cast<size_t>(n));
}
// Free text at the end of a line: newlines become spaces.
void put_text(const char *s) {
    put(" ");
    for (; *s; ++s) {
        char c = (*s == '\n' || *s == '\r') ? ' ' : *s;
        put(&c, 1);
    }
}
void end_line() { put("\n", 1); }

// ---- state -------------------------------------------------------------------------------
std::unordered_map<const char *, int> g_files;
int g_last_file = -1;
int g_last_line = 0;
uint32_t g_tasks = 0;
int32_t g_buffers = 0;
uint32_t g_depth = 0;
bool g_fatal = false;
struct EntryBuffer {
    void *addr;
    bool loaded;
    uint64_t nbytes;
};
// Runtime API calls that record something (submits, scopes, element reads and writes):
// between two of them device memory does not change in a recording. The ranges
// invalidated since the last such call, and the count of calls they belong to.
uint64_t g_calls = 0;
std::set<std::pair<const void *, size_t>> g_invalidated;
uint64_t g_invalidated_at = 0;
std::unordered_map<void *, int32_t> g_by_addr;
std::vector<EntryBuffer> g_entry;

int file_id(const char *file) {
    if (file == nullptr) return g_last_file;
    auto it = g_files.find(file);
    if (it != g_files.end()) return it->second;
    int id = static_cast<int>(g_files.size());
    g_files.emplace(file, id);
    put("F");
    put_i(id);
    put_text(file);
    end_line();
    return id;
}

// Remember the call site (for a crash after it) and write it as " fid line". The file must
// have been interned (file_id) before the event's line began.
void site(const char *file, int line) {
    int fid = file == nullptr ? g_last_file : g_files.find(file)->second;
    if (file != nullptr) {
        g_last_file = fid;
        g_last_line = line;
    } else {
        line = g_last_line;
    }
    put_i(fid);
    put_i(line);
}

void put_box(const PtoRecTensor &t) {
    put_u(t.rec_layout_ndims);
    for (uint32_t i = 0; i < t.rec_layout_ndims; ++i) put_u(t.rec_layout[i]);
    for (uint32_t i = 0; i < t.rec_layout_ndims; ++i) put_u(t.rec_offsets[i]);
    for (uint32_t i = 0; i < t.rec_layout_ndims; ++i) put_u(t.shapes[i]);
}

[[noreturn]] void stop(int code) {
    flush_trace();
    std::fflush(stdout);
    _exit(code);
}

void on_signal(int sig) {
    put("K");
    put_i(sig);
    put_i(g_last_file);
    put_i(g_last_line);
    end_line();
    flush_trace();
    signal(sig, SIG_DFL);
    raise(sig);
}

PtoRecTensor whole(int32_t buffer, void *addr, const uint32_t shapes[], uint32_t ndims,
                   DataType dtype, bool manual_dep) {
    PtoRecTensor t;
    t.ndims = t.rec_layout_ndims = ndims;
    t.dtype = dtype;
    t.manual_dep = manual_dep;
    t.rec_buffer = buffer;
    t.rec_addr = addr;
    for (uint32_t i = 0; i < ndims; ++i) t.shapes[i] = t.rec_layout[i] = shapes[i];
    return t;
}

// Whether a view's elements are one run of its buffer: leading dimensions of size 1, then
// one partial dimension, then whole dimensions.
bool contiguous(const PtoRecTensor &t) {
    uint32_t d = 0;
    while (d < t.ndims && t.shapes[d] == 1) ++d;
    for (++d; d < t.ndims; ++d) {
        if (t.shapes[d] != t.rec_layout[d]) return false;
    }
    return true;
}

const char TAGS[] = {'I', 'O', 'X', 'U', 'N'};

// The flat element index of `idx` inside the view `t`, or -1 if it is out of bounds.
int64_t element(const PtoRecTensor &t, uint32_t ndims, const uint32_t idx[]) {
    if (ndims != t.ndims) return -1;
    int64_t flat = 0;
    for (uint32_t d = 0; d < ndims; ++d) {
        if (idx[d] >= t.shapes[d]) return -1;
        flat = flat * t.rec_layout[d] + (t.rec_offsets[d] + idx[d]);
    }
    return flat;
}

void put_access(char ev, const PtoRecTensor &t, uint32_t ndims, const uint32_t idx[],
                const char *file, int line) {
    file_id(file);
    put(&ev, 1);
    put_i(t.rec_buffer);
    put_u(static_cast<uint64_t>(t.dtype));
    put_u(t.manual_dep);
    put_box(t);
    for (uint32_t i = 0; i < ndims; ++i) put_u(idx[i]);
    site(file, line);
}

void *element_address(const PtoRecTensor &t, uint32_t ndims, const uint32_t idx[],
                      const char *what, const char *file, int line) {
    if (t.rec_buffer < 0) pto_rec_invalid("this tensor is not valid (it was never created)", file, line);
    int64_t flat = element(t, ndims, idx);
    if (flat < 0) pto_rec_invalid("the index is out of the tensor's bounds", file, line);
    if (t.rec_buffer < static_cast<int32_t>(g_entry.size()) && !g_entry[t.rec_buffer].loaded) {
        std::string msg = std::string(what) + " an entry tensor whose contents this case does not load";
        pto_rec_unsupported(msg.c_str(), file, line);
    }
    if (t.rec_addr == nullptr) return nullptr;
    return static_cast<char *>(t.rec_addr) + flat * pto_rec_dtype_size(t.dtype);
}

}  // namespace

// ---- the API's implementation ----------------------------------------------------------------
uint32_t pto_rec_dtype_size(DataType dtype) {
    switch (dtype) {
        case DataType::FLOAT32: case DataType::INT32: case DataType::UINT32: return 4;
        case DataType::FLOAT16: case DataType::INT16: case DataType::BFLOAT16: case DataType::UINT16:
            return 2;
        case DataType::INT64: case DataType::UINT64: return 8;
        default: return 1;
    }
}

const char *get_dtype_name(DataType dtype) {
    static const char *const names[] = {"FLOAT32", "FLOAT16", "INT32", "INT16", "INT8", "UINT8",
                                        "BFLOAT16", "INT64", "UINT64", "UINT16", "UINT32", "BOOL"};
    size_t i = static_cast<size_t>(dtype);
    return i < sizeof names / sizeof names[0] ? names[i] : "UNKNOWN";
}

uint64_t PtoRecTensor::numel() const {
    uint64_t n = 1;
    for (uint32_t i = 0; i < ndims; ++i) n *= shapes[i];
    return n;
}

PtoRecTensor PtoRecTensor::view(const uint32_t view_shapes[], const uint32_t view_offsets[],
                                bool manual, const char *pto_rec_file, int pto_rec_line) const {
    if (rec_buffer < 0) pto_rec_invalid("view of a tensor that is not valid", PTO_REC_HERE);
    PtoRecTensor t = *this;
    for (uint32_t d = 0; d < ndims; ++d) {
        if (view_shapes[d] == 0 || static_cast<uint64_t>(view_offsets[d]) + view_shapes[d] > shapes[d]) {
            char msg[160];
            std::snprintf(msg, sizeof msg, "view [%u:%u] is %s for dimension %u of size %u",
                          view_offsets[d], view_offsets[d] + view_shapes[d],
                          view_shapes[d] == 0 ? "empty" : "out of bounds", d, shapes[d]);
            pto_rec_invalid(msg, PTO_REC_HERE);
        }
        t.shapes[d] = view_shapes[d];
        t.rec_offsets[d] = rec_offsets[d] + view_offsets[d];
    }
    t.start_offset = 0;
    for (uint32_t d = 0; d < t.rec_layout_ndims; ++d) {
        t.start_offset = t.start_offset * t.rec_layout[d] + t.rec_offsets[d];
    }
    t.manual_dep = manual;
    return t;
}

PtoRecTensor PtoRecTensor::reshape(const uint32_t new_shapes[], uint32_t new_ndims, bool manual,
                                   const char *pto_rec_file, int pto_rec_line) const {
    if (rec_buffer < 0) pto_rec_invalid("reshape of a tensor that is not valid", PTO_REC_HERE);
    bool is_whole = rec_layout_ndims == ndims;
    for (uint32_t d = 0; d < ndims && is_whole; ++d) {
        is_whole = rec_offsets[d] == 0 && shapes[d] == rec_layout[d];
    }
    uint64_t n = 1;
    for (uint32_t d = 0; d < new_ndims; ++d) n *= new_shapes[d];
    if (new_ndims == 0 || new_ndims > PTO_REC_MAX_DIMS || n != numel()) {
        pto_rec_invalid("reshape to a different number of elements", PTO_REC_HERE);
    }
    if (is_whole) return whole(rec_buffer, rec_addr, new_shapes, new_ndims, dtype, manual);
    // A view: the runtime requires it to be contiguous and keeps its first element, with
    // row-major strides for the new shape. In the recorder's terms the result is a box of
    // a layout of the same buffer whose inner dimensions are the new shape's.
    if (!contiguous(*this)) {
        pto_rec_invalid("reshape of a view that is not contiguous (the runtime asserts "
                        "is_contiguous)", PTO_REC_HERE);
    }
    uint64_t start = 0, total = 1, inner = 1;
    for (uint32_t d = 0; d < rec_layout_ndims; ++d) {
        start = start * rec_layout[d] + rec_offsets[d];
        total *= rec_layout[d];
    }
    for (uint32_t d = 1; d < new_ndims; ++d) inner *= new_shapes[d];
    if (total % inner != 0 || start % inner != 0) {
        pto_rec_unsupported("reshape of a view whose first element is not at a multiple of the "
                            "new shape's inner size", PTO_REC_HERE);
    }
    PtoRecTensor t = whole(rec_buffer, rec_addr, new_shapes, new_ndims, dtype, manual);
    t.rec_layout[0] = static_cast<uint32_t>(total / inner);
    t.rec_offsets[0] = static_cast<uint32_t>(start / inner);
    t.start_offset = start;
    return t;
}

PtoRecTensor PtoRecTensor::transpose(uint32_t, uint32_t, bool, const char *pto_rec_file,
                                     int pto_rec_line) const {
    pto_rec_unsupported("ChipTensor::transpose", PTO_REC_HERE);
}

const PtoRecTensor &PtoRecOutputs::get_ref(uint32_t index) const & {
    if (index >= count_) pto_rec_invalid("get_ref: index past the task's outputs", nullptr, 0);
    return tensors_[index];
}

PtoRecTensor pto_rec_external(void *addr, const uint32_t shapes[], uint32_t ndims, DataType dtype,
                              bool manual_dep, const char *file, int line) {
    if (ndims == 0 || ndims > PTO_REC_MAX_DIMS) {
        pto_rec_invalid("make_tensor_external: ndims must be 1 to 5", file, line);
    }
    auto it = g_by_addr.find(addr);
    int32_t handle;
    if (it != g_by_addr.end()) {
        handle = it->second;
    } else {
        handle = g_buffers++;
        g_by_addr.emplace(addr, handle);
        file_id(file);
        put("B");
        put_i(handle);
        put_u(static_cast<uint64_t>(dtype));
        put_u(ndims);
        for (uint32_t i = 0; i < ndims; ++i) put_u(shapes[i]);
        site(file, line);
        end_line();
    }
    return whole(handle, addr, shapes, ndims, dtype, manual_dep);
}

PtoRecOutputs pto_rec_submit(PtoRecSubmit kind, const MixedKernels &mk, const PtoRecArgs &args,
                             const char *file, int line) {
    PtoRecOutputs out;
    if (g_fatal) return out;
    ++g_calls;
    if (args.has_error) {
        pto_rec_fatal(PTO2_ERROR_INVALID_ARGS, "submit", file, line, "%s",
                      args.error_msg ? args.error_msg : "invalid task arguments");
        return out;
    }
    if (args.predicated()) {  // the runtime reads this element when it dispatches the task
        const CorePredicateOperand &operand = args.predicate().operand;
        if (operand.tensor->rec_buffer < 0 ||
            element(*operand.tensor, operand.ndims, operand.indices) < 0) {
            pto_rec_invalid("the dispatch predicate's operand is not an element of a valid "
                            "tensor", file, line);
        }
    }
    file_id(file);
    put("T ");
    put(reinterpret_cast<const char *>(&kind), 1);
    put_i(mk.aic_kernel_id);
    put_i(mk.aiv0_kernel_id);
    put_i(mk.aiv1_kernel_id);
    put_i(args.launch_spec.block_num());
    put_u(args.launch_spec.require_sync_start());
    site(file, line);
    end_line();
    uint32_t ring = g_depth < 3 ? g_depth : 3;
    for (int32_t i = 0; i < args.tensor_count(); ++i) {
        const PtoRecArgSlot &s = args.slot(i);
        PtoRecTensor t = s.tensor;
        if (s.tag == PtoRecTag::OUTPUT) {
            const TensorCreateInfo &ci = s.info_copy;
            t = whole(g_buffers++, nullptr, ci.shapes, ci.ndims, ci.dtype, ci.manual_dep);
            out.add(t);
        } else if (t.rec_buffer < 0) {
            pto_rec_invalid("a tensor argument that is not valid (never created)", file, line);
        }
        put("A ");
        put(&TAGS[static_cast<int>(s.tag)], 1);
        put_i(s.tag == PtoRecTag::OUTPUT ? -1 : t.rec_buffer);  // a new one: the next handle
        put_u(static_cast<uint64_t>(t.dtype));
        put_u(t.manual_dep);
        put_box(t);
        end_line();
    }
    for (int32_t i = 0; i < args.scalar_count(); ++i) {
        char k = args.scalar_kind(i);
        put("V ");
        put(&k, 1);
        put_u(args.scalar_size(i));
        put_u(args.scalar_bits(i));
        end_line();
    }
    if (args.explicit_dep_count() > 0) {
        put("D");
        for (uint32_t i = 0; i < args.explicit_dep_count(); ++i) put_u(args.explicit_dep(i).raw);
        end_line();
    }
    if (args.allow_early_resolve()) put("P e\n");
    if (args.predicated()) {  // P p OP TARGET buffer dtype manual box.. index..
        const CoreTaskPredicate &pred = args.predicate();
        const PtoRecTensor &t = *pred.operand.tensor;
        put("P p");
        put_u(static_cast<uint64_t>(pred.op));
        put_i(pred.target);
        put_i(t.rec_buffer);
        put_u(static_cast<uint64_t>(t.dtype));
        put_u(t.manual_dep);
        put_box(t);
        for (uint32_t i = 0; i < pred.operand.ndims; ++i) put_u(pred.operand.indices[i]);
        end_line();
    }
    put("Z\n");
    out.set_task_id(PTO2TaskId::make(ring, g_tasks++));
    return out;
}

void pto_rec_scope_begin(PTO2ScopeMode mode, const char *file, int line) {
    if (g_fatal) return;
    ++g_calls;
    ++g_depth;
    file_id(file);
    put(mode == PTO2ScopeMode::MANUAL ? "S M" : "S A");
    site(file, line);
    end_line();
}

void pto_rec_scope_end(const char *file, int line) {
    if (g_fatal) return;
    ++g_calls;
    if (g_depth == 0) pto_rec_invalid("scope end without an open scope", file, line);
    --g_depth;
    file_id(file);
    put("E");
    site(file, line);
    end_line();
}

uint64_t pto_rec_get(const PtoRecTensor &t, uint32_t ndims, const uint32_t idx[], const char *file,
                     int line) {
    if (g_fatal) return 0;
    ++g_calls;
    void *p = element_address(t, ndims, idx, "get_tensor_data of", file, line);
    uint64_t bits = 0;
    if (p != nullptr) std::memcpy(&bits, p, pto_rec_dtype_size(t.dtype));
    put_access('R', t, ndims, idx, file, line);
    put_u(bits);  // the value the orchestration got (pto-run compares the simulated one)
    end_line();
    return bits;
}

void pto_rec_set(const PtoRecTensor &t, uint32_t ndims, const uint32_t idx[], uint64_t bits,
                 const char *file, int line) {
    if (g_fatal) return;
    ++g_calls;
    void *p = element_address(t, ndims, idx, "set_tensor_data of", file, line);
    put_access('W', t, ndims, idx, file, line);
    put_u(bits);  // the value written (pto-run writes it on the simulator too)
    end_line();
    if (p != nullptr) std::memcpy(p, &bits, pto_rec_dtype_size(t.dtype));
}

// Invalidating a range again with no recording call since its last invalidation reads
// memory a running kernel writes again: the orchestration polls it (one range or several
// in turn), and nothing here can change it. Also after a fatal report, which stops the
// recording but not the orchestration's own loops.
void pto_rec_cache_invalidate(const void *addr, size_t size, const char *file, int line) {
    if (g_invalidated_at != g_calls) {
        g_invalidated.clear();
        g_invalidated_at = g_calls;
    }
    if (!g_invalidated.emplace(addr, size).second) {
        file_id(file);
        put("M");
        site(file, line);
        put_u(size);
        end_line();
        stop(0);
    }
}

void pto_rec_cache_flush(const void *, size_t, const char *, int) {}

void pto_rec_unsupported(const char *what, const char *file, int line) {
    file_id(file);
    put("U");
    site(file, line);
    put_text(what);
    end_line();
    stop(0);
}

void pto_rec_invalid(const char *what, const char *file, int line) {
    file_id(file);
    put("I");
    site(file, line);
    put_text(what);
    end_line();
    stop(0);
}

void pto_rec_log(char level, const char *func, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    put("L ");
    put(&level, 1);
    put_text(func);
    put_text(msg);
    end_line();
}

void pto_rec_fatal(int32_t code, const char *func, const char *file, int line, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g_fatal) return;
    g_fatal = true;
    file_id(file);
    put("X");
    site(file, line);
    put_i(code);
    put_text(func);
    put(" |");
    put_text(msg);
    end_line();
}

bool pto_rec_is_fatal() { return g_fatal; }
void pto_rec_done() {}
int32_t pto_rec_cluster_count() { return 24; }
int32_t pto_rec_aiv_count() { return 48; }

// ---- the case and main -------------------------------------------------------------------------
namespace {

bool read_all(FILE *f, void *dst, size_t n) { return std::fread(dst, 1, n, f) == n; }

[[noreturn]] void bad_case(const char *why) {
    std::fprintf(stderr, "pto-dsl recorder: bad case file: %s\n", why);
    _exit(2);
}

void load_case(const char *path, PtoRecEntryArgs &args) {
    FILE *f = std::fopen(path, "rb");
    if (f == nullptr) bad_case("cannot open it");
    char magic[8];
    uint32_t counts[2];
    if (!read_all(f, magic, 8) || std::memcmp(magic, "PTOREC1", 8) != 0) bad_case("magic");
    if (!read_all(f, counts, sizeof counts)) bad_case("counts");
    for (uint32_t i = 0; i < counts[0]; ++i) {
        uint32_t head[7];  // dtype, ndims, shapes[5]
        uint64_t nbytes;
        uint8_t loaded;
        if (!read_all(f, head, sizeof head) || !read_all(f, &nbytes, 8) || !read_all(f, &loaded, 1)) {
            bad_case("tensor header");
        }
        size_t size = nbytes ? nbytes : 1;
        void *mem = mmap(nullptr, size, loaded ? PROT_READ | PROT_WRITE : PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED) bad_case("cannot reserve memory for a tensor");
        if (loaded && nbytes && !read_all(f, mem, nbytes)) bad_case("tensor contents");
        g_entry.push_back(EntryBuffer{mem, loaded != 0, nbytes});
        g_by_addr.emplace(mem, g_buffers++);
        DataType dtype = static_cast<DataType>(head[0]);
#ifdef PTO_REC_DIALECT_V0
        ContinuousTensor &ct = args.tensors_[i];
        ct.data = reinterpret_cast<uintptr_t>(mem);
        ct.ndims = head[1];
        ct.dtype = dtype;
        for (uint32_t d = 0; d < 5; ++d) ct.shapes[d] = head[2 + d];
#else
        args.tensors_[i].tensor = whole(static_cast<int32_t>(i), mem, head + 2, head[1], dtype, false);
#endif
    }
    args.tensor_count_ = static_cast<int32_t>(counts[0]);
    for (uint32_t i = 0; i < counts[1]; ++i) {
        if (!read_all(f, &args.scalars_[i], 8)) bad_case("scalars");
    }
    args.scalar_count_ = static_cast<int32_t>(counts[1]);
    std::fclose(f);
}

// The first of the comma-separated names that the program defines.
void *find_symbol(const char *names) {
    std::string all(names);
    size_t start = 0;
    while (start <= all.size()) {
        size_t end = all.find(',', start);
        if (end == std::string::npos) end = all.size();
        void *sym = dlsym(RTLD_DEFAULT, all.substr(start, end - start).c_str());
        if (sym != nullptr) return sym;
        start = end + 1;
    }
    return nullptr;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s CASE_FILE TRACE_FD ENTRY_NAMES CONFIG_NAMES\n", argv[0]);
        return 2;
    }
    g_fd = std::atoi(argv[2]);
    static PtoRecEntryArgs args;
    load_case(argv[1], args);
    auto entry = reinterpret_cast<PtoRecEntry>(find_symbol(argv[3]));
    auto config_fn = reinterpret_cast<PtoRecConfig>(find_symbol(argv[4]));
    if (entry == nullptr) {
        put("N\n");
        stop(0);
    }
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM}) signal(sig, on_signal);
    if (config_fn != nullptr) {
        PTO2OrchestrationConfig config = config_fn(args);
        put("C");
        put_i(config.expected_arg_count);
        end_line();
    }
    put("G\n");
    entry(args);
    put("Q");
    put_u(g_depth);
    end_line();
    stop(0);
}
