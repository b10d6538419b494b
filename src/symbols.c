#include "symbols.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objects.h"
#include "sites.h"

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);

/* "ns::Class::f(int, char)" -> "ns::Class::f": the arguments make lines
 * long and say little. */
static void drop_arguments(char *s)
{
    int depth = 0;
    for (char *p = s; *p; p++) {
        if (*p == '<')
            depth++;
        else if (*p == '>' && depth > 0)
            depth--;
        else if (*p == '(' && depth == 0 && p != s) {
            *p = '\0';
            return;
        }
    }
}

static void set_function(struct gcs_symbol_query *q, const char *name, demangle_fn demangle)
{
    copy_trunc(q->raw, sizeof q->raw, name);
    if (demangle != NULL && name[0] == '_' && name[1] == 'Z') {
        int status = -1;
        char *d = demangle(name, NULL, NULL, &status);
        if (d != NULL && status == 0) {
            drop_arguments(d);
            copy_trunc(q->function, sizeof q->function, d);
        }
        free(d);
        if (status == 0)
            return;
    }
    copy_trunc(q->function, sizeof q->function, name);
}

struct pending {
    struct gcs_symbol_query *q;
    uintptr_t bias;
};

static int by_addr(const void *a, const void *b)
{
    uintptr_t x = ((const struct pending *)a)->q->addr, y = ((const struct pending *)b)->q->addr;
    return x < y ? -1 : x > y;
}

/* Reads exactly len bytes at off; false on a short read. */
static bool read_at(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}

/* Symbols read per pread: the symbol table is streamed through a small
 * buffer, and only the names of matching symbols are read, so that
 * naming a site never holds a large table (node's is several MB) in
 * memory: what the writer reads would otherwise show in the process' RSS
 * and its peak. */
#define SYMS_PER_READ 512
#define NAME_MAX_READ 512

/* Scans one object's symbol table for the queries in p[0..n), sorted by address. */
static void scan_object(const char *path, struct pending *p, size_t n, demangle_fn demangle)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    ElfW(Ehdr) eh;
    ElfW(Shdr) *sh = NULL;
    if (fstat(fd, &st) != 0 || !read_at(fd, &eh, sizeof eh, 0) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0 ||
        (sh = calloc(eh.e_shnum, sizeof *sh)) == NULL ||
        !read_at(fd, sh, (size_t)eh.e_shnum * sizeof *sh, eh.e_shoff)) {
        free(sh);
        close(fd);
        return;
    }
    uint64_t size = (uint64_t)st.st_size;
    const ElfW(Shdr) *symtab = NULL;
    for (int i = 0; i < eh.e_shnum; i++)
        if (sh[i].sh_type == SHT_SYMTAB)
            symtab = &sh[i];
    if (symtab == NULL)
        for (int i = 0; i < eh.e_shnum; i++)
            if (sh[i].sh_type == SHT_DYNSYM)
                symtab = &sh[i];
    const ElfW(Shdr) *strtab = symtab != NULL && symtab->sh_link < eh.e_shnum ? &sh[symtab->sh_link] : NULL;
    if (symtab == NULL || strtab == NULL || symtab->sh_offset > size || symtab->sh_size > size - symtab->sh_offset ||
        strtab->sh_offset > size || strtab->sh_size > size - strtab->sh_offset) {
        free(sh);
        close(fd);
        return;
    }
    static ElfW(Sym) syms[SYMS_PER_READ];   /* writer thread only */
    static char name[NAME_MAX_READ];
    size_t nsyms = symtab->sh_size / sizeof(ElfW(Sym));
    uintptr_t bias = p[0].bias;
    for (size_t first = 0; first < nsyms; first += SYMS_PER_READ) {
        size_t count = nsyms - first < SYMS_PER_READ ? nsyms - first : SYMS_PER_READ;
        if (!read_at(fd, syms, count * sizeof syms[0], symtab->sh_offset + first * sizeof syms[0]))
            break;
        for (size_t k = 0; k < count; k++) {
            const ElfW(Sym) *sym = &syms[k];
            int type = ELF64_ST_TYPE(sym->st_info);
            if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym->st_size == 0 ||
                sym->st_shndx == SHN_UNDEF || sym->st_name >= strtab->sh_size)
                continue;
            uintptr_t lo = bias + sym->st_value, hi = lo + sym->st_size;
            /* First query at or above lo. */
            size_t a = 0, b = n;
            while (a < b) {
                size_t mid = (a + b) / 2;
                if (p[mid].q->addr < lo)
                    a = mid + 1;
                else
                    b = mid;
            }
            bool have_name = false;
            for (; a < n && p[a].q->addr < hi; a++) {
                struct gcs_symbol_query *q = p[a].q;
                /* Prefer a global name over a local alias of the same code. */
                if (q->raw[0] != '\0' && ELF64_ST_BIND(sym->st_info) == STB_LOCAL)
                    continue;
                if (!have_name) {
                    uint64_t left = strtab->sh_size - sym->st_name;
                    size_t len = left < sizeof name ? (size_t)left : sizeof name;
                    if (!read_at(fd, name, len, strtab->sh_offset + sym->st_name) ||
                        memchr(name, '\0', len) == NULL)
                        break;   /* no name, or one longer than any worth showing */
                    have_name = true;
                }
                set_function(q, name, demangle);
                q->offset = q->addr - lo;
            }
        }
    }
    free(sh);
    close(fd);
}

void gcs_symbolize(struct gcs_symbol_query *q, size_t n)
{
    demangle_fn demangle = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
    struct pending *p = calloc(n ? n : 1, sizeof *p);
    const char **paths = calloc(n ? n : 1, sizeof *paths);
    if (p == NULL || paths == NULL) {
        free(p);
        free(paths);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        q[i].raw[0] = q[i].function[0] = q[i].object[0] = '\0';
        q[i].offset = 0;
        struct gcs_object_info o;
        p[i].q = &q[i];
        if (!gcs_object_at(q[i].addr, &o))
            continue;
        bool main_program = o.path[0] == '\0';
        copy_trunc(q[i].object, sizeof q[i].object,
                   main_program ? program_invocation_short_name : gcs_basename(o.path));
        q[i].offset = q[i].addr - o.bias;
        p[i].bias = o.bias;
        paths[i] = main_program ? "/proc/self/exe" : o.path;
    }
    /* One scan per object: group the queries by object (same bias and path). */
    bool *done = calloc(n ? n : 1, sizeof *done);
    struct pending *group = calloc(n ? n : 1, sizeof *group);
    if (done != NULL && group != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (done[i] || paths[i] == NULL)
                continue;
            size_t g = 0;
            for (size_t j = i; j < n; j++) {
                if (!done[j] && paths[j] != NULL && p[j].bias == p[i].bias &&
                    strcmp(paths[j], paths[i]) == 0) {
                    group[g++] = p[j];
                    done[j] = true;
                }
            }
            qsort(group, g, sizeof *group, by_addr);
            scan_object(paths[i], group, g, demangle);
        }
    }
    free(done);
    free(group);
    free(p);
    free(paths);
}
