/* Every symbol gcstats looks up (dlsym) in the process it is preloaded
 * into, by mangled name, named here once: src/v8api.c binds them, and
 * tests/helpers/v8symbols_dump.c lists them for the test that looks for
 * them in node binaries of other architectures (tests/arm64).
 *
 * slot is the member of v8api.c's table the address goes to. */
#ifndef GCSTATS_V8SYMBOLS_H
#define GCSTATS_V8SYMBOLS_H

/* The parameter list of the GC callback in Isolate::AddGC*Callback. */
#define GCS_GC_CALLBACK_SIG "EPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvE"

/* X(slot, "mangled name"): without any of these gcstats does not start
 * (one error line); the first, V8::GetVersion, tells a V8 from no V8. */
#define GCS_V8_REQUIRED_SYMBOLS(X)                                                              \
    X(get_version, "_ZN2v82V810GetVersionEv")                                                   \
    X(try_get_current, "_ZN2v87Isolate13TryGetCurrentEv")                                       \
    X(request_interrupt, "_ZN2v87Isolate16RequestInterruptEPFvPS0_PvES2_")                      \
    X(add_prologue, "_ZN2v87Isolate21AddGCPrologueCallback" GCS_GC_CALLBACK_SIG "S4_S2_")       \
    X(add_epilogue, "_ZN2v87Isolate21AddGCEpilogueCallback" GCS_GC_CALLBACK_SIG "S4_S2_")       \
    X(get_heap_statistics, "_ZN2v87Isolate17GetHeapStatisticsEPNS_14HeapStatisticsE")           \
    X(heap_statistics_ctor, "_ZN2v814HeapStatisticsC1Ev")                                       \
    X(is_in_use, "_ZN2v87Isolate7IsInUseEv")

/* Used when present. X(slot, "mangled name", up_to_v8): exported by every
 * V8 up to that major (0: by all of them); in a later one the symbol may
 * be gone. isolate_key_created_ is V8 10's (Node 18). */
#define GCS_V8_OPTIONAL_SYMBOLS(X)                                                              \
    X(isolate_key_created, "_ZN2v88internal7Isolate20isolate_key_created_E", 10)                \
    X(get_code_range, "_ZN2v87Isolate12GetCodeRangeEPPvPm", 0)                                  \
    X(measure_memory, "_ZN2v87Isolate13MeasureMemoryESt10unique_ptrINS_21MeasureMemoryDelegate" \
                      "ESt14default_deleteIS2_EENS_22MeasureMemoryExecutionE", 0)               \
    X(get_current_event_loop, "_ZN4node19GetCurrentEventLoopEPN2v87IsolateE", 0)                \
    X(uv_backend_fd, "uv_backend_fd", 0)                                                        \
    X(uv_default_loop, "uv_default_loop", 0)

/* V8's sampling heap profiler, and what reading and stopping it needs
 * (src/v8profile.c binds them): without one of them culprits are off (one
 * error line), except that one of the two string writers is enough.
 * X(slot, "mangled name", from_v8, up_to_v8): exported by every V8 from
 * one major up to the other (0: no bound). */
#define GCS_V8_PROFILER_SYMBOLS(X)                                                              \
    X(get_heap_profiler, "_ZN2v87Isolate15GetHeapProfilerEv", 0, 0)                             \
    X(start, "_ZN2v812HeapProfiler25StartSamplingHeapProfilerEmiNS0_13SamplingFlagsE", 0, 0)    \
    X(stop, "_ZN2v812HeapProfiler24StopSamplingHeapProfilerEv", 0, 0)                           \
    X(get_profile, "_ZN2v812HeapProfiler20GetAllocationProfileEv", 0, 0)                        \
    X(add_cleanup_hook, "_ZN4node25AddEnvironmentCleanupHookEPN2v87IsolateEPFvPvES3_", 0, 0)    \
    X(write_utf8, "_ZNK2v86String9WriteUtf8EPNS_7IsolateEPciPii", 0, 13)                        \
    X(write_utf8_v2, "_ZNK2v86String11WriteUtf8V2EPNS_7IsolateEPcmiPm", 13, 0)

#endif
