// Declarations only (include/CRiftFuzz.h); SwiftPM needs a source file for a C target.
#include "CRiftFuzz.h"
