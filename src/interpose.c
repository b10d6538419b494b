/* mmap and mmap64 are both defined here: keep the headers from renaming one
 * to the other. */
#undef _FILE_OFFSET_BITS

#include "interpose.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "memmap.h"
#include "watch.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define EXPORT __attribute__((visibility("default")))
/* initial-exec: reading it never allocates (the first mmap may come from
 * inside malloc or the loader). */
#define TLS __thread __attribute__((tls_model("initial-exec")))

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static void *(*real_mremap)(void *, size_t, size_t, int, ...);
static int (*real_mprotect)(void *, size_t, int);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);

/* Set while this thread is inside one of the interposers (or for good on
 * the writer thread). A signal handler that maps memory runs on the same
 * thread in the middle of it: volatile sig_atomic_t, so that the handler
 * sees the value the interrupted code stored, and is forwarded. */
static TLS volatile sig_atomic_t in_hook;

void gcs_interpose_resolve(void)
{
    in_hook = 1;   /* dlsym may allocate, and the allocator may mmap */
    real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    real_mmap64 = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap64");
    real_munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
    real_mremap = (void *(*)(void *, size_t, size_t, int, ...))dlsym(RTLD_NEXT, "mremap");
    real_mprotect = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "mprotect");
    real_epoll_wait = (int (*)(int, struct epoll_event *, int, int))dlsym(RTLD_NEXT, "epoll_wait");
    real_epoll_pwait = (int (*)(int, struct epoll_event *, int, int, const sigset_t *))
        dlsym(RTLD_NEXT, "epoll_pwait");
    real_epoll_pwait2 = (int (*)(int, struct epoll_event *, int, const struct timespec *,
                                 const sigset_t *))dlsym(RTLD_NEXT, "epoll_pwait2");
    in_hook = 0;
}

void gcs_interpose_quiet_thread(void) { in_hook = 1; }

void gcs_interpose_quietly(void (*fn)(void))
{
    sig_atomic_t was = in_hook;
    in_hook = 1;
    fn();
    in_hook = was;
}

/* ---- The mmap family: forward, then count under the guard -------------- */

/* The guard is taken before the real call, not after it: if another
 * library interposes these functions after gcstats (a second copy of
 * gcstats, a profiler), its own work inside the "real" call may map
 * memory again, and that must come back through here as a plain
 * forward, or both would unwind the same stack inside each other
 * (libunwind's one-time set-up waits on itself). */
#define ENTER()                   \
    bool outermost = !in_hook;    \
    if (outermost)                \
        in_hook = 1
#define LEAVE()                   \
    if (outermost)                \
        in_hook = 0

static void *do_mmap(void *(*real)(void *, size_t, int, int, int, off_t), void *addr, size_t len,
                     int prot, int flags, int fd, off_t off, const void *caller)
{
    ENTER();
    void *p = real ? real(addr, len, prot, flags, fd, off)
                   : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (outermost) {
        int saved = errno;
        if (p != MAP_FAILED && gcs_memmap_enabled())
            gcs_memmap_on_map((uintptr_t)p, len, prot, caller);
        gcs_watch_mapped(caller);
        errno = saved;
    }
    LEAVE();
    return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return do_mmap(real_mmap, addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return do_mmap(real_mmap64, addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

EXPORT int munmap(void *addr, size_t len)
{
    ENTER();
    int r = real_munmap ? real_munmap(addr, len) : (int)syscall(SYS_munmap, addr, len);
    if (outermost && r == 0 && gcs_memmap_enabled()) {
        int saved = errno;
        gcs_memmap_on_unmap((uintptr_t)addr, len);
        errno = saved;
    }
    LEAVE();
    return r;
}

EXPORT void *mremap(void *old_addr, size_t old_len, size_t new_len, int flags, ...)
{
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    ENTER();
    void *p = real_mremap ? real_mremap(old_addr, old_len, new_len, flags, new_addr)
                          : (void *)syscall(SYS_mremap, old_addr, old_len, new_len, flags, new_addr);
    if (outermost && p != MAP_FAILED && gcs_memmap_enabled()) {
        int saved = errno;
        gcs_memmap_on_remap((uintptr_t)old_addr, old_len, (uintptr_t)p, new_len,
                            (flags & MREMAP_DONTUNMAP) != 0);
        errno = saved;
    }
    LEAVE();
    return p;
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
    ENTER();
    int r = real_mprotect ? real_mprotect(addr, len, prot) : (int)syscall(SYS_mprotect, addr, len, prot);
    if (outermost && r == 0 && gcs_memmap_enabled()) {
        int saved = errno;
        gcs_memmap_on_protect((uintptr_t)addr, len, prot);
        errno = saved;
    }
    LEAVE();
    return r;
}

/* ---- The epoll waits: a look at the isolate, then the wait ------------- */

/* Before the wait, not around it: the thread may block here for long.
 * may_block: the timeout is not zero (a zero one only looks). */
static void before_poll(int epfd, bool may_block)
{
    if (in_hook)
        return;
    in_hook = 1;
    int saved = errno;
    gcs_watch_poll(epfd, may_block);
    errno = saved;
    in_hook = 0;
}

EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    before_poll(epfd, timeout != 0);
    if (real_epoll_wait)
        return real_epoll_wait(epfd, events, maxevents, timeout);
#ifdef SYS_epoll_wait
    return (int)syscall(SYS_epoll_wait, epfd, events, maxevents, timeout);
#else
    return (int)syscall(SYS_epoll_pwait, epfd, events, maxevents, timeout, NULL, _NSIG / 8);
#endif
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
                       const sigset_t *sigmask)
{
    before_poll(epfd, timeout != 0);
    if (real_epoll_pwait)
        return real_epoll_pwait(epfd, events, maxevents, timeout, sigmask);
    return (int)syscall(SYS_epoll_pwait, epfd, events, maxevents, timeout, sigmask, _NSIG / 8);
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
                        const struct timespec *timeout, const sigset_t *sigmask)
{
    before_poll(epfd, timeout == NULL || timeout->tv_sec != 0 || timeout->tv_nsec != 0);
    if (real_epoll_pwait2)
        return real_epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
    return (int)syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout, sigmask, _NSIG / 8);
}
