/* Event loop construction; see loop.h. */
#include "core/loop.h"

#include "core/mem.h"

#include <event2/event.h>

struct event_base *sl_loop_new(void)
{
	struct event_config *cfg = sl_check_alloc(event_config_new());
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	struct event_base *base = sl_check_alloc(event_base_new_with_config(cfg));
	event_config_free(cfg);
	return base;
}
