/* Executor + sluice-init in the oci driver, with the real runc: shell runtimes under
 * tests/fixtures/functions/ run in containers. See executor_harness.h for the set-up; each test
 * also gets a state dir (bundles go under <state_dir>/sandboxes/) and checks at the end that no
 * container and no bundle of the executor is left. */
#include "tests/unit/executor_harness.h"

#include <dirent.h>
#include <sys/stat.h>

struct oci_state {
	char dir[64];
	char prefix[64];   /* "sluice-<function>-": container ids of the test */
};

static struct oci_state oci;

/* An oci function; its TMPDIR is the container's /tmp (the harness's is a host path). */
static struct sl_function_config *oci_fn(struct xt *t, const char *name, const char *dir)
{
	struct sl_function_config *fn = xt_fn(t, name, dir);

	free(fn->environment[0]);
	fn->environment[0] = sl_xstrdup("TMPDIR=/tmp");
	fn->sandbox = SL_SANDBOX_OCI;
	snprintf(oci.prefix, sizeof(oci.prefix), "sluice-%s-", name);
	t->cfg.state_dir = oci.dir;
	return fn;
}

static int oci_setup(void **state)
{
	snprintf(oci.dir, sizeof(oci.dir), "/tmp/sl-test-oci-XXXXXX");
	assert_non_null(mkdtemp(oci.dir));
	oci.prefix[0] = '\0';
	return xt_setup(state);
}

/* Number of runc containers of this process ("<prefix><n>-<our pid>"). */
static int containers_left(void)
{
	char line[512], suffix[32];
	int n = 0;
	FILE *p = popen("runc list -q 2>/dev/null", "r");

	assert_non_null(p);
	snprintf(suffix, sizeof(suffix), "-%d\n", (int)getpid());
	while (fgets(line, sizeof(line), p)) {
		size_t len = strlen(line), sl = strlen(suffix);
		n += oci.prefix[0] && strncmp(line, oci.prefix, strlen(oci.prefix)) == 0 &&
		     len > sl && strcmp(line + len - sl, suffix) == 0;
	}
	pclose(p);
	return n;
}

/* Entries of <state_dir>/sandboxes (-1 when it does not exist). */
static int bundles_left(void)
{
	char path[128];
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "%s/sandboxes", oci.dir);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static int oci_teardown(void **state)
{
	struct xt *t = *state;
	int rc, left;

	if (t->ex && !t->shut_down)
		xt_shutdown(t, 10000);
	sl_executor_free(t->ex);
	t->ex = NULL;
	left = containers_left();
	int bundles = bundles_left();
	rc = xt_teardown(state);
	if (left != 0 || bundles > 0) {
		fprintf(stderr, "left behind: %d containers, %d bundles\n", left, bundles);
		rc = -1;
	}
	char rm[128];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", oci.dir);
	if (system(rm) != 0)
		rc = -1;
	return rc;
}

static void test_oci_echo(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;

	oci_fn(t, "ociecho", "echo");
	xt_start(t);
	xt_invoke(t, "ociecho", "{\"n\":1}", &a);
	xt_wait(t, &a);
	xt_invoke(t, "ociecho", "{\"n\":2}", &b);
	xt_wait(t, &b);
	assert_int_equal(a.status, SL_INVOKE_OK);
	assert_int_equal(b.status, SL_INVOKE_OK);
	assert_non_null(strstr(a.payload, "\"event\":{\"n\":1}}"));
	assert_non_null(strstr(b.payload, "\"event\":{\"n\":2}}"));
	assert_non_null(strstr(a.payload, "\"function\":\"ociecho\""));
	assert_non_null(strstr(a.payload, "\"task_root\":\"/var/task\",\"cwd\":\"/var/task\""));
	/* warm: the same runtime (pids are the container's, so compare the whole sandbox) */
	assert_int_equal(json_int_member(a.payload, "pid"), json_int_member(b.payload, "pid"));
	assert_int_equal(containers_left(), 1);
	assert_int_equal(bundles_left(), 1);
	char *log = xt_log(t);
	assert_int_equal(xt_count(log, "Init Duration"), 1);
	free(log);
	outcome_release(&a);
	outcome_release(&b);
}

static void test_oci_probe(void **state)
{
	struct xt *t = *state;
	struct sl_function_config *fn = oci_fn(t, "ociprobe", "oci-probe");
	struct outcome o;
	char want[160];

	fn->memory_mb = 256;
	xt_start(t);
	xt_invoke(t, "ociprobe", "{}", &o);
	xt_wait(t, &o);
	assert_int_equal(o.status, SL_INVOKE_OK);
	assert_non_null(strstr(o.payload, "\"init\":\"/opt/sluice/sluice-init --channel-path "
				      "/run/sluice/channel.sock "));
	assert_non_null(strstr(o.payload, " -- /var/task/bootstrap\""));
	assert_non_null(strstr(o.payload, "\"task\":\"readonly\""));
	assert_non_null(strstr(o.payload, "\"tmp\":\"writable\""));
	assert_int_equal(json_int_member(o.payload, "uid"), 993);
	assert_int_equal(json_int_member(o.payload, "mem"), 256L << 20);
	assert_int_equal(json_int_member(o.payload, "tmp_kb"), 512L << 10);   /* ephemeral storage */
	/* CPU in proportion to memory: 1769 MB = one vCPU */
	assert_int_equal(json_int_member(o.payload, "cpu_period"), 100000);
	assert_int_equal(json_int_member(o.payload, "cpu_quota"), 100000L * 256 / 1769);
	assert_int_equal(json_int_member(o.payload, "net"), 7);   /* curl: could not connect */
	snprintf(want, sizeof(want), "\"host\":\"%s1-%d\"", oci.prefix, (int)getpid());
	assert_non_null(strstr(o.payload, want));
	outcome_release(&o);
}

static void test_oci_timeout_then_fresh(void **state)
{
	struct xt *t = *state;
	struct sl_function_config *fn = oci_fn(t, "ocislow", "oci-probe");
	struct outcome a, b;
	char host[96];

	fn->timeout_s = 1;
	xt_start(t);
	xt_invoke(t, "ocislow", "{\"sleep\":1}", &a);
	xt_wait(t, &a);
	assert_int_equal(a.status, SL_INVOKE_TIMEOUT);
	assert_string_equal(a.error_type, "Sandbox.Timedout");
	xt_invoke(t, "ocislow", "{}", &b);
	xt_wait(t, &b);
	assert_int_equal(b.status, SL_INVOKE_OK);
	snprintf(host, sizeof(host), "\"host\":\"%s2-%d\"", oci.prefix, (int)getpid());
	assert_non_null(strstr(b.payload, host));   /* the second container */
	assert_int_equal(containers_left(), 1);      /* the first is gone */
	assert_int_equal(bundles_left(), 1);
	outcome_release(&a);
	outcome_release(&b);
}

/* Freeing the executor with a busy sandbox: runc kill, delete, bundle removed (teardown
 * checks). */
static void test_oci_free_busy(void **state)
{
	struct xt *t = *state;
	struct outcome a;

	oci_fn(t, "ocibusy", "oci-probe");
	xt_start(t);
	xt_invoke(t, "ocibusy", "{\"sleep\":1}", &a);
	free(xt_wait_log(t, "sleeping on", 10000));
	assert_int_equal(containers_left(), 1);
	sl_executor_free(t->ex);
	t->ex = NULL;
	assert_int_equal(containers_left(), 0);
	assert_int_equal(bundles_left(), 0);
}

/* A file of container ID's cgroup for controller ctrl, found as the kernel shows it:
 * /proc/<container init pid (runc state)>/cgroup. Returns its text (static) or NULL. */
static const char *ctr_cgroup_read(const char *id, const char *ctrl, const char *file)
{
	static char text[4096];
	char cmd[256], line[1024], path[1536];
	long pid = -1;
	FILE *p, *f;

	snprintf(cmd, sizeof(cmd), "runc state '%s' 2>/dev/null", id);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "\"pid\":"))
			pid = strtol(strstr(line, "\"pid\":") + 6, NULL, 10);
	pclose(p);
	if (pid <= 0)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
	assert_non_null(f = fopen(path, "r"));
	path[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *dir = c ? strchr(c + 1, ':') : NULL;
		if (!dir || (size_t)(dir - c - 1) != strlen(ctrl) || strncmp(c + 1, ctrl, strlen(ctrl)))
			continue;
		dir[strcspn(dir, "\n")] = '\0';
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s/%s", ctrl, dir + 1, file);
	}
	fclose(f);
	if (!path[0] || !(f = fopen(path, "r")))
		return NULL;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static long ctr_cgroup_long(const char *id, const char *ctrl, const char *file)
{
	const char *text = ctr_cgroup_read(id, ctrl, file);

	return text ? strtol(text, NULL, 10) : -1;
}

/* The runtime is killed by the memory cgroup's OOM killer: Runtime.OutOfMemory, Max Memory Used
 * at the limit, and the next invocation gets a fresh sandbox. */
/* A container whose agent never connects (here the "agent" is /usr/bin/false): when runc run
 * exits, the waiting invocation fails at once with the reason, and nothing is left behind. */
static void test_oci_agent_never_connects(void **state)
{
	struct xt *t = *state;
	struct outcome o;

	oci_fn(t, "ocinoagent", "echo");
	snprintf(t->agent, sizeof(t->agent), "/usr/bin/false");
	xt_start(t);
	xt_invoke(t, "ocinoagent", "{}", &o);
	xt_wait(t, &o);
	assert_int_equal(o.status, SL_INVOKE_INIT_ERROR);
	assert_non_null(strstr(o.payload, "the sandbox exited before its agent connected"));
	xt_run_for(t, 200);
	assert_int_equal(containers_left(), 0);
	assert_int_equal(bundles_left(), 0);
	outcome_release(&o);
}

static void test_oci_oom(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;
	char want[256];

	oci_fn(t, "ocioom", "oci-oom")->memory_mb = 128;
	xt_start(t);
	xt_invoke(t, "ocioom", "{\"oom\":1}", &a);
	xt_wait(t, &a);
	assert_int_equal(a.status, SL_INVOKE_RUNTIME_EXIT);
	assert_string_equal(a.error_type, "Runtime.OutOfMemory");
	snprintf(want, sizeof(want), "{\"errorType\":\"Runtime.OutOfMemory\",\"errorMessage\":"
		 "\"RequestId: %s Error: Runtime exited with error: signal: killed\"}", a.id);
	assert_string_equal(a.payload, want);
	char *log = xt_log(t);
	char *report = xt_line(log, "REPORT RequestId");
	assert_non_null(report);
	assert_non_null(strstr(report, "Memory Size: 128 MB\tMax Memory Used: 128 MB\t"));
	assert_non_null(strstr(report, "\tStatus: error\tError Type: Runtime.OutOfMemory"));
	free(report);
	free(log);
	xt_invoke(t, "ocioom", "{}", &b);
	xt_wait(t, &b);
	assert_int_equal(b.status, SL_INVOKE_OK);
	snprintf(want, sizeof(want), "{\"host\":\"%s2-%d\"}", oci.prefix, (int)getpid());
	assert_string_equal(b.payload, want);
	assert_int_equal(containers_left(), 1);
	outcome_release(&a);
	outcome_release(&b);
}

/* An idle sandbox is frozen: its background busy loop gets no CPU; the next invocation thaws
 * it; a frozen sandbox is still reaped when idle too long. */
static void test_oci_freeze(void **state)
{
	struct xt *t = *state;
	struct outcome a, b;
	char id[96];

	oci_fn(t, "ociburn", "oci-burn");
	snprintf(id, sizeof(id), "%s1-%d", oci.prefix, (int)getpid());
	xt_start(t);
	xt_invoke(t, "ociburn", "{}", &a);
	xt_wait(t, &a);
	assert_int_equal(a.status, SL_INVOKE_OK);
	xt_run_for(t, 200);
	const char *fs = ctr_cgroup_read(id, "freezer", "freezer.state");
	assert_non_null(fs);
	if (!strstr(fs, "FROZEN"))
		xt_fail_msg(fs);
	long u0 = ctr_cgroup_long(id, "cpuacct", "cpuacct.usage");
	xt_run_for(t, 1000);
	long u1 = ctr_cgroup_long(id, "cpuacct", "cpuacct.usage");
	assert_true(u0 > 0);
	assert_int_equal(u1, u0);   /* not one nanosecond while frozen */
	t->cfg.idle_timeout_s = 1;  /* read when the sandbox next goes idle */
	xt_invoke(t, "ociburn", "{}", &b);
	xt_wait(t, &b);
	assert_int_equal(b.status, SL_INVOKE_OK);
	assert_string_equal(b.payload, "{\"ok\":1}");
	assert_true(ctr_cgroup_long(id, "cpuacct", "cpuacct.usage") > u1);   /* it ran again */
	char *log = xt_log(t);
	assert_int_equal(xt_count(log, "Init Duration"), 1);   /* the same, warm sandbox */
	free(log);
	xt_run_for(t, 3500);   /* idle timeout + stop: the frozen sandbox goes */
	assert_int_equal(containers_left(), 0);
	outcome_release(&a);
	outcome_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_oci_echo, oci_setup, oci_teardown),
		cmocka_unit_test_setup_teardown(test_oci_probe, oci_setup, oci_teardown),
		cmocka_unit_test_setup_teardown(test_oci_timeout_then_fresh, oci_setup,
						oci_teardown),
		cmocka_unit_test_setup_teardown(test_oci_free_busy, oci_setup, oci_teardown),
		cmocka_unit_test_setup_teardown(test_oci_agent_never_connects, oci_setup,
						oci_teardown),
		cmocka_unit_test_setup_teardown(test_oci_oom, oci_setup, oci_teardown),
		cmocka_unit_test_setup_teardown(test_oci_freeze, oci_setup, oci_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
