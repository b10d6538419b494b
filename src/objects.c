#include "objects.h"

#include <link.h>

struct search {
    uintptr_t addr;
    struct gcs_object_info *out;
};

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct search *s = data;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    bool inside = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (start < lo)
            lo = start;
        if (end > hi)
            hi = end;
        if (s->addr >= start && s->addr < end)
            inside = true;
    }
    if (!inside)
        return 0;
    s->out->lo = lo;
    s->out->hi = hi;
    s->out->bias = info->dlpi_addr;
    s->out->path = info->dlpi_name ? info->dlpi_name : "";
    return 1;
}

bool gcs_object_at(uintptr_t addr, struct gcs_object_info *out)
{
    struct search s = { addr, out };
    return dl_iterate_phdr(visit, &s) != 0;
}
