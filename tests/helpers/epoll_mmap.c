/* A program that is not node but uses what gcstats interposes: mmap,
 * mmap64, munmap and every epoll wait. Under the preload it must print
 * and exit exactly as without it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    size_t len = 1 << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    memset(p, 7, len);
    char *q = mmap64(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    void *bad = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1);  /* unaligned offset */
    printf("bad mmap: %s errno=%d\n", bad == MAP_FAILED ? "failed" : "mapped", errno);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev;
    int a = epoll_wait(ep, &ev, 1, 0);
    int b = epoll_pwait(ep, &ev, 1, 1, NULL);
    errno = 0;
    int c = epoll_wait(-1, &ev, 1, 0);
    printf("epoll: %d %d %d errno=%d\n", a, b, c, errno);
    printf("sum: %d\n", p[12345] + p[len - 1]);
    munmap(q, 4096);
    munmap(p, len);
    close(ep);
    fprintf(stderr, "to stderr\n");
    return 7;
}
