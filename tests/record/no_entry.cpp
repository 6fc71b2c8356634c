// An orchestration source without its entry function.
#include "pto_orchestration_api.h"

extern "C" void orchestration_entry(const ChipTaskArgs &args) { (void)args; }
