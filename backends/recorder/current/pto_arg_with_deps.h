// pto-dsl's recording implementation: task arguments that carry their own explicit deps
// (dialect `current`). Written for this project; see pto_recorder_core.h.
#pragma once

#include "pto_orchestration_api.h"

template <size_t MAX_DEP_COUNT = 16>
class CoreTaskArgsWithDeps : public CoreTaskArgs {
public:
    CoreTaskArgs &finalize_for_submit() { return *this; }
};
