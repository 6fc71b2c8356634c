// pto-dsl: the runtime-internal header some orchestrations include; everything they use
// from it is in the recording API.
#pragma once

#include "pto_orchestration_api.h"
