/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/sandbox_private.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#ifdef MERPATI_HAVE_SECCOMP
#include <seccomp.h>
#endif

#if defined(MERPATI_HAVE_SECCOMP) && !defined(SANDBOX_SANITIZED)

/* What a worker's loop calls, by family, generously: a call missing here
   fails in production where tests did not reach. Left out on purpose:
   process creation and exec, ptrace and process_vm_*, namespaces, mount,
   bpf, perf_event_open, io_uring, userfaultfd, keyctl, handles
   (open_by_handle_at), setuid and friends, chroot, personality. Names this
   architecture lacks are skipped. */
static const char *const sandbox_worker_calls[] = {
	/* files and descriptors */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "lseek", "close", "close_range",
	"dup", "dup2", "dup3", "fcntl", "flock", "ioctl", "open", "openat",
	"openat2", "creat", "stat", "fstat", "lstat", "newfstatat", "statx",
	"fgetxattr", "fsetxattr", /* the index seal (storage/mindex.c) */
	"statfs", "fstatfs", "access", "faccessat", "faccessat2", "readlink",
	"readlinkat", "getdents", "getdents64", "mkdir", "mkdirat", "rmdir",
	"rename", "renameat", "renameat2", "link", "linkat", "unlink",
	"unlinkat", "truncate", "ftruncate", "fsync", "fdatasync",
	"sync_file_range", "fallocate", "fadvise64", "utimensat", "utimes",
	"futimesat", "fchmod", "umask", "getcwd", "sendfile", "pipe", "pipe2",
	/* sockets: accepted and inherited ones, syslog, the auth channel */
	"socket", "socketpair", "connect", "accept", "accept4", "shutdown",
	"getsockname", "getpeername", "getsockopt", "setsockopt", "sendto",
	"sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg",
	/* the event loop */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6",
	"eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create",
	"timerfd_settime", "timerfd_gettime", "inotify_init", "inotify_init1",
	"inotify_add_watch", "inotify_rm_watch",
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync",
	/* time */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep",
	/* the process itself */
	"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "getgroups", "exit", "exit_group", "kill",
	"tgkill", "tkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"rt_sigpending", "rt_sigtimedwait", "sigaltstack", "restart_syscall",
	"futex", "sched_yield", "sched_getaffinity", "set_robust_list", "rseq",
	"getrandom", "uname", "prlimit64", "getrlimit", "getrusage", "sysinfo"};

static char seccomp_error[128];

int sandbox_seccomp_worker(const char **why_r, const char **error_r)
{
	/* unlisted calls fail as unknown, so libc takes its fallbacks */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	int ret = -1, err = 0;

	(void)why_r;
	if (ctx == NULL) {
		*error_r = "seccomp_init failed";
		return -1;
	}
	/* every thread, should there ever be one */
	err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0;
	     err == 0 &&
	     i < sizeof(sandbox_worker_calls) / sizeof(sandbox_worker_calls[0]);
	     i++) {
		int nr = seccomp_syscall_resolve_name(sandbox_worker_calls[i]);

		if (nr != __NR_SCMP_ERROR)
			err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	/* threads only (the storage pool, storage_pool.h), never a new
	   process: clone with CLONE_THREAD; clone3 cannot be filtered by its
	   flags and stays ENOSYS, so libc falls back to clone */
	if (err == 0)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
					       CLONE_THREAD));
	if (err == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = -errno;
	if (err == 0)
		err = seccomp_load(ctx);
	if (err == 0) {
		ret = 1;
	} else {
		snprintf(seccomp_error, sizeof(seccomp_error), "seccomp: %s",
			 strerror(-err));
		*error_r = seccomp_error;
	}
	seccomp_release(ctx);
	return ret;
}

#else

int sandbox_seccomp_worker(const char **why_r, const char **error_r)
{
	(void)error_r;
#ifdef SANDBOX_SANITIZED
	*why_r = "sanitizer build";
#else
	*why_r = "built without libseccomp";
#endif
	return 0;
}

#endif
