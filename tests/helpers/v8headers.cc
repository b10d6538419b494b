// What a V8 major's own headers say about the facts gcstats keeps in its
// table (src/v8layout.c), printed as JSON. Compiled by
// tests/integration/headers.test.mjs against the include/node directory
// of the node under test (x86_64 or aarch64: Itanium C++ ABI, which ARM's
// varies); never linked with V8.
//
// The standard headers come first, so that the `private` redefinition
// below reaches V8's headers only: it makes offsetof() of HeapStatistics'
// private members possible without changing its layout.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#if __cplusplus >= 202002L
#include <bit>
#include <compare>
#include <concepts>
#include <span>
#endif

#define private public
#include "v8-callbacks.h"
#include "v8-profiler.h"
#include "v8-statistics.h"
#include "v8-version.h"
#undef private

namespace {

// The offset of a HeapStatistics member, -1 if this V8 has none of that
// name; and its width. One detector per field, as a member's name cannot
// be a template argument.
#define HEAP_FIELD(name)                                                                  \
    template <typename T, typename = void> struct has_##name : std::false_type {};         \
    template <typename T>                                                                  \
    struct has_##name<T, std::void_t<decltype(&T::name##_)>> : std::true_type {};          \
    template <typename T> long offset_##name() {                                           \
        if constexpr (has_##name<T>::value) return static_cast<long>(offsetof(T, name##_)); \
        else return -1;                                                                    \
    }                                                                                      \
    template <typename T> long width_##name() {                                            \
        if constexpr (has_##name<T>::value) return static_cast<long>(sizeof(T::name##_));  \
        else return -1;                                                                    \
    }                                                                                      \
    template <typename T> void set_##name(T *s, unsigned long long v) {                    \
        if constexpr (has_##name<T>::value) s->name##_ = static_cast<decltype(s->name##_)>(v); \
    }

// The fields gcstats reads (gcs_heap_field_name), in its order.
#define HEAP_FIELDS(X)                                                                     \
    X(total_heap_size) X(total_heap_size_executable) X(total_physical_size)                \
    X(total_available_size) X(used_heap_size) X(heap_size_limit) X(malloced_memory)        \
    X(external_memory) X(number_of_native_contexts) X(number_of_detached_contexts)         \
    X(total_allocated_bytes)

HEAP_FIELDS(HEAP_FIELD)

// The vtable slot of a virtual member function, from a pointer to it; -1
// if it is not virtual. The pointer is two words {ptr, adj}. Itanium C++
// ABI 2.3 (x86-64): ptr is 1 + the slot's byte offset. ARM's C++ ABI
// (aarch64), where a function's address may be odd: ptr is the byte
// offset, and adj's low bit says "virtual".
template <typename PMF> long slot_of(PMF pmf) {
    static_assert(sizeof pmf == 2 * sizeof(uintptr_t), "an Itanium pointer to member function");
    uintptr_t words[2];
    std::memcpy(words, &pmf, sizeof words);
#if defined(__aarch64__) || defined(__arm__)
    if ((words[1] & 1) == 0) return -1;
    return static_cast<long>(words[0] / sizeof(void *));
#else
    if ((words[0] & 1) == 0) return -1;
    return static_cast<long>((words[0] - 1) / sizeof(void *));
#endif
}

int destroyed, deleted;

// A delegate whose destructors can be told apart when called through
// the vtable: the complete one only destroys, the deleting one also
// calls operator delete. Its own new virtual takes the first slot after
// the base's, so its slot is the number of the base's virtual functions.
struct Probe final : v8::MeasureMemoryDelegate {
    ~Probe() override { destroyed++; }
    static void operator delete(void *p) {
        deleted++;
        ::operator delete(p);
    }
    bool ShouldMeasure(v8::Local<v8::Context>) override { return false; }
#if V8_MAJOR_VERSION < 12
    // Pure up to V8 11 (it takes a vector of pairs there).
    void MeasurementComplete(const std::vector<std::pair<v8::Local<v8::Context>, size_t>> &, size_t) override {}
#endif
    virtual void AfterTheBase() {}
};

// The same for v8::AllocationProfile, which V8 deletes through its vtable.
struct ProfileProbe final : v8::AllocationProfile {
    ~ProfileProbe() override { destroyed++; }
    static void operator delete(void *p) {
        deleted++;
        ::operator delete(p);
    }
    Node *GetRootNode() override { return nullptr; }
    const std::vector<Sample> &GetSamples() override { return samples; }
    virtual void AfterTheBase() {}
    std::vector<Sample> samples;
};

// The destructors have no pointer to member: find them by calling each
// slot of a fresh T's vtable that is not one of the named functions
// (skip_a, skip_b). Returns the complete and the deleting destructor's.
template <typename T> std::pair<long, long> destructor_slots(long virtuals, long skip_a, long skip_b) {
    long complete_dtor = -1, deleting_dtor = -1;
    for (long s = 0; s < virtuals; s++) {
        if (s == skip_a || s == skip_b) continue;
        T *p = new T;
        void **vtable = *reinterpret_cast<void ***>(p);
        destroyed = deleted = 0;
        reinterpret_cast<void (*)(void *)>(vtable[s])(p);
        if (destroyed == 1 && deleted == 0) {
            complete_dtor = s;
            ::operator delete(p);
        } else if (destroyed == 1 && deleted == 1) {
            deleting_dtor = s;
        }
    }
    return {complete_dtor, deleting_dtor};
}

// The AllocationProfile layout src/v8profile.c reads, and whether
// std::vector is three pointers, begin, end and end of capacity, in this
// C++ library (libstdc++ here, as in every node binary gcstats knows).
void print_allocation_profile() {
    using Node = v8::AllocationProfile::Node;
    using Allocation = v8::AllocationProfile::Allocation;
    std::vector<Node *> v;
    v.reserve(4);
    v.push_back(nullptr);
    Node **words[3];
    static_assert(sizeof v == sizeof words, "std::vector is three pointers");
    std::memcpy(words, &v, sizeof words);
    bool begin_end_capacity = words[0] == v.data() && words[1] == v.data() + 1 && words[2] == v.data() + v.capacity();

    long root = slot_of(&v8::AllocationProfile::GetRootNode), samples = slot_of(&v8::AllocationProfile::GetSamples);
    long virtuals = slot_of(&ProfileProbe::AfterTheBase);
    auto [complete_dtor, deleting_dtor] = destructor_slots<ProfileProbe>(virtuals, root, samples);
    std::printf("\"allocation_profile\":{\"node\":{\"size\":%zu,\"name\":%zu,\"script_name\":%zu,\"script_id\":%zu,"
                "\"line_number\":%zu,\"column_number\":%zu,\"node_id\":%zu,\"children\":%zu,\"allocations\":%zu},",
                sizeof(Node), offsetof(Node, name), offsetof(Node, script_name), offsetof(Node, script_id),
                offsetof(Node, line_number), offsetof(Node, column_number), offsetof(Node, node_id),
                offsetof(Node, children), offsetof(Node, allocations));
    static_assert(sizeof(Node::line_number) == 4 && sizeof(Node::column_number) == 4, "int");
    static_assert(sizeof(Allocation::size) == 8 && sizeof(Allocation::count) == 4, "size_t and unsigned int");
    std::printf("\"allocation\":{\"size\":%zu,\"bytes\":%zu,\"count\":%zu},", sizeof(Allocation),
                offsetof(Allocation, size), offsetof(Allocation, count));
    using Sample = v8::AllocationProfile::Sample;
    static_assert(sizeof(Sample::node_id) == 4 && sizeof(Sample::size) == 8 && sizeof(Sample::count) == 4 &&
                      sizeof(Sample::sample_id) == 8,
                  "uint32_t, size_t, unsigned int and uint64_t");
#if V8_MAJOR_VERSION >= 14
    long is_live = (long)offsetof(Sample, is_live);
#else
    long is_live = -1;
#endif
    std::printf("\"sample\":{\"size\":%zu,\"node_id\":%zu,\"bytes\":%zu,\"count\":%zu,\"sample_id\":%zu,"
                "\"is_live\":%ld},",
                sizeof(Sample), offsetof(Sample, node_id), offsetof(Sample, size), offsetof(Sample, count),
                offsetof(Sample, sample_id), is_live);
    std::printf("\"vector_size\":%zu,\"vector_begin_end_capacity\":%s,\"local_size\":%zu,", sizeof(std::vector<Node *>),
                begin_end_capacity ? "true" : "false", sizeof(v8::Local<v8::String>));
    std::printf("\"vtable\":{\"GetRootNode\":%ld,\"GetSamples\":%ld,\"complete_dtor\":%ld,\"deleting_dtor\":%ld,"
                "\"virtuals\":%ld}},",
                root, samples, complete_dtor, deleting_dtor, virtuals);
}

}  // namespace

int main() {
    std::printf("{\"v8_version\":\"%d.%d\",", V8_MAJOR_VERSION, V8_MINOR_VERSION);

    std::printf("\"heap_statistics\":{\"size\":%zu,\"offsets\":{", sizeof(v8::HeapStatistics));
    const char *sep = "";
#define PRINT_OFFSET(name)                                                                 \
    if (offset_##name<v8::HeapStatistics>() >= 0) {                                        \
        std::printf("%s\"%s\":%ld", sep, #name, offset_##name<v8::HeapStatistics>());       \
        sep = ",";                                                                         \
    }
    HEAP_FIELDS(PRINT_OFFSET)
    std::printf("},\"widths\":{");
    sep = "";
#define PRINT_WIDTH(name)                                                                  \
    if (width_##name<v8::HeapStatistics>() >= 0) {                                         \
        std::printf("%s\"%s\":%ld", sep, #name, width_##name<v8::HeapStatistics>());        \
        sep = ",";                                                                         \
    }
    HEAP_FIELDS(PRINT_WIDTH)
    std::printf("},");

    // A HeapStatistics with a distinct value in every field gcstats reads
    // and a filler byte everywhere else, as bytes: gcstats' decoder must
    // find each value under its name. (The constructor is V8's, out of
    // reach without linking V8: the members are set one by one.)
    alignas(v8::HeapStatistics) unsigned char raw[sizeof(v8::HeapStatistics)];
    std::memset(raw, 0xee, sizeof raw);
    auto *stats = reinterpret_cast<v8::HeapStatistics *>(raw);
    // Values below 2^53, so that JSON numbers carry them exactly.
    unsigned long long next = 0x0001020304050607ull;
    std::printf("\"values\":{");
    sep = "";
#define SET_VALUE(name)                                                                    \
    if (offset_##name<v8::HeapStatistics>() >= 0) {                                        \
        next += 0x1111111111ull;                                                           \
        set_##name(stats, next);                                                           \
        std::printf("%s\"%s\":%llu", sep, #name, next);                                \
        sep = ",";                                                                         \
    }
    HEAP_FIELDS(SET_VALUE)
    std::printf("},\"bytes\":\"");
    for (unsigned char b : raw) std::printf("%02x", b);
    std::printf("\"},");

    std::printf("\"heap_space_statistics\":{\"size\":%zu},", sizeof(v8::HeapSpaceStatistics));
    print_allocation_profile();

    std::printf("\"gc_type\":{\"scavenge\":%d,\"minor_ms\":%d,\"mark_compact\":%d,"
                "\"incremental\":%d,\"weak_callbacks\":%d},\"gc_type_all\":%d,",
                int(v8::kGCTypeScavenge),
#if V8_MAJOR_VERSION >= 12
                int(v8::kGCTypeMinorMarkSweep),
#else
                int(v8::kGCTypeMinorMarkCompact),
#endif
                int(v8::kGCTypeMarkSweepCompact), int(v8::kGCTypeIncrementalMarking),
                int(v8::kGCTypeProcessWeakCallbacks), int(v8::kGCTypeAll));
    std::printf("\"gc_flags\":{\"forced\":%d},", int(v8::kGCCallbackFlagForced));

    long should_measure = slot_of(&v8::MeasureMemoryDelegate::ShouldMeasure);
    long measurement_complete = slot_of(&v8::MeasureMemoryDelegate::MeasurementComplete);
    long virtuals = slot_of(&Probe::AfterTheBase);
    auto [complete_dtor, deleting_dtor] = destructor_slots<Probe>(virtuals, should_measure, measurement_complete);
    std::printf("\"measure_memory_delegate\":{\"slots\":{\"complete_dtor\":%ld,\"deleting_dtor\":%ld,"
                "\"ShouldMeasure\":%ld,\"MeasurementComplete\":%ld},\"virtuals\":%ld}}\n",
                complete_dtor, deleting_dtor, should_measure, measurement_complete, virtuals);
    return 0;
}
