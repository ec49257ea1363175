/* Names a user may not set because Sluice sets them itself (Kafka properties), each with the
 * reason an error gives. Tables are arrays ending with a NULL name. */
#ifndef SL_RESERVED_H
#define SL_RESERVED_H

struct sl_reserved_name {
	const char *name;
	const char *why;            /* what to do instead, for the error */
};

/* The reason name is in table (which may be NULL), or NULL when it is not. */
const char *sl_reserved_why(const struct sl_reserved_name *table, const char *name);

#endif
