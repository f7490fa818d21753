/* spf: see spf.h. */
#include "spf.h"

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[SPF_RESULT_COUNT] = {
		[SPF_NONE] = "none",
		[SPF_NEUTRAL] = "neutral",
		[SPF_PASS] = "pass",
		[SPF_FAIL] = "fail",
		[SPF_SOFTFAIL] = "softfail",
		[SPF_TEMPERROR] = "temperror",
		[SPF_PERMERROR] = "permerror",
	};

	if ((unsigned)r >= SPF_RESULT_COUNT)
		return "permerror";
	return names[r];
}
