#include "ctplan/error.h"
#include "ctplan/render.h"

int ctp_render_json(ctp_report *rep, FILE *out, const ctp_render_opts *o)
{
	(void)o;
	if (json_dumpf(ctp_report_root(rep), out,
		       JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			       JSON_REAL_PRECISION(10)) ||
	    fputc('\n', out) == EOF)
		return CTP_EFAIL;
	return 0;
}
