/* Property tables of the top level and of a function; see props.h for the row format.
 *
 * Bounds follow Lambda where Lambda has one (memory 128-10240 MB, timeout 1-900 s, init 10 s,
 * reference/lambda-semantics.md §3.3 and §9); the others are ours and are explained in the help.
 * Changing a row changes the schema and the reference: regenerate both (tools/check-generated.sh
 * says how).
 */
#include <stddef.h>

#include "config/config.h"
#include "config/props.h"

#define TOP(field) offsetof(struct sl_config, field)
#define FN(field) offsetof(struct sl_function_config, field)

static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const sandbox_kinds[] = { "process", "oci", "docker", NULL };
static const char *const network_modes[] = { "none", "host", NULL };

_Static_assert(SL_SANDBOX_PROCESS == 0 && SL_SANDBOX_OCI == 1 && SL_SANDBOX_DOCKER == 2,
	       "sandbox_kinds order");
_Static_assert(sizeof(enum sl_sandbox_kind) == sizeof(int), "ENUM rows store an int");
_Static_assert(SL_NETWORK_NONE == 0 && SL_NETWORK_HOST == 1, "network_modes order");
_Static_assert(sizeof(enum sl_network_mode) == sizeof(int), "ENUM rows store an int");

#define ENV_NAME(n) { #n, "the runtime environment sets it" },
const struct sl_reserved_name sl_env_reserved[] = { SL_ENV_RESERVED(ENV_NAME) { NULL, NULL } };
#define ENV_DOC(n) " `" #n "`"

const struct sl_prop sl_props_top[] = {
	{ .name = "listen", .type = SL_PROP_STRING, .def = "\"127.0.0.1:8070\"",
	  .pattern = "^.+:[0-9]{1,5}$", .offset = TOP(listen), .check = sl_check_listen,
	  .help = "Address of the control API (functions, invoke), /metrics and health, as "
		  "HOST:PORT; an IPv6 host goes in brackets ([::1]:8070)." },
	{ .name = "state_dir", .type = SL_PROP_STRING, .flags = SL_PROP_PATH, .def = "\".sluice\"",
	  .min = 1, .offset = TOP(state_dir),
	  .help = "Directory for spools, checkpoints and the default dead-letter files; created "
		  "when missing. Relative to the config file's directory." },
	{ .name = "log_level", .type = SL_PROP_KEYWORD, .def = "\"info\"", .values = log_levels,
	  .offset = TOP(log_level),
	  .help = "Least severe level of log record written to stderr." },
	{ .name = "log_format", .type = SL_PROP_KEYWORD, .def = "\"text\"", .values = log_formats,
	  .offset = TOP(log_format),
	  .help = "Log records as text lines or as JSON lines." },
	{ .name = "idle_timeout_s", .type = SL_PROP_INT, .def = "300", .min = 1, .max = 86400,
	  .offset = TOP(idle_timeout_s),
	  .help = "Seconds a warm sandbox may stay idle before it is stopped." },
	{ .name = "spool_max_bytes", .type = SL_PROP_BYTES, .def = "1073741824",
	  .min = 1048576, .max = 1099511627776LL, .offset = TOP(spool_max_bytes),
	  .help = "Size limit of each spool (the local queue of push sources and asynchronous "
		  "invocations). A full spool makes push sources answer 503 with Retry-After; "
		  "nothing is dropped." },
	{ .name = "spool_segment_bytes", .type = SL_PROP_BYTES, .def = "67108864",
	  .min = 65536, .max = 1073741824, .offset = TOP(spool_segment_bytes),
	  .help = "Size of one spool segment file; at most spool_max_bytes." },
	{ .name = "executor_memory_mb", .type = SL_PROP_INT,
	  .def_doc = "80% of the host's MemTotal (/proc/meminfo), rounded down", .min = 128,
	  .max = 1048576, .offset = TOP(executor_memory_mb),
	  .help = "Memory budget in MB of all live sandboxes together, counted as the sum of "
		  "their functions' memory_mb. A sandbox that would exceed it is not started: "
		  "the invocation waits (up to executor_queue_timeout_ms) for memory to be freed; "
		  "idle sandboxes of other functions are stopped early to make room." },
	{ .name = "executor_queue_timeout_ms", .type = SL_PROP_INT, .def = "10000", .min = 1,
	  .max = 3600000, .offset = TOP(executor_queue_timeout_ms),
	  .help = "Longest time an invocation waits for a sandbox (max_concurrency, the memory "
		  "budget or executor_max_starting being in the way); then it is answered "
		  "TooManyRequestsException with the reason." },
	{ .name = "executor_max_starting", .type = SL_PROP_INT, .def = "8", .min = 1,
	  .max = 1000, .offset = TOP(executor_max_starting),
	  .help = "Most sandboxes initialising at once across all functions (burst limit); "
		  "further cold starts wait." },
	{ .name = "docker_socket", .type = SL_PROP_STRING, .flags = SL_PROP_PATH,
	  .def = "\"/var/run/docker.sock\"", .min = 1, .max = 107, .offset = TOP(docker_socket),
	  .help = "Unix socket of the Docker Engine API (Docker, or Podman's `podman system "
		  "service`) that `docker` sandboxes are run through. The engine must run on this "
		  "host: sandboxes are frozen and measured through their cgroups." },
	{ .name = "functions", .type = SL_PROP_SECTION, .def = "{}",
	  .section = &sl_section_functions,
	  .help = "Functions by name: what to run and how much of the machine it may use." },
	{ .name = "sources", .type = SL_PROP_SECTION, .def = "{}", .section = &sl_section_sources,
	  .help = "Event sources by name; \"kind\" selects the connector." },
	{ .name = "triggers", .type = SL_PROP_SECTION, .def = "{}",
	  .section = &sl_section_triggers,
	  .help = "Triggers by name: which source feeds which function, with batching and "
		  "retries." },
	{ .name = "destinations", .type = SL_PROP_SECTION, .def = "{}",
	  .section = &sl_section_destinations,
	  .help = "Destinations by name, for failure records (dead letters); \"kind\" selects "
		  "the type." },
	{ .name = NULL }
};

const struct sl_prop sl_props_function[] = {
	{ .name = "code", .type = SL_PROP_STRING, .flags = SL_PROP_REQUIRED | SL_PROP_PATH |
	  SL_PROP_DIR, .min = 1, .offset = FN(code_dir),
	  .help = "Directory of the function's code, mounted as the task root (/var/task, "
		  "LAMBDA_TASK_ROOT). Relative to the config file's directory; must exist." },
	{ .name = "runtime", .type = SL_PROP_STRING, .def = "\"provided.al2023\"", .min = 1,
	  .max = 128, .offset = FN(runtime),
	  .help = "Runtime label shown by the control API, e.g. provided.al2023 or nodejs20.x. "
		  "Informational: what runs is `command`." },
	{ .name = "command", .type = SL_PROP_STRING_LIST, .def_doc = "`<code>/bootstrap`",
	  .min = 1, .max = 64, .offset = FN(command),
	  .help = "Entry point of the runtime as an argument vector; the handler is appended as "
		  "the last argument, as with a container image's CMD." },
	{ .name = "handler", .type = SL_PROP_STRING, .def = "\"function.handler\"", .min = 1,
	  .max = 128, .offset = FN(handler),
	  .help = "Handler name passed to the runtime as _HANDLER; its format is the runtime's." },
	{ .name = "memory_mb", .type = SL_PROP_INT, .def = "128", .min = 128, .max = 10240,
	  .offset = FN(memory_mb),
	  .help = "Memory limit of one sandbox in MB; CPU share is proportional to it." },
	{ .name = "timeout_s", .type = SL_PROP_INT, .def = "3", .min = 1, .max = 900,
	  .offset = FN(timeout_s),
	  .help = "Seconds one invocation may run before it is stopped (Sandbox.Timedout)." },
	{ .name = "init_timeout_s", .type = SL_PROP_INT, .def = "10", .min = 1, .max = 900,
	  .offset = FN(init_timeout_s),
	  .help = "Seconds the runtime may take to start and ask for its first event." },
	{ .name = "max_concurrency", .type = SL_PROP_INT, .def = "10", .min = 1, .max = 1000,
	  .offset = FN(max_concurrency),
	  .help = "Most sandboxes of this function running at once; further invocations wait." },
	{ .name = "environment", .type = SL_PROP_STRING_MAP, .def = "{}",
	  .pattern = "^[A-Za-z][A-Za-z0-9_]+$", .reserved = sl_env_reserved,
	  .offset = FN(environment), .check = sl_check_environment,
	  .help = "Environment variables of the function, name to value. Names start with a "
		  "letter and have at least 2 characters from A-Z, a-z, 0-9 and _; all "
		  "variables together (as compact JSON) take at most 4096 bytes. Lambda reserves:"
		  SL_ENV_RESERVED(ENV_DOC) "." },
	{ .name = "sandbox", .type = SL_PROP_ENUM, .def = "\"process\"", .values = sandbox_kinds,
	  .offset = FN(sandbox),
	  .help = "How a sandbox runs: `process` is a plain child process of the daemon "
		  "(development, no isolation); `oci` is a container run by runc (needs the "
		  "runc binary): read-only root with the host's /usr and /etc, code at /var/task, "
		  "a 512 MB tmpfs at /tmp, no network, no capabilities, memory_mb as the memory "
		  "limit; `docker` is the same container through the Docker Engine API "
		  "(docker_socket), on the function's image." },
	{ .name = "provisioned_concurrency", .type = SL_PROP_INT, .def = "0", .min = 0,
	  .max = 1000, .offset = FN(provisioned_concurrency),
	  .help = "Sandboxes started and initialised when the daemon starts, before any "
		  "invocation (AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency, init "
		  "timeout max(130 s, timeout_s)), never stopped as idle and replaced when they "
		  "die; at most max_concurrency. Others are started on demand." },
	{ .name = "network", .type = SL_PROP_ENUM, .def = "\"none\"", .values = network_modes,
	  .offset = FN(network),
	  .help = "Network of an `oci` or `docker` sandbox: `none` (loopback only) or `host` "
		  "(the host's network namespace: the function can reach what the host can). "
		  "The `process` driver always shares the host's network." },
	{ .name = "ephemeral_storage_mb", .type = SL_PROP_INT, .def = "512", .min = 512,
	  .max = 10240, .offset = FN(ephemeral_storage_mb),
	  .help = "Size in MB of /tmp in an `oci` or `docker` sandbox (a tmpfs: its pages count "
		  "against the sandbox's memory while used), as Lambda's ephemeral storage." },
	{ .name = "layers", .type = SL_PROP_STRING_LIST, .flags = SL_PROP_PATH | SL_PROP_DIR,
	  .min = 0, .max = 5, .offset = FN(layers),
	  .help = "Directories merged in order (a later one's files win) and mounted read-only "
		  "at /opt, as Lambda extracts a function's layers; at most 5. Relative to the "
		  "config file's directory; each must exist. Needs an `oci` or `docker` sandbox." },
	{ .name = "image", .type = SL_PROP_STRING, .def = "\"localhost/sluice/base:latest\"",
	  .min = 1, .max = 255, .offset = FN(image),
	  .help = "Container image of a `docker` sandbox; it must exist in the engine (no pull). "
		  "The host's /usr and /etc are mounted read-only over it, as for `oci`; the "
		  "default is the skeleton image `make docker-image` builds from "
		  "docker/Containerfile." },
	{ .name = "async_max_retry_attempts", .type = SL_PROP_INT, .def = "2", .min = 0,
	  .max = 2, .offset = FN(async_max_retry_attempts),
	  .help = "Retries of a failed asynchronous invocation (InvocationType Event, function "
		  "destinations) after the first attempt, as Lambda's MaximumRetryAttempts." },
	{ .name = "async_max_event_age_s", .type = SL_PROP_INT, .def = "21600", .min = 60,
	  .max = 21600, .offset = FN(async_max_event_age_s),
	  .help = "Longest time an asynchronous invocation is kept and retried; older ones go to "
		  "async_on_failure (condition EventAgeExceeded)." },
	{ .name = "async_retry_base_ms", .type = SL_PROP_INT, .def = "60000", .min = 1,
	  .max = 3600000, .offset = FN(async_retry_base_ms),
	  .help = "Longest wait before the first retry of a failed asynchronous invocation (full "
		  "jitter); the second waits up to twice as long. Lambda waits 1 and 2 minutes." },
	{ .name = "async_on_success", .type = SL_PROP_STRING, .ref = &sl_section_destinations,
	  .def_doc = "none", .offset = FN(async_on_success),
	  .help = "Name of the destination that receives a record of each successful "
		  "asynchronous invocation, with the request and the response." },
	{ .name = "async_on_failure", .type = SL_PROP_STRING, .ref = &sl_section_destinations,
	  .def_doc = "`<state_dir>/dead-letter/async.<name>.jsonl`",
	  .offset = FN(async_on_failure),
	  .help = "Name of the destination that receives a record of each asynchronous "
		  "invocation whose retries or age ran out, with the request." },
	{ .name = NULL }
};
