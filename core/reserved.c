/* Reserved names; see reserved.h. */
#include "core/reserved.h"

#include <stddef.h>
#include <string.h>

const char *sl_reserved_why(const struct sl_reserved_name *table, const char *name)
{
	for (size_t i = 0; table && table[i].name; i++)
		if (strcmp(name, table[i].name) == 0)
			return table[i].why;
	return NULL;
}
