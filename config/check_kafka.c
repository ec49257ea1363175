/* Rules of kafka source keys: topic names as Kafka allows them (or a ^regex that compiles), and
 * the consumer properties Sluice sets itself, which the file may not override. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "config/props.h"
#include "core/mem.h"
#include "core/reserved.h"

#define TOPIC_MAX 249

const struct sl_reserved_name sl_kafka_consumer_reserved[] = {
	{ "group.id", "set it with the trigger's consumer_group" },
	{ "enable.auto.commit", "offsets are committed once the records are done" },
	{ "enable.auto.offset.store", "offsets are committed once the records are done" },
	{ "auto.offset.reset", "set it with the trigger's starting_position" },
	{ "bootstrap.servers", "set it with the source's brokers" },
	{ "metadata.broker.list", "set it with the source's brokers" },
	{ "log.queue", "Sluice serves librdkafka's log lines itself" },
	{ NULL, NULL }
};

static bool topic_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TOPIC_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

void sl_check_kafka_topics(struct sl_decode *dc, const char *path, const json_t *value)
{
	size_t i;
	const json_t *item;
	char got[SL_DIAG_QUOTE_MAX + 32];

	json_array_foreach(value, i, item) {
		const char *topic = json_string_value(item);
		char *sub = sl_path_index(path, i);
		regex_t re;

		sl_describe(item, got, sizeof(got));
		if (topic[0] == '^') {
			if (regcomp(&re, topic, REG_EXTENDED | REG_NOSUB) == 0)
				regfree(&re);
			else
				sl_diag_add(dc->diag, sub, "expected a regular expression (POSIX "
					    "extended) after ^, got %s", got);
		} else if (!topic_name_ok(topic)) {
			sl_diag_add(dc->diag, sub, "expected a topic name (1 to %d of a-z A-Z 0-9 . _ "
				    "-) or a ^regex, got %s", TOPIC_MAX, got);
		}
		free(sub);
	}
}

void sl_check_kafka_properties(struct sl_decode *dc, const char *path, const json_t *value)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)value, key, v) {
		const char *why = sl_reserved_why(sl_kafka_consumer_reserved, key);
		if (!why)
			continue;
		char *sub = sl_path_key(path, key);
		sl_diag_add(dc->diag, sub, "expected a property Sluice does not set itself (%s)",
			    why);
		free(sub);
	}
}
