/* Executor: the seccomp profile of container sandboxes (oci and docker).
 *
 * A deny list on top of the other limits (no capabilities, no new privileges, uid 993): every
 * system call is allowed except those that manage the kernel, the clock, other namespaces or
 * kernel keys, which fail with EPERM. The ones a function has a use for (ptrace and
 * process_vm_* within its own pid namespace, personality) stay allowed. New namespaces are
 * refused both ways: unshare() and setns() are denied, clone() with any CLONE_NEW* flag is
 * denied by one masked rule per flag, and clone3() (whose flags are in memory, out of seccomp's
 * reach) fails with ENOSYS so that libc falls back to clone(). Without this a function running
 * as a non-root uid could make a user namespace and be root in it.
 *
 * The same JSON is the OCI runtime spec's linux.seccomp (oci.c) and Docker's profile format
 * (docker.c, HostConfig.SecurityOpt "seccomp=<json>"). The architectures listed are the host's
 * and its compat ABIs, so a 32-bit system call cannot bypass the list.
 */
#include "executor/pool.h"

#include "core/mem.h"

#include <errno.h>
#include <jansson.h>
#include <sched.h>

static const char *const denied[] = {
	/* kernel and modules */
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "get_kernel_syms", "query_module", "reboot", "swapon", "swapoff", "acct",
	"syslog", "bpf", "perf_event_open", "lookup_dcookie", "quotactl", "nfsservctl", "uselib",
	"_sysctl", "sysfs", "ustat", "vhangup", "iopl", "ioperm", "userfaultfd",
	/* clock */
	"settimeofday", "stime", "clock_settime", "clock_adjtime",
	/* mounts and namespaces */
	"mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
	"open_tree", "move_mount", "mount_setattr", "unshare", "setns", "open_by_handle_at",
	"name_to_handle_at",
	/* kernel keyrings */
	"keyctl", "add_key", "request_key",
	NULL
};

static const unsigned long new_ns_flags[] = { CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC,
					      CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
					      CLONE_NEWCGROUP };

static json_t *architectures(void)
{
#if defined(__x86_64__)
	return json_pack("[s, s, s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
#elif defined(__aarch64__)
	return json_pack("[s, s]", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
#else
	return json_array();   /* the native one only */
#endif
}

json_t *sl_seccomp_profile(void)
{
	json_t *names = json_array(), *rules;

	for (size_t i = 0; denied[i]; i++)
		json_array_append_new(names, json_string(denied[i]));
	rules = json_pack("[{s:o, s:s, s:i}, {s:[s], s:s, s:i}]",
			  "names", names, "action", "SCMP_ACT_ERRNO", "errnoRet", EPERM,
			  "names", "clone3", "action", "SCMP_ACT_ERRNO", "errnoRet", ENOSYS);
	for (size_t i = 0; i < sizeof(new_ns_flags) / sizeof(new_ns_flags[0]); i++) {
		json_int_t flag = (json_int_t)new_ns_flags[i];
		json_array_append_new(rules, json_pack("{s:[s], s:s, s:i, s:[{s:i, s:I, s:I, s:s}]}",
						       "names", "clone", "action",
						       "SCMP_ACT_ERRNO", "errnoRet", EPERM,
						       "args", "index", 0, "value", flag,
						       "valueTwo", flag, "op",
						       "SCMP_CMP_MASKED_EQ"));
	}
	return sl_check_alloc(json_pack("{s:s, s:o, s:o}", "defaultAction", "SCMP_ACT_ALLOW",
					"architectures", sl_check_alloc(architectures()),
					"syscalls", sl_check_alloc(rules)));
}
