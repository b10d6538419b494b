#include "outrules.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum gcs_sticky_rule gcs_sticky_check(uint32_t dir_mode, uint32_t dir_uid,
                                      uint32_t obj_mode, uint32_t obj_uid, uint32_t euid)
{
    bool shared_sticky = (dir_mode & S_ISVTX) && (dir_mode & S_IWOTH);
    if (!shared_sticky || obj_uid == euid || obj_uid == dir_uid)
        return GCS_STICKY_ALLOW;
    if (S_ISLNK(obj_mode))
        return GCS_STICKY_REFUSE_SYMLINK;
    if (S_ISREG(obj_mode))
        return GCS_STICKY_REFUSE_REGULAR;
    if (S_ISFIFO(obj_mode))
        return GCS_STICKY_REFUSE_FIFO;
    return GCS_STICKY_ALLOW;   /* directories, devices, sockets: the kernel's rules leave them be */
}

const char *gcs_clip(char *out, size_t keep, const char *s)
{
    size_t len = strlen(s);
    if (len <= keep) {
        memcpy(out, s, len + 1);
        return out;
    }
    /* Back off continuation bytes so that no UTF-8 character is split. */
    size_t cut = keep;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(out, s, cut);
    memcpy(out + cut, "...", 4);
    return out;
}

void gcs_sticky_message(char *out, size_t cap, const char *path, const char *object,
                        enum gcs_sticky_rule rule, uint32_t obj_uid)
{
    /* 134 bytes of fixed text and a uid, 63 of path and 47 of object at
     * most: 244, under the 255 of an error line's reason. */
    char p[64], o[48];
    const char *what = rule == GCS_STICKY_REFUSE_SYMLINK ? "symlink"
                     : rule == GCS_STICKY_REFUSE_FIFO ? "FIFO" : "file";
    gcs_clip(p, sizeof p - 4, path);
    gcs_clip(o, sizeof o - 4, object);
    snprintf(out, cap, "GCSTATS_FILE=%s: refused %s %s: owner uid %u is neither ours nor the sticky "
             "world-writable directory's; gcstats writes nothing", p, what, o, obj_uid);
}

bool gcs_fragment_needs_newline(bool regular_file, int64_t size_now, int64_t fragment_end)
{
    return !regular_file || size_now >= fragment_end;
}

int64_t gcs_next_deadline(int64_t deadline, uint32_t period_ms, int64_t now, uint64_t *missed)
{
    *missed = 0;
    if (period_ms == 0)
        return INT64_MAX;
    if (now < deadline)
        return deadline;
    uint64_t behind = (uint64_t)(now - deadline) / period_ms;
    *missed = behind;
    return deadline + (int64_t)(behind + 1) * period_ms;
}
