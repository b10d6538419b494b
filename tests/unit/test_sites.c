#include "test.h"

#include <stdio.h>
#include <string.h>

#include "sites.h"

static void object_kinds_from_paths(void **state)
{
    (void)state;
    static const struct { const char *path; enum gcs_object_kind kind; } cases[] = {
        { "/lib/x86_64-linux-gnu/libc.so.6", GCS_OBJ_SYSTEM },
        { "/lib64/ld-linux-x86-64.so.2", GCS_OBJ_SYSTEM },
        { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", GCS_OBJ_SYSTEM },
        { "/lib/x86_64-linux-gnu/libunwind.so.8", GCS_OBJ_SYSTEM },
        { "linux-vdso.so.1", GCS_OBJ_SYSTEM },
        { "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", GCS_OBJ_ALLOCATOR },
        { "/usr/lib/libtcmalloc_minimal.so.4", GCS_OBJ_ALLOCATOR },
        { "/usr/lib/x86_64-linux-gnu/libuv.so.1", GCS_OBJ_LIBUV },
        { "/app/node_modules/x/build/Release/addon.node", GCS_OBJ_NAMED },
        { "/usr/lib/x86_64-linux-gnu/libnode.so.108", GCS_OBJ_NAMED },   /* V8's: known by address */
        { "libcrypto.so.3", GCS_OBJ_NAMED },   /* "libc" is a prefix of the name, not the library */
        { "", GCS_OBJ_NAMED },                 /* the main program */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (gcs_object_kind_from_path(cases[i].path) != cases[i].kind)
            fail_msg("%s", cases[i].path);
    }
    assert_string_equal(gcs_basename("/a/b/c.node"), "c.node");
    assert_string_equal(gcs_basename("c.node"), "c.node");
    assert_string_equal(gcs_basename(""), "");
}

static void classification_skips_the_system_and_names_the_caller(void **state)
{
    (void)state;
    int caller;
    /* gcstats' frames, then V8's OS::Allocate. */
    enum gcs_object_kind v8[] = { GCS_OBJ_SELF, GCS_OBJ_V8, GCS_OBJ_V8 };
    unsigned none[6] = { 0 };
    assert_int_equal(gcs_classify_frames(v8, none, 3, &caller), GCS_OWNER_V8_HEAP);
    assert_int_equal(caller, 1);
    /* An addon calling mmap directly. */
    enum gcs_object_kind addon[] = { GCS_OBJ_NAMED, GCS_OBJ_V8 };
    unsigned named[] = { GCS_OWNER_FIRST_OBJECT + 1, 0 };
    assert_int_equal(gcs_classify_frames(addon, named, 2, &caller), GCS_OWNER_FIRST_OBJECT + 1);
    assert_int_equal(caller, 0);
    /* An addon's malloc under jemalloc: the allocator's arena. */
    enum gcs_object_kind alloc[] = { GCS_OBJ_ALLOCATOR, GCS_OBJ_ALLOCATOR, GCS_OBJ_NAMED };
    unsigned named2[] = { 0, 0, GCS_OWNER_FIRST_OBJECT };
    assert_int_equal(gcs_classify_frames(alloc, named2, 3, &caller), GCS_OWNER_MALLOC);
    assert_int_equal(caller, 2);
    /* Only the allocator's frames were unwound: still malloc, no caller. */
    assert_int_equal(gcs_classify_frames(alloc, named2, 2, &caller), GCS_OWNER_MALLOC);
    assert_int_equal(caller, 2);
    /* Debian's libuv.so; libc wrappers in between. */
    enum gcs_object_kind uv[] = { GCS_OBJ_SYSTEM, GCS_OBJ_LIBUV, GCS_OBJ_V8 };
    assert_int_equal(gcs_classify_frames(uv, none, 3, &caller), GCS_OWNER_LIBUV);
    assert_int_equal(caller, 1);
    /* JIT code, no stack, a named object past the table. */
    enum gcs_object_kind jit[] = { GCS_OBJ_UNKNOWN };
    assert_int_equal(gcs_classify_frames(jit, none, 1, &caller), GCS_OWNER_OTHER);
    assert_int_equal(gcs_classify_frames(jit, none, 0, &caller), GCS_OWNER_OTHER);
    assert_int_equal(caller, 0);
    enum gcs_object_kind far[] = { GCS_OBJ_NAMED };
    unsigned beyond[] = { GCS_OWNERS + 3 };
    assert_int_equal(gcs_classify_frames(far, beyond, 1, &caller), GCS_OWNER_OTHER);
}

static void names_refine_what_node_maps(void **state)
{
    (void)state;
    const char *iou[] = { "uv__iou_init", "uv__platform_loop_init", "uv_loop_init" };
    assert_int_equal(gcs_refine_owner(GCS_OWNER_V8_HEAP, iou, 3), GCS_OWNER_LIBUV);
    const char *code[] = { "_ZN2v84base2OS8AllocateEPvmmNS0_16MemoryPermissionE",
                           "_ZN2v88internal17VirtualMemoryCage15InitReservationE",
                           "_ZN2v88internal9CodeRange15InitReservationEPNS_13PageAllocatorEm" };
    assert_int_equal(gcs_refine_owner(GCS_OWNER_V8_HEAP, code, 3), GCS_OWNER_V8_CODE);
    const char *page[] = { "_ZN2v84base2OS8AllocateEPvmmNS0_16MemoryPermissionE", NULL,
                           "_ZN2v88internal15MemoryAllocator21AllocateAlignedMemoryEmmmNS0_15AllocationSpaceE" };
    assert_int_equal(gcs_refine_owner(GCS_OWNER_V8_HEAP, page, 3), GCS_OWNER_V8_HEAP);
    const char *cppgc[] = { "_ZN5cppgc8internal11GCInfoTableC2ERNS_13PageAllocatorE" };
    assert_int_equal(gcs_refine_owner(GCS_OWNER_V8_HEAP, cppgc, 1), GCS_OWNER_V8_HEAP);
    const char *node_own[] = { "_ZN4node12_GLOBAL__N_111MapStaticCodeToLargePagesEv", "_ZN4node5StartEv" };
    assert_int_equal(gcs_refine_owner(GCS_OWNER_V8_HEAP, node_own, 2), GCS_OWNER_OTHER);
    /* An unnamed frame may be V8's: keep the owner. */
    const char *partly[] = { "_ZN4node5StartEv", NULL };
    assert_int_equal(gcs_refine_owner(GCS_OWNER_V8_HEAP, partly, 2), GCS_OWNER_V8_HEAP);
    assert_int_equal(gcs_refine_owner(GCS_OWNER_V8_HEAP, partly, 0), GCS_OWNER_V8_HEAP);
    /* Only V8's sites are refined. */
    assert_int_equal(gcs_refine_owner(GCS_OWNER_FIRST_OBJECT, iou, 3), GCS_OWNER_FIRST_OBJECT);
    assert_int_equal(gcs_refine_owner(GCS_OWNER_MALLOC, code, 3), GCS_OWNER_MALLOC);
}

static struct gcs_site_table table;

static void sites_are_found_by_their_frames(void **state)
{
    (void)state;
    memset(&table, 0, sizeof table);
    uintptr_t a[] = { 0x1000, 0x2000, 0x3000 };
    uintptr_t b[] = { 0x1000, 0x2000, 0x3001 };
    uint64_t ha = gcs_frames_hash(a, 3), hb = gcs_frames_hash(b, 3);
    assert_true(ha != hb);
    assert_true(gcs_frames_hash(a, 2) != ha);   /* a prefix is another stack */
    assert_int_equal(gcs_sites_find(&table, a, 3, ha), 0);
    unsigned sa = gcs_sites_add(&table, a, 3, ha, GCS_OWNER_V8_HEAP, 1);
    assert_int_equal(sa, 1);
    assert_int_equal(gcs_sites_find(&table, a, 3, ha), sa);
    assert_int_equal(gcs_sites_find(&table, b, 3, hb), 0);
    assert_int_equal(gcs_sites_find(&table, a, 2, gcs_frames_hash(a, 2)), 0);
    assert_int_equal(table.sites[sa].owner, GCS_OWNER_V8_HEAP);
    assert_int_equal(table.sites[sa].caller, 1);
    /* A hash collision does not confuse two stacks. */
    unsigned sb = gcs_sites_add(&table, b, 3, ha, GCS_OWNER_OTHER, 0);
    assert_int_equal(gcs_sites_find(&table, b, 3, ha), sb);
    assert_int_equal(gcs_sites_find(&table, a, 3, ha), sa);
    /* Too many frames is refused. */
    uintptr_t many[GCS_SITE_FRAMES + 1] = { 0 };
    assert_int_equal(gcs_sites_add(&table, many, GCS_SITE_FRAMES + 1, 1, 0, 0), 0);
}

static void a_twin_is_found_by_frames_and_owner(void **state)
{
    (void)state;
    memset(&table, 0, sizeof table);
    uintptr_t a[] = { 0x4000 };
    uintptr_t b[] = { 0x5000 };
    uint64_t ha = gcs_frames_hash(a, 1);
    unsigned first = gcs_sites_add(&table, a, 1, ha, GCS_OWNER_V8_HEAP, 0);
    /* A colliding stack between them, so that the chain is walked past it. */
    unsigned other = gcs_sites_add(&table, b, 1, ha, GCS_OWNER_V8_CODE, 0);
    assert_int_equal(gcs_sites_find_owned(&table, a, 1, ha, GCS_OWNER_V8_CODE), 0);
    assert_int_equal(gcs_sites_find_owned(&table, a, 1, ha, GCS_OWNER_V8_HEAP), first);
    unsigned twin = gcs_sites_add(&table, a, 1, ha, GCS_OWNER_V8_CODE, 0);
    assert_true(twin != first && twin != other && twin != 0);
    assert_int_equal(gcs_sites_find_owned(&table, a, 1, ha, GCS_OWNER_V8_CODE), twin);
    assert_int_equal(gcs_sites_find_owned(&table, a, 1, ha, GCS_OWNER_V8_HEAP), first);
    assert_int_equal(gcs_sites_find_owned(&table, b, 1, ha, GCS_OWNER_V8_CODE), other);
    assert_int_equal(gcs_sites_find_owned(&table, a, 1, ha, GCS_OWNER_OTHER), 0);
    assert_int_equal(gcs_sites_find(&table, a, 1, ha), first);   /* frames alone: the first */
}

static void a_full_table_answers_site_zero(void **state)
{
    (void)state;
    memset(&table, 0, sizeof table);
    for (uintptr_t i = 1; i < GCS_SITES; i++) {
        uintptr_t f[] = { i };
        uint64_t h = gcs_frames_hash(f, 1);
        assert_int_equal(gcs_sites_add(&table, f, 1, h, 0, 0), i);
    }
    uintptr_t extra[] = { 999999 };
    assert_int_equal(gcs_sites_add(&table, extra, 1, gcs_frames_hash(extra, 1), 0, 0), 0);
    for (uintptr_t i = 1; i < GCS_SITES; i += 97) {
        uintptr_t f[] = { i };
        assert_int_equal(gcs_sites_find(&table, f, 1, gcs_frames_hash(f, 1)), i);
    }
    assert_int_equal(gcs_sites_find(&table, extra, 1, gcs_frames_hash(extra, 1)), 0);
}

static void object_names_are_bounded_and_clean(void **state)
{
    (void)state;
    static struct gcs_object_names names;
    memset(&names, 0, sizeof names);
    assert_string_equal(gcs_owner_name(&names, GCS_OWNER_V8_HEAP), "v8_heap");
    assert_string_equal(gcs_owner_name(&names, GCS_OWNER_MALLOC), "malloc");
    assert_null(gcs_owner_name(&names, GCS_OWNER_FIRST_OBJECT));
    unsigned a = gcs_object_owner(&names, "addon.node");
    assert_int_equal(a, GCS_OWNER_FIRST_OBJECT);
    assert_int_equal(gcs_object_owner(&names, "addon.node"), a);
    assert_string_equal(gcs_owner_name(&names, a), "addon.node");
    unsigned q = gcs_object_owner(&names, "we\"ird name\xff.so");
    assert_string_equal(gcs_owner_name(&names, q), "we_ird_name_.so");
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    unsigned l = gcs_object_owner(&names, longname);
    assert_int_equal(strlen(gcs_owner_name(&names, l)), GCS_OBJECT_NAME_MAX - 1);
    assert_int_equal(gcs_object_owner(&names, longname), l);
    assert_int_equal(gcs_object_owner(&names, ""), GCS_OWNER_OTHER);
    for (int i = 0; i < 20; i++) {
        char n[16];
        snprintf(n, sizeof n, "lib%d.so", i);
        unsigned o = gcs_object_owner(&names, n);
        assert_true(o < GCS_OWNERS);
    }
    assert_int_equal(gcs_object_owner(&names, "one-too-many.so"), GCS_OWNER_OTHER);
    assert_null(gcs_owner_name(&names, GCS_OWNERS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(object_kinds_from_paths),
        cmocka_unit_test(classification_skips_the_system_and_names_the_caller),
        cmocka_unit_test(names_refine_what_node_maps),
        cmocka_unit_test(sites_are_found_by_their_frames),
        cmocka_unit_test(a_twin_is_found_by_frames_and_owner),
        cmocka_unit_test(a_full_table_answers_site_zero),
        cmocka_unit_test(object_names_are_bounded_and_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
