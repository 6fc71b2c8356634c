// pto-dsl: the communication-domain header of the runtime's platform, as an orchestration
// sees it. The context is the kernels' business: an orchestration only passes its address
// to a task as a scalar, so the recording API declares the type and nothing more. An
// orchestration that reads the context's fields does not compile here (an incomplete type).
#pragma once

struct CommContext;
