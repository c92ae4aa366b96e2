/*
 * tests/unit/host_kernel.h - the kernel's sleeping locks and RCU, faked on
 * the host, so that unit tests can compile kernel files that use them
 * (fs/fd.c and fs/file.c) unchanged.
 *
 * Interface: host_kernel.c defines what sched/sched.h declares and those
 * files call (mutex_init/lock/trylock/unlock/owned, preempt_disable/enable,
 * hence rcu_read_lock/unlock, and call_rcu), and console_file_ops.
 *
 *   Mutexes are spin locks that yield, with an owner, so that misuse is
 *   seen: unlocking a mutex the caller does not hold, or taking one inside
 *   an RCU read section (the kernel would sleep with preemption off).
 *
 *   RCU is real enough to catch a use after free: call_rcu() only queues
 *   the callback; host_rcu_grace_period() runs the callbacks queued before
 *   it was called, once every thread that was inside rcu_read_lock when it
 *   started has left.  Any thread may call it, concurrently with readers;
 *   it runs nothing until a test calls it, so memory "freed" by call_rcu
 *   stays readable until then, and is really freed (ASan poisons it) after.
 *
 *   host_rcu_read_sections() lets a test check that a lock-free lookup
 *   is made inside a read section (a race too narrow to hit otherwise).
 *
 *   host_kernel_violations() counts the misuses seen (each is printed);
 *   a test checks that it is still zero.
 *   console_release_count() counts calls of the console's release, which
 *   the kernel's console files (descriptors 0-2) must never see.
 */
#ifndef TESTS_UNIT_HOST_KERNEL_H
#define TESTS_UNIT_HOST_KERNEL_H

unsigned long host_rcu_grace_period(void);     /* returns the callbacks it ran */
unsigned long host_rcu_pending(void);          /* callbacks queued, not yet run */
unsigned long host_rcu_read_sections(void);    /* read sections the caller entered */
unsigned long host_kernel_violations(void);
unsigned long console_release_count(void);

#endif
