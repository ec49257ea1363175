/* A schedule source's "expression" must parse with the connector's own parser
 * (connectors/schedule/cron.h), so the config check and the connector never disagree. The
 * parser's message already names the field and says "expected ..., got ..."; it is reported
 * as is, at the expression's JSON path. */
#include <stdio.h>

#include "config/props.h"
#include "connectors/schedule/cron.h"

void sl_check_schedule(struct sl_decode *dc, const char *path, const json_t *value)
{
	struct sl_schedule sched;
	char why[256] = "", got[SL_DIAG_QUOTE_MAX + 32];

	if (sl_schedule_parse(json_string_value(value), &sched, why, sizeof(why)) == 0)
		return;
	if (why[0]) {
		sl_diag_add(dc->diag, path, "%s", why);
		return;
	}
	sl_describe(value, got, sizeof(got));
	sl_diag_add(dc->diag, path, "expected rate(N unit) or cron(minutes hours day-of-month "
		    "month day-of-week year), got %s", got);
}
