/* Names for code addresses: which object, which function.
 *
 * Node's internal functions (libuv's among them) are not in the dynamic
 * symbol table that dladdr reads, so the object's file is opened and its
 * full symbol table (.symtab, else .dynsym) scanned, once per batch.
 * File I/O and allocation (C++ demangling): only on the writer thread,
 * never on a JavaScript thread or inside an interposer. */
#ifndef GCSTATS_SYMBOLS_H
#define GCSTATS_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"   /* GCS_FUNCTION_MAX, GCS_OBJECT_MAX */

struct gcs_symbol_query {
    uintptr_t addr;                       /* in: a return address minus one */
    char raw[GCS_FUNCTION_MAX];           /* out: the symbol as stored, "" if none */
    char function[GCS_FUNCTION_MAX];      /* out: demangled when C++, "" if none */
    char object[GCS_OBJECT_MAX];          /* out: the object's base name, "" if none */
    uint64_t offset;                      /* out: from the function's start, else the object's */
};

/* Answers every query; queries may be in any order. */
void gcs_symbolize(struct gcs_symbol_query *q, size_t n);

#endif
