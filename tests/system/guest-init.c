/* The whole userland of the system tests' PV guests (their /init): says it is
 * up on the console and sleeps for ever. No libc: a few hundred bytes, where
 * busybox would add a megabyte to the dom0 image that carries it. x86-64 Linux
 * system calls only: write(2) to the console the kernel opened as fd 1, then
 * pause(2). */
static long linux_syscall(long number, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

void _start(void) {
    static const char up[] = "GUEST-UP\n";
    linux_syscall(1 /* write */, 1, (long)up, sizeof up - 1);
    for (;;) linux_syscall(34 /* pause */, 0, 0, 0);
}
