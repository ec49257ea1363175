/* gen_config_docs schema|markdown: print the config's JSON Schema or its Markdown reference,
 * generated from the property tables (config/props.h). tools/check-generated.sh compares the
 * output with the committed schemas/config.schema.json and docs/configuration.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/props.h"

int main(int argc, char **argv)
{
	char *text = NULL;

	if (argc == 2 && strcmp(argv[1], "schema") == 0) {
		json_t *schema = sl_config_schema();
		text = json_dumps(schema, SL_SCHEMA_DUMP_FLAGS);
		json_decref(schema);
		if (text)
			printf("%s\n", text);
	} else if (argc == 2 && strcmp(argv[1], "markdown") == 0) {
		text = sl_config_reference_markdown();
		if (text)
			fputs(text, stdout);
	} else {
		fprintf(stderr, "usage: %s schema|markdown\n", argv[0]);
		return 2;
	}
	if (!text || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the output\n", argv[0]);
		free(text);
		return 1;
	}
	free(text);
	return 0;
}
