// Cache maintenance without a poll: the orchestration invalidates acc's last element before
// each read of it (reached, as the runtime's orchestrations do, through the view's
// start_offset) and flushes it after writing it, with a submit between the two reads.
// Nothing waits on a kernel, so the run records both tasks and checks clean. A wrong
// start_offset is a fatal report.
#include <cstdint>

#include "aicpu/cache_maintenance.h"
#include "pto_orchestration_api.h"

extern "C" {

PTO2OrchestrationConfig aicpu_orchestration_config(const ChipTaskArgs &) { return {2}; }

void aicpu_orchestration_entry(const ChipTaskArgs &args) {
    const ChipTensor &x = args.tensor(0).ref();
    const ChipTensor &acc = args.tensor(1).ref();
    const uint32_t n = acc.shapes[0];
    uint32_t shape[1] = {n};
    uint32_t one[1] = {1}, last[1] = {n - 1}, first[1] = {0};
    uint32_t rows[2] = {x.shapes[0] / n, n}, row[2] = {1, n}, second[2] = {1, 0};
    ChipTensor x_row = x.reshape(rows, 2).view(row, second);  // x[n : 2n] as a 1 x n view
    ChipTensor x_flat = x_row.reshape(shape, 1);
    ChipTensor tail = acc.view(one, last);
    if (tail.start_offset != n - 1 || x_row.start_offset != n || x_flat.start_offset != n) {
        rt_report_fatal(PTO2_ERROR_INVALID_ARGS, "start_offset %llu %llu %llu",
                        static_cast<unsigned long long>(tail.start_offset),
                        static_cast<unsigned long long>(x_row.start_offset),
                        static_cast<unsigned long long>(x_flat.start_offset));
        return;
    }
    float *data = tail.data_as<float>() + tail.start_offset;
    cache_invalidate_range(data, sizeof(float));
    if (data[0] != 0.0F) return;
    data[0] = 0.0F;
    cache_flush_range(data, sizeof(float));
    TensorCreateInfo y_info(shape, 1, DataType::FLOAT32);
    CoreTaskArgs p;
    p.add_input(x.view(shape, first));
    p.add_output(y_info);
    TaskOutputTensors produced = rt_submit_aiv_task(0, p);
    cache_invalidate_range(data, sizeof(float));
    if (data[0] != 0.0F) return;
    CoreTaskArgs c;
    c.add_input(produced.get_ref(0));
    c.add_inout(acc);
    rt_submit_aiv_task(1, c);
}

}  // extern "C"
